"""OAuth mode (`SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET`): Slack's install flow through Bolt
(`/slack/install`, `/slack/oauth_redirect`) on billbot's database, the acting workspace of
every request, and what an install, an uninstall and a revocation change.

- Install: the installation is stored (tokens sealed, storage/installations.py); the installer
  becomes the workspace's first admin; a workspace installed again has its bindings resumed;
  the installer gets the onboarding DM.
- `app_uninstalled`: the workspace's installation is deleted and its bindings paused (no
  digests, reminders or DMs there), audited. `tokens_revoked`: the revoked bot token's
  installation is deleted (a user token billbot never asks for).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from billbot import tenancy
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import bindings, roles
from billbot.slackapp.direct_messages import send_dm
from billbot.slackapp.setup_text import onboarding_message
from billbot.storage.installations import StateStore

logger = logging.getLogger("billbot.installs")

INSTALL_PATH, REDIRECT_PATH = "/slack/install", "/slack/oauth_redirect"
# The bot scopes the install asks for: the manifest's (a test keeps the two the same).
BOT_SCOPES = ("chat:write", "commands", "im:write", "users:read", "files:write", "files:read",
              "channels:read", "groups:read", "usergroups:read")
SLACK = "slack"  # the actor of what Slack itself did (an uninstall)


def authorization_url(api_base: str) -> str:
    """Slack's authorize page beside its Web API (`https://slack.com/oauth/v2/authorize`)."""
    return api_base.removesuffix("/").removesuffix("/api") + "/oauth/v2/authorize"


def oauth_settings(bot: Billbot) -> AsyncOAuthSettings:
    s = bot.settings
    assert s.slack_client_secret is not None and bot.installations is not None

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        await installed(bot, args.installation)
        return await args.default.success(args)

    secret = s.slack_client_secret.get_secret_value()
    settings = AsyncOAuthSettings(
        client_id=s.slack_client_id, client_secret=secret,
        scopes=list(BOT_SCOPES), install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
        authorization_url=authorization_url(s.slack_api_base),
        installation_store=bot.installations, installation_store_bot_only=True,
        state_store=StateStore(bot.engine),
        callback_options=AsyncCallbackOptions(success=success, failure=_failure))
    # Bolt's own authorize refreshes rotating tokens through a client of its own that always
    # calls slack.com; this one calls SLACK_API_URL, as every other call does.
    settings.authorize = AsyncInstallationStoreAuthorize(
        logger=logger, client_id=s.slack_client_id, client_secret=secret,
        installation_store=bot.installations, bot_only=True,
        client=AsyncWebClient(base_url=s.slack_api_base, timeout=15))
    return settings


async def _failure(args: Any) -> BoltResponse:
    logger.warning("install failed: %s", args.reason)
    return await args.default.failure(args)  # type: ignore[no-any-return]


async def installed(bot: Billbot, installation: Any) -> None:
    """After Slack's install was stored: first admin, bindings resumed, the onboarding DM."""
    team, enterprise = installation.team_id, installation.enterprise_id
    user, now = installation.user_id, bot.clock.now()
    with tenancy.acting_for(tenancy.Workspace(team or "", enterprise, installation.bot_token)):
        def record(session: Any) -> bool:
            bindings.pause_workspace(session, team_id=team or "", enterprise_id=enterprise,
                                     paused=False, actor=user, at=now)
            return roles.grant_installer(session, user_id=user, at=now)
        granted = await bot.db(record)
        event(logger, "billbot installed", team_id=team, installer=user, admin=granted)
        text, blocks = onboarding_message(user)
        try:
            await send_dm(bot, user, text=text, blocks=blocks)
        except SlackApiError as exc:
            logger.warning("onboarding DM not sent: %s", exc.response.get("error"))


def wire(app: AsyncApp, bot: Billbot) -> None:
    """The acting workspace of each request, and the uninstall events (OAuth mode only)."""

    @app.middleware
    async def acting_workspace(req: AsyncBoltRequest, resp: BoltResponse,
                               next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        ctx = req.context
        team = ctx.team_id or ""
        tenancy.enter(tenancy.Workspace(team, ctx.enterprise_id, ctx.bot_token,
                                        from_request=True))
        return await next()

    @app.event("app_uninstalled")
    async def app_uninstalled(context: Any) -> None:
        await uninstalled(bot, context.team_id, context.enterprise_id, "app_uninstalled")

    @app.event("tokens_revoked")
    async def tokens_revoked(event: dict[str, Any], context: Any) -> None:
        if (event.get("tokens") or {}).get("bot"):
            await uninstalled(bot, context.team_id, context.enterprise_id, "tokens_revoked")


async def uninstalled(bot: Billbot, team_id: str | None, enterprise_id: str | None,
                      why: str) -> None:
    """The workspace's tokens no longer work: forget them, pause its bindings, audit."""
    assert bot.installations is not None
    await bot.installations.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)
    now = bot.clock.now()
    paused = await bot.db(lambda s: bindings.pause_workspace(
        s, team_id=team_id or "", enterprise_id=enterprise_id, paused=True, actor=SLACK, at=now))
    event(logger, "billbot removed from a workspace", team_id=team_id, why=why,
          paused=len(paused))
