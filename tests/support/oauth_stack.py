"""Two Slack workspaces on one stand-in, billbot in OAuth mode between them and the Codat
sandbox: installs go through `/slack/install` and Slack's authorize page as a browser would
(the redirects followed with httpx), every later request is signed as Slack signs it."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.fernet import Fernet

from billbot import tenancy
from billbot.config import Settings
from billbot.domain.policy import Role
from billbot.runtime import Billbot
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import ServedApp, serve_in_thread
from billbot.sandbox.slack import SlackDriver, SlackWorkspace, add_workspace
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.server import build_web_app
from billbot.services import roles
from billbot.storage.db import session_scope
from tests.support.openapi_contract import validated_sandbox_app

SIGNING_SECRET = "oauth-e2e-signing-secret-0123"
CODAT_KEY = "oauth-e2e-codat-key"
TEAM_A, TEAM_B = "T0ALPHA", "T0BETA"
CHANNEL_A, CHANNEL_B = "C0FINALPHA", "C0FINBETA"
# Ada installs in A, Bea in B; Sam is one person of an Enterprise Grid org, in both.
ADA, ANN, BEA, BOB, SAM = "U0ADA", "U0ANN", "U0BEA", "U0BOB", "U0SAM"
STATE_COOKIE = "slack-app-oauth-state"


@dataclass
class OAuthStack:
    sandbox: SandboxState
    a: SlackWorkspace
    b: SlackWorkspace
    bot: Billbot
    bot_url: str
    settings: Settings
    http: httpx.AsyncClient
    server: ServedApp

    async def on_bot_loop(self, work: Any) -> Any:
        """Run a coroutine on the bot's own loop (its HTTP clients live there), as its
        scheduler and job workers do: outside any request, so in no workspace."""
        return await asyncio.to_thread(self.server.run, work, timeout=120)

    def driver(self, ws: SlackWorkspace) -> SlackDriver:
        return SlackDriver(ws, self.bot_url + "/slack/events", SIGNING_SECRET, self.http)

    def members(self, team_id: str, role: Role) -> frozenset[str]:
        with tenancy.acting_for(tenancy.Workspace(team_id)), \
                session_scope(self.bot.engine, read_only=True) as session:
            return roles.members(session, self.bot.policy, role)

    async def install(self, team_id: str, user_id: str) -> httpx.Response:
        """The installer opens /slack/install, follows Slack's authorize page (approving at
        once as `user_id`) back to /slack/oauth_redirect with the state cookie."""
        page = await self.http.get(f"{self.bot_url}/slack/install", params={"team": team_id})
        assert page.status_code == 200, page.text
        cookie = page.headers["set-cookie"].split(";")[0]
        assert cookie.startswith(STATE_COOKIE + "=")
        found = re.search(r'href="([^"]+oauth/v2/authorize[^"]*)"', page.text)
        assert found is not None, page.text
        link = html.unescape(found[1])
        approved = await self.http.get(f"{link}&{urlencode({'user': user_id})}")
        assert approved.status_code == 302, approved.text
        # The cookie is Secure (Slack apps are served over https): sent by hand on loopback.
        return await self.http.get(approved.headers["location"], headers={"cookie": cookie})


def sandbox_company(sandbox: SandboxState, name: str) -> tuple[str, str]:
    company = next(c for c, body in sandbox.companies.items() if body["name"] == name)
    return company, next(iter(sandbox.connections[company]))


def build_oauth_stack(database_url: str, http: httpx.AsyncClient, **overrides: Any
                      ) -> Iterator[OAuthStack]:
    sandbox = SandboxState.seeded()
    codat = serve_in_thread(validated_sandbox_app(sandbox, api_key=CODAT_KEY))
    a = SlackWorkspace(team_id=TEAM_A, team_name="Alpha Ltd")
    a.credentials.revoke_bot_tokens()  # nothing installed until someone installs
    b = add_workspace(a, team_id=TEAM_B, team_name="Beta Inc", installed=False)
    for ws, people, channel in ((a, (ADA, ANN, SAM), CHANNEL_A), (b, (BEA, BOB, SAM), CHANNEL_B)):
        for uid in people:
            ws.add_user(uid, uid.removeprefix("U0").lower())
        ws.add_channel(channel, "finance")
    slack = serve_slack_standin(a)
    values: dict[str, Any] = {
        "slack_client_id": a.oauth.client_id, "slack_client_secret": a.oauth.client_secret,
        "slack_signing_secret": SIGNING_SECRET, "slack_api_url": a.api_url,
        "codat_api_key": CODAT_KEY, "codat_base_url": codat.base_url,
        "billbot_token_key": Fernet.generate_key().decode(), "database_url": database_url,
        # Ignored in OAuth mode: roles live per workspace in the database.
        "billbot_admins": frozenset({SAM}),
    }
    values.update(overrides)
    settings = Settings(_env_file=None, **values)
    app, bot = build_web_app(settings, run_scheduler=False)
    server = serve_in_thread(app)
    a.oauth.redirect_urls = [server.base_url + "/slack/oauth_redirect"]
    try:
        yield OAuthStack(sandbox, a, b, bot, server.base_url, settings, http, server)
    finally:
        server.stop()
        slack.stop()
        codat.stop()
