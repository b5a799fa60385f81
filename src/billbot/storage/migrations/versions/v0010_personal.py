"""dm_card and home_viewer: the direct-message cards billbot sent (once per person, bill and
state of waiting) and who opened App Home (whose view to refresh when one of its bills changes).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types, as in 0001.
AT = sa.DateTime(timezone=True)
BILL_ID = sa.String(2048).with_variant(sa.String(255), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dm_card",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("company_id", sa.String(64), primary_key=True),
        sa.Column("connection_id", sa.String(64), primary_key=True),
        sa.Column("bill_key", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("bill_id", BILL_ID, nullable=False),
        sa.Column("binding_channel", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=True),
        sa.Column("ts", sa.String(64), nullable=True),
        sa.Column("claimed_at", AT, nullable=False),
    )
    op.create_index("ix_dm_card_message", "dm_card", ["channel_id", "ts"])
    op.create_table(
        "home_viewer",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("opened_at", AT, nullable=False),
        sa.Column("published_at", AT, nullable=True),
        sa.Column("bill_keys", sa.JSON(), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("home_viewer")
    op.drop_index("ix_dm_card_message", table_name="dm_card")
    op.drop_table("dm_card")
