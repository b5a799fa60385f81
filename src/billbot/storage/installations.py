"""OAuth mode's stores for Bolt: slack_sdk's SQLAlchemy installation and state stores on
billbot's database (their calls run on a worker thread, as every database call here does),
with the tokens sealed by a TokenCipher on the way in and opened on the way out."""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import select
from sqlalchemy.engine import Engine

from .install_tables import BOTS, INSTALLATIONS, STATES, TOKEN_COLUMNS, bots_table
from .token_cipher import TokenCipher

logger = logging.getLogger("billbot.installations")

Record = TypeVar("Record", Bot, Installation)
STATE_LIFETIME_SECONDS = 600  # an install started more than 10 minutes ago must start again


def _each_token(record: Record, change: Any) -> Record:
    changed = copy.copy(record)
    for name in TOKEN_COLUMNS:
        if hasattr(changed, name):
            setattr(changed, name, change(getattr(changed, name)))
    return changed


class SealedInstallationStore(AsyncInstallationStore):
    def __init__(self, client_id: str, engine: Engine, cipher: TokenCipher) -> None:
        self._store = SQLAlchemyInstallationStore(client_id, engine, bots_table_name=BOTS,
                                                  installations_table_name=INSTALLATIONS)
        self._cipher, self._engine = cipher, engine

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_save(self, installation: Installation) -> None:
        # slack_sdk's save also saves the bot; both go through the sealed copy.
        sealed = _each_token(installation, self._cipher.seal)
        await asyncio.to_thread(self._store.save, sealed)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self._store.save_bot, _each_token(bot, self._cipher.seal))

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        found = await asyncio.to_thread(self._store.find_bot, enterprise_id=enterprise_id,
                                        team_id=team_id,
                                        is_enterprise_install=is_enterprise_install)
        return _each_token(found, self._cipher.open) if found is not None else None

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False
                                      ) -> Installation | None:
        found = await asyncio.to_thread(self._store.find_installation,
                                        enterprise_id=enterprise_id, team_id=team_id,
                                        user_id=user_id,
                                        is_enterprise_install=is_enterprise_install)
        return _each_token(found, self._cipher.open) if found is not None else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self._store.delete_bot, enterprise_id=enterprise_id,
                                team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None) -> None:
        await asyncio.to_thread(self._store.delete_installation, enterprise_id=enterprise_id,
                                team_id=team_id, user_id=user_id)


def check_stored_tokens(engine: Engine, cipher: TokenCipher) -> int:
    """Open every stored bot token with the key given: a start-up check, so that a missing or
    wrong BILLBOT_TOKEN_KEY stops billbot with a clear message (TokenKeyError) instead of
    every request failing later. Returns how many were checked."""
    with engine.connect() as conn:
        tokens = conn.execute(select(bots_table.c.bot_token, bots_table.c.bot_refresh_token)).all()
    for row in tokens:
        for value in row:
            cipher.open(value)
    return len(tokens)


class StateStore(AsyncOAuthStateStore):
    """OAuth `state` values, single-use and short-lived, shared by every replica."""

    def __init__(self, engine: Engine) -> None:
        self._store = SQLAlchemyOAuthStateStore(STATE_LIFETIME_SECONDS, engine, table_name=STATES)

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self._store.issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self._store.consume, state)
