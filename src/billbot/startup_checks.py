"""`billbot run` asks Slack and Codat whether they accept its credentials before serving.

A refusal (Slack `invalid_auth`, `not_authed`, `token_revoked`..., Codat HTTP 401/403) is a
setting to fix: billbot stops with a message naming what was refused. A service that merely
does not answer is left to readiness: billbot serves, and `/readyz` says 503 until it answers.
"""

from __future__ import annotations

import asyncio

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from billbot.codat.client import CodatClient
from billbot.config import Settings
from billbot.readiness import Probe, bounded, probe_codat, probe_codat_client, probe_slack


def slack_client(settings: Settings, token: str, *, timeout: float = 5.0) -> AsyncWebClient:
    """A Slack client with no retry handlers: a probe asks once."""
    return AsyncWebClient(token=token, base_url=settings.slack_api_base, timeout=int(timeout) or 1)


async def check_credentials(settings: Settings) -> dict[str, Probe]:
    """Each credential's probe, keyed by the variable that holds it."""
    checks = {}
    async with httpx.AsyncClient() as http:
        if settings.slack_bot_token:
            bot = slack_client(settings, settings.slack_bot_token.get_secret_value())
            checks["SLACK_BOT_TOKEN"] = bounded(lambda: probe_slack(bot), "Slack")
        if settings.slack_app_token:
            app = slack_client(settings, settings.slack_app_token.get_secret_value())
            checks["SLACK_APP_TOKEN"] = bounded(
                lambda: probe_slack(app, method="apps.connections.open"), "Slack (Socket Mode)")
        if settings.codat_api_key:
            codat = probe_codat_client(CodatClient(
                http, api_key=settings.codat_api_key.get_secret_value(),
                base_url=settings.codat_base_url))
            checks["CODAT_API_KEY"] = bounded(lambda: probe_codat(codat), "Codat")
        results = await asyncio.gather(*checks.values())
    return dict(zip(checks, results, strict=True))


def refusal_message(results: dict[str, Probe]) -> str | None:
    """The message that stops billbot, or None when nothing was refused."""
    refused = {name: probe for name, probe in results.items() if probe.refused}
    if not refused:
        return None
    lines = [f"  {name}: {probe.reason}" for name, probe in sorted(refused.items())]
    return "billbot cannot start; these credentials were refused:\n" + "\n".join(lines)


def stored_tokens_problem(settings: Settings) -> str | None:
    """OAuth mode: the stored workspace tokens must open with BILLBOT_TOKEN_KEY as given (a
    missing or wrong key stops billbot here, not every request later)."""
    if not settings.oauth_mode:
        return None
    from sqlalchemy import inspect

    from billbot.storage.db import make_engine
    from billbot.storage.install_tables import BOTS
    from billbot.storage.installations import check_stored_tokens
    from billbot.storage.token_cipher import TokenCipher, TokenKeyError

    key = settings.billbot_token_key
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table(BOTS):
            return None  # nothing installed yet: the migration creates the table at start
        check_stored_tokens(engine, TokenCipher(key.get_secret_value() if key else None))
    except TokenKeyError as exc:
        return f"billbot cannot start: {exc}"
    finally:
        engine.dispose()
    return None
