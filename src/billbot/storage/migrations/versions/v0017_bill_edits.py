"""bill_edit: one row per submitted Edit form, committed with its Idempotency-Key before
update bill is sent, so a double submit or a retry updates the bill once.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types / tables as of this revision.
AT = sa.DateTime(timezone=True)
BILL_ID = sa.String(2048).with_variant(sa.String(255), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bill_edit",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("request_key", sa.String(255), nullable=False),
        sa.Column("company_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("bill_id", BILL_ID, nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("bill_json", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("finished_at", AT, nullable=True),
        sa.CheckConstraint("state IN ('sending', 'done', 'failed')", name="ck_bill_edit_state"),
        sa.UniqueConstraint("request_key", name="uq_bill_edit_request"),
    )


def downgrade() -> None:
    op.drop_table("bill_edit")
