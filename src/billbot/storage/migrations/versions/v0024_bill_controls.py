"""bill_control: the controls each bill met when last checked, for its row's warning line.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types / tables as of this revision.
AT = sa.DateTime(timezone=True)
BILL_ID = sa.String(2048).with_variant(sa.String(255), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bill_control",
        sa.Column("company_id", sa.String(64), primary_key=True),
        sa.Column("connection_id", sa.String(64), primary_key=True),
        sa.Column("bill_id", BILL_ID, primary_key=True),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("checked_at", AT, nullable=False),
        sa.Column("bill_modified", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("bill_control")
