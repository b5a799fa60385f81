"""cached_bill and bill_refresh: each bound company's open bills kept in the database,
refreshed with `sourceModifiedDate>…` and single-flighted across replicas by a lease.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types / tables as of this revision.
AT = sa.DateTime(timezone=True)
BILL_ID = sa.String(2048).with_variant(sa.String(255), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cached_bill",
        sa.Column("company_id", sa.String(64), primary_key=True),
        sa.Column("connection_id", sa.String(64), primary_key=True),
        sa.Column("bill_id", BILL_ID, primary_key=True),
        sa.Column("bill_json", sa.Text(), nullable=False),
        sa.Column("source_modified_at", AT, nullable=True),
        sa.Column("fetched_at", AT, nullable=False),
    )
    op.create_table(
        "bill_refresh",
        sa.Column("company_id", sa.String(64), primary_key=True),
        sa.Column("connection_id", sa.String(64), primary_key=True),
        sa.Column("watermark", AT, nullable=True),
        sa.Column("full_read_at", AT, nullable=True),
        sa.Column("refreshed_at", AT, nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", AT, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("bill_refresh")
    op.drop_table("cached_bill")
