"""One payment per supplier (async API): a pay run may record the bills of one supplier and
currency as ONE bill payment. Each bill keeps its own intent; `group_id` names the group's
lead intent (the only one ever sent) on every member, the lead included.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payment_intent", sa.Column("group_id", sa.Uuid(), nullable=True))
    op.create_index("ix_payment_intent_group", "payment_intent", ["group_id"])
    op.add_column("pay_run", sa.Column("per_supplier", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("pay_run") as batch:
        batch.drop_column("per_supplier")
    op.drop_index("ix_payment_intent_group", table_name="payment_intent")
    with op.batch_alter_table("payment_intent") as batch:
        batch.drop_column("group_id")
