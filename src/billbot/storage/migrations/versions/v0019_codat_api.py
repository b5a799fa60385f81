"""The Codat API per binding (sync | async), and what an async payment needs to be recorded
exactly once without idempotency keys: the unique reference it carries and its push
operation's key.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _api_column() -> sa.Column[str]:
    return sa.Column("codat_api", sa.String(8), nullable=False, server_default="sync")


def upgrade() -> None:
    op.add_column("channel_binding", _api_column())
    op.add_column("connect_watch", _api_column())
    op.add_column("payment_intent", _api_column())
    op.add_column("payment_intent", sa.Column("payment_reference", sa.String(64), nullable=True))
    op.add_column("payment_intent", sa.Column("push_operation_key", sa.String(64),
                                              nullable=True))
    op.create_index("uq_payment_intent_reference", "payment_intent", ["payment_reference"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_payment_intent_reference", table_name="payment_intent")
    with op.batch_alter_table("payment_intent") as batch:
        batch.drop_column("push_operation_key")
        batch.drop_column("payment_reference")
        batch.drop_column("codat_api")
    with op.batch_alter_table("connect_watch") as batch:
        batch.drop_column("codat_api")
    with op.batch_alter_table("channel_binding") as batch:
        batch.drop_column("codat_api")
