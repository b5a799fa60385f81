"""policy_version: every version of the approval policy, newest first by number.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "policy_version",
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.CheckConstraint("source IN ('file', 'env', 'db')", name="ck_policy_version_source"),
    )


def downgrade() -> None:
    op.drop_table("policy_version")
