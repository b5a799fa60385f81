"""Supplier credit notes on the async API: an allocation is a payment intent that also takes
`credit_amount` off the bill from credit note `credit_note_id`; a credit note billbot records
is claimed in credit_note_record (unique per supplier and number) before it is pushed.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types / columns as of this revision.
AT = sa.DateTime(timezone=True)
MONEY = sa.Numeric(20, 6).with_variant(sa.String(40), "sqlite")


def upgrade() -> None:
    op.add_column("payment_intent", sa.Column("credit_note_id", sa.String(255), nullable=True))
    op.add_column("payment_intent", sa.Column("credit_note_number", sa.String(255),
                                              nullable=True))
    op.add_column("payment_intent", sa.Column("credit_amount", MONEY, nullable=True))
    op.create_table(
        "credit_note_record",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("company_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("supplier_id", sa.String(255), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("push_operation_key", sa.String(64), nullable=True),
        sa.Column("credit_note_id", sa.String(255), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("sent_at", AT, nullable=True),
        sa.Column("team_id", sa.String(32), nullable=False, server_default=""),
        sa.UniqueConstraint("company_id", "connection_id", "supplier_id", "number",
                            name="uq_credit_note_record_number"),
    )


def downgrade() -> None:
    op.drop_table("credit_note_record")
    with op.batch_alter_table("payment_intent") as batch:
        batch.drop_column("credit_amount")
        batch.drop_column("credit_note_number")
        batch.drop_column("credit_note_id")
