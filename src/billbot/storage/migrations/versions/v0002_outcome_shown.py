"""payment_intent.outcome_shown_at: when the payment's outcome reached Slack (the bill's row,
and the payer when it failed). A process that dies between recording a payment and telling
Slack leaves it NULL; the recovery tick finds such intents and shows them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payment_intent",
                  sa.Column("outcome_shown_at", sa.DateTime(timezone=True), nullable=True))
    # Intents finished before this column existed were shown by the code of the time.
    op.execute("UPDATE payment_intent SET outcome_shown_at = finished_at "
               "WHERE finished_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("payment_intent") as batch:
        batch.drop_column("outcome_shown_at")
