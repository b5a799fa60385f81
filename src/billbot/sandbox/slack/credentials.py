"""The tokens a workspace issued to the app and the scopes they carry. Slack accepts only the
tokens it issued: a made-up `xoxb-` string is `invalid_auth`, and an app-level `xapp-` token
opens Socket Mode connections but calls no bot method."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from billbot.sandbox.slack.manifest_scopes import manifest_bot_scopes

# What an app-level token for Socket Mode carries (the scope Slack requires for it).
APP_TOKEN_SCOPES = ("connections:write",)


class Credentials:
    def __init__(self, *, bot_tokens: Iterable[str] | None = None, app_token: str | None = None,
                 scopes: Iterable[str] | None = None) -> None:
        issued = list(bot_tokens) if bot_tokens is not None else [
            f"xoxb-{secrets.randbelow(10**12):012d}-{secrets.token_hex(12)}"]
        if not issued or not all(t.startswith("xoxb-") for t in issued):
            raise ValueError("bot tokens must be one or more xoxb- strings")
        # Mutable: an OAuth install issues another bot token, Socket Mode more app tokens.
        self.bot_tokens: set[str] = set(issued)
        self.bot_token = issued[0]
        self.app_token = app_token or f"xapp-1-A0BILLBOT-{secrets.token_hex(16)}"
        if not self.app_token.startswith("xapp-"):
            raise ValueError("the app token must be an xapp- string")
        self.app_tokens: set[str] = {self.app_token}
        # Rotating bot tokens (token rotation on) expire: token -> when.
        self.expiry: dict[str, datetime] = {}
        # The manifest's bot scopes unless a test names its own.
        self.scopes: tuple[str, ...] = (manifest_bot_scopes() if scopes is None
                                        else tuple(scopes))
        self.app_scopes = APP_TOKEN_SCOPES

    def kind(self, token: str | None) -> Literal["bot", "app"] | None:
        """Which of the issued tokens this is, or None for one this workspace never issued."""
        if token in self.bot_tokens:
            return "bot"
        if token in self.app_tokens:
            return "app"
        return None

    def expired(self, token: str, now: datetime) -> bool:
        until = self.expiry.get(token)
        return until is not None and now >= until

    def revoke_bot_tokens(self) -> None:
        """An uninstall: no bot token of this workspace works any more."""
        self.bot_tokens.clear()
        self.expiry.clear()

    def granted(self, kind: Literal["bot", "app"]) -> tuple[str, ...]:
        return self.app_scopes if kind == "app" else self.scopes
