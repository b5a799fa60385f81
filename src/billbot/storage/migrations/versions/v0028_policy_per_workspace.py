"""policy_version per workspace: each workspace (OAuth mode) keeps its own list of approval
policy versions, numbered from 1; the rows that exist are single-workspace mode's (team id
''). The primary key becomes (team_id, number), so two replicas saving the same next number
for one workspace still collide.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

TEAM = sa.String(32)  # frozen copy of billbot.storage.scoping.TEAM_ID as of this revision
PK = "pk_policy_version"
# SQLite's primary key has no name: batch mode names it as reflected, so it can be dropped.
NAMES = {"pk": "pk_%(table_name)s"}


def _primary_key_name() -> str:
    """PostgreSQL names the primary key (policy_version_pkey at first); SQLite's has none."""
    found = sa.inspect(op.get_bind()).get_pk_constraint("policy_version")
    return (found.get("name") if found else None) or PK


def upgrade() -> None:
    old = _primary_key_name()
    with op.batch_alter_table("policy_version", naming_convention=NAMES) as batch:
        batch.add_column(sa.Column("team_id", TEAM, nullable=False, server_default=""))
        batch.drop_constraint(old, type_="primary")
        batch.create_primary_key(PK, ["team_id", "number"])


def downgrade() -> None:
    # Only single-workspace rows fit the one list: the other workspaces' versions go.
    op.execute(sa.text("DELETE FROM policy_version WHERE team_id <> ''"))
    old = _primary_key_name()
    with op.batch_alter_table("policy_version", naming_convention=NAMES) as batch:
        batch.drop_constraint(old, type_="primary")
        batch.create_primary_key("policy_version_pkey", ["number"])
        batch.drop_column("team_id")
