"""delegation and reminder_sent; approval.acted_by and payment_intent.on_behalf_of: a delegate
acts with an absent person's role (and the audit says on whose behalf), and reminders and
escalations are claimed once per bill, recipient and local day.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types, as in 0001.
AT = sa.DateTime(timezone=True)
BILL_ID = sa.String(2048).with_variant(sa.String(255), "sqlite")


def upgrade() -> None:
    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("absent_id", sa.String(64), nullable=False),
        sa.Column("delegate_id", sa.String(64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("starts_at", AT, nullable=False),
        sa.Column("ends_at", AT, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("ended_at", AT, nullable=True),
        sa.Column("ended_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_delegation_delegate", "delegation", ["delegate_id", "starts_at"])
    op.create_index("ix_delegation_absent", "delegation", ["absent_id", "starts_at"])
    op.create_table(
        "reminder_sent",
        sa.Column("company_id", sa.String(64), primary_key=True),
        sa.Column("connection_id", sa.String(64), primary_key=True),
        sa.Column("bill_id", BILL_ID, primary_key=True),
        sa.Column("recipient", sa.String(64), primary_key=True),
        sa.Column("local_date", sa.Date(), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("claimed_at", AT, nullable=False),
        sa.Column("sent_at", AT, nullable=True),
        sa.Column("message_ts", sa.String(64), nullable=True),
    )
    op.add_column("approval", sa.Column("acted_by", sa.String(64), nullable=True))
    op.add_column("payment_intent", sa.Column("on_behalf_of", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_intent") as batch:
        batch.drop_column("on_behalf_of")
    with op.batch_alter_table("approval") as batch:
        batch.drop_column("acted_by")
    op.drop_table("reminder_sent")
    op.drop_index("ix_delegation_absent", table_name="delegation")
    op.drop_index("ix_delegation_delegate", table_name="delegation")
    op.drop_table("delegation")
