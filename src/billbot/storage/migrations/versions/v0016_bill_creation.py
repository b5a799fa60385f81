"""bill_creation and created_bill: Create bill's intent (keys committed before any Codat call)
and the record of who created which bill.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types / tables as of this revision.
AT = sa.DateTime(timezone=True)
BILL_ID = sa.String(2048).with_variant(sa.String(255), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bill_creation",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("request_key", sa.String(255), nullable=False),
        sa.Column("company_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("supplier_key", sa.String(64), nullable=False),
        sa.Column("supplier_id", sa.String(255), nullable=True),
        sa.Column("supplier_json", sa.Text(), nullable=True),
        sa.Column("bill_key", sa.String(64), nullable=False),
        sa.Column("bill_json", sa.Text(), nullable=False),
        sa.Column("bill_id", BILL_ID, nullable=True),
        sa.Column("file_id", sa.String(64), nullable=True),
        sa.Column("file_sent_at", AT, nullable=True),
        sa.Column("attachment_id", sa.String(255), nullable=True),
        sa.Column("channel_id", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("locked_until", AT, nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.Column("finished_at", AT, nullable=True),
        sa.Column("shown_at", AT, nullable=True),
        sa.CheckConstraint("step IN ('supplier', 'bill', 'attachment', 'done', 'failed')",
                           name="ck_bill_creation_step"),
        sa.UniqueConstraint("request_key", name="uq_bill_creation_request"),
    )
    op.create_table(
        "created_bill",
        sa.Column("company_id", sa.String(64), primary_key=True),
        sa.Column("connection_id", sa.String(64), primary_key=True),
        sa.Column("bill_id", BILL_ID, primary_key=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("creation_id", sa.Uuid(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("created_bill")
    op.drop_table("bill_creation")
