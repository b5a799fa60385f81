"""pay_run and pay_run_item: a payer's pay run over many bills, each paid by its own payment
intent (the intents and their Idempotency-Keys are committed with the run's start).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types and tables.BILL_ID_TYPE, as in 0001 and 0007.
MONEY = sa.Numeric(20, 6).with_variant(sa.String(40), "sqlite")
AT = sa.DateTime(timezone=True)
BILL_ID = sa.String(2048).with_variant(sa.String(255), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pay_run",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("company_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("payer_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("base_currency", sa.String(3), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("message_ts", sa.String(64), nullable=True),
        sa.Column("view_id", sa.String(64), nullable=True),
        sa.Column("locked_until", AT, nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.Column("finished_at", AT, nullable=True),
        sa.CheckConstraint("state IN ('draft', 'running', 'finished')", name="ck_pay_run_state"),
    )
    op.create_index("ix_pay_run_open", "pay_run", ["state", "locked_until"])
    op.create_table(
        "pay_run_item",
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("pay_run.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("bill_id", BILL_ID, nullable=False),
        sa.Column("reference", sa.String(255), nullable=True),
        sa.Column("supplier", sa.String(255), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("intent_id", sa.Uuid(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("pay_run_item")
    op.drop_index("ix_pay_run_open", table_name="pay_run")
    op.drop_table("pay_run")
