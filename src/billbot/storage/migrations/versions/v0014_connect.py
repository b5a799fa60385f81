"""known_company and connect_watch: the Codat companies billbot created or bound, and the
watch on each connection (waiting for Linked, then for a disconnection) that `/bills connect`
starts.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

AT = sa.DateTime(timezone=True)  # frozen copy of billbot.storage.types, as in 0001


def upgrade() -> None:
    op.create_table(
        "known_company",
        sa.Column("company_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", AT, nullable=False),
    )
    op.create_table(
        "connect_watch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("view_id", sa.String(64), nullable=True),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("company_id", sa.String(64), nullable=True),
        sa.Column("connection_id", sa.String(64), nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("last_status", sa.String(16), nullable=True),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("next_check_at", AT, nullable=False),
        sa.Column("claimed_until", AT, nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.UniqueConstraint("view_id", name="uq_connect_watch_view"),
    )
    op.create_index("ix_connect_watch_due", "connect_watch", ["next_check_at"])


def downgrade() -> None:
    op.drop_index("ix_connect_watch_due", table_name="connect_watch")
    op.drop_table("connect_watch")
    op.drop_table("known_company")
