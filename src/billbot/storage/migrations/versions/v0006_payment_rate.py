"""payment_intent.currency_rate and base_currency: the rate a payment of a bill in another
currency than the company's base is recorded at (base units per unit of the bill's currency,
sent to Codat as `currencyRate`), so the row and the audit show both amounts. Kept as text:
the rate is exact as typed, up to 9 decimals, on SQLite and PostgreSQL alike.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payment_intent", sa.Column("currency_rate", sa.String(32), nullable=True))
    op.add_column("payment_intent", sa.Column("base_currency", sa.String(3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_intent") as batch:
        batch.drop_column("base_currency")
        batch.drop_column("currency_rate")
