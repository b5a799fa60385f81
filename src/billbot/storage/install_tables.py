"""The tables of slack_sdk's SQLAlchemy installation and state stores (OAuth mode), declared on
billbot's metadata so that migration 0021 creates them and the schema check covers them
(`create_tables()` never runs). The token columns are wider than slack_sdk's 200 characters:
an encrypted token (BILLBOT_TOKEN_KEY) is longer than the token."""

from __future__ import annotations

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlmodel import SQLModel

INSTALLATIONS, BOTS, STATES = "slack_installations", "slack_bots", "slack_oauth_states"
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
TOKEN_LENGTH = 1000


def declare(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table]:
    installations = SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS)
    bots = SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS)
    states = SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES)
    for table in (installations, bots):
        for name in TOKEN_COLUMNS:
            if name in table.c:
                table.c[name].type = sa.String(TOKEN_LENGTH)
    return installations, bots, states


installations_table, bots_table, oauth_states_table = declare(SQLModel.metadata)
