"""OAuth mode: slack_sdk's installation and state store tables (tokens up to 1000 characters,
room for encrypted ones), and the workspace scoping columns: `team_id` on the rows of roles,
bindings, approvals, payment intents, audit entries, message copies, known companies and connection watches,
`enterprise_id` where an Enterprise Grid org shares its user ids (roles, bindings, audit), and
a binding's `paused_at` (its workspace uninstalled the app). Existing rows belong to the single
workspace billbot ran for: team id `""`. Role grants become unique per workspace.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

AT = sa.DateTime(timezone=True)  # frozen copy of billbot.storage.types, as in 0001
TEAM = sa.String(32)
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
TEAM_TABLES = ("channel_binding", "role_grant", "approval", "payment_intent", "audit_log",
               "slack_message", "bill_copy", "known_company", "connect_watch")
ENTERPRISE_TABLES = ("channel_binding", "role_grant", "audit_log")


def _slack_tables() -> list[sa.Table]:
    metadata = sa.MetaData()
    tables = [SQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations"),
              SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots"),
              SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states")]
    for table in tables:
        for name in TOKEN_COLUMNS:
            if name in table.c:
                table.c[name].type = sa.String(1000)
    return tables


def upgrade() -> None:
    bind = op.get_bind()
    for table in _slack_tables():
        table.create(bind)
    for name in TEAM_TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("team_id", TEAM, nullable=False, server_default=""))
            if name in ENTERPRISE_TABLES:
                batch.add_column(sa.Column("enterprise_id", TEAM, nullable=True))
            if name == "channel_binding":
                batch.add_column(sa.Column("paused_at", AT, nullable=True))
            if name == "role_grant":
                batch.drop_constraint("uq_role_grant_user_role", type_="unique")
                batch.create_unique_constraint("uq_role_grant_team_user_role",
                                               ["team_id", "user_id", "role"])


def downgrade() -> None:
    for name in TEAM_TABLES:
        with op.batch_alter_table(name) as batch:
            if name == "role_grant":
                batch.drop_constraint("uq_role_grant_team_user_role", type_="unique")
                batch.create_unique_constraint("uq_role_grant_user_role", ["user_id", "role"])
            if name == "channel_binding":
                batch.drop_column("paused_at")
            if name in ENTERPRISE_TABLES:
                batch.drop_column("enterprise_id")
            batch.drop_column("team_id")
    for table in reversed(_slack_tables()):
        table.drop(op.get_bind())
