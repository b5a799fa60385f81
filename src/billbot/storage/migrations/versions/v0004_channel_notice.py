"""channel_notice: the admins are told once (across replicas and restarts) that a channel
refuses billbot's posts, until a post there succeeds again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_notice",
        sa.Column("channel_id", sa.String(64), primary_key=True),
        sa.Column("error", sa.String(64), primary_key=True),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_notice")
