"""usergroup_members: the cache of Slack user groups' members that approval policies name.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Frozen copies of billbot.storage.types / tables as of this revision.
AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "usergroup_members",
        sa.Column("team_id", sa.String(64), primary_key=True),
        sa.Column("group_id", sa.String(64), primary_key=True),
        sa.Column("user_ids", sa.JSON(), nullable=False),
        sa.Column("fetched_at", AT, nullable=False),
        sa.Column("date_update", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("usergroup_members")
