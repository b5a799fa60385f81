"""payment_intent.view_id: the payer's pay modal (Slack's view id), so the process that
finishes a payment another process started (recovery after a crash) can show the outcome in
that modal too, not only on the bill's row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payment_intent", sa.Column("view_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_intent") as batch:
        batch.drop_column("view_id")
