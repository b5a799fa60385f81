"""bill_copy: every message that shows a bill's row, with the figures it shows, so all copies
are re-rendered when the bill changes and a click is judged against what its copy showed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types, as in 0001.
MONEY = sa.Numeric(20, 6).with_variant(sa.String(40), "sqlite")
AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bill_copy",
        sa.Column("channel_id", sa.String(64), primary_key=True),
        sa.Column("ts", sa.String(64), primary_key=True),
        sa.Column("bill_id", sa.String(255), primary_key=True),
        sa.Column("company_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("digest_ts", sa.String(64), nullable=True),
        sa.Column("token", sa.String(16), nullable=False),
        sa.Column("amount_due", MONEY, nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", AT, nullable=False),
    )
    op.create_index("ix_bill_copy_bill", "bill_copy", ["company_id", "connection_id", "bill_id"])
    op.create_index("ix_bill_copy_digest", "bill_copy", ["channel_id", "digest_ts"])


def downgrade() -> None:
    op.drop_index("ix_bill_copy_digest", table_name="bill_copy")
    op.drop_index("ix_bill_copy_bill", table_name="bill_copy")
    op.drop_table("bill_copy")
