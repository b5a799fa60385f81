"""home_viewer.shown: the figures (version token) of each bill a person's Home view shows, so
an Approve pressed in Home is judged against what that view showed, like a channel copy.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("home_viewer") as batch:
        batch.add_column(sa.Column("shown", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("home_viewer") as batch:
        batch.drop_column("shown")
