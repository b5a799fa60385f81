"""bank_account_request: `/bills accounts add` commits each form's Idempotency-Key (and the
account it asks for) before Codat is called, so the account is created once.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Frozen copy of billbot.storage.types, as in 0001.
AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "bank_account_request",
        sa.Column("form_id", sa.String(64), primary_key=True),
        sa.Column("company_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("account_type", sa.String(16), nullable=False),
        sa.Column("account_number", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("sort_code", sa.String(32), nullable=True),
        sa.Column("nominal_code", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("finished_at", AT, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("bank_account_request")
