"""A served local Slack, and a tiny Bolt app (served over HTTP too) for the driver to talk to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from billbot.clock import FixedClock
from billbot.sandbox.serving import ServedApp, serve_in_thread
from billbot.sandbox.slack import SlackDriver, SlackWorkspace, create_slack_api_app
from tests.sandbox.slack.bolt_app import build_bolt_app

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
ALICE, BOB, OUTSIDER = "U0ALICE", "U0BOB", "U0OUTSIDER"
FINANCE = "C0FINANCE"
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    """The workspace's clock: trigger_ids and response_urls age only when a test moves it."""
    return FixedClock(START)


@pytest.fixture
def workspace(clock: FixedClock) -> SlackWorkspace:
    ws = SlackWorkspace(clock=clock, bot_tokens=[BOT_TOKEN])
    ws.add_user(ALICE, "alice", "Alice Approver")
    ws.add_user(BOB, "bob", "Bob Payer")
    ws.add_user(OUTSIDER, "olga", "Olga Outsider")
    ws.add_channel(FINANCE, "finance", members=[ALICE, BOB])
    return ws


class _Switch:
    """One server for the session; each test plugs in the app of its own fresh workspace."""

    def __init__(self) -> None:
        self.app: Starlette | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # nothing to start or stop
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert self.app is not None, "no workspace plugged in"
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def _standin_server() -> Iterator[tuple[_Switch, ServedApp]]:
    switch = _Switch()
    served = serve_in_thread(switch)
    yield switch, served
    served.stop()


@pytest.fixture
def standin(workspace: SlackWorkspace,
            _standin_server: tuple[_Switch, ServedApp]) -> Iterator[ServedApp]:
    """The stand-in serving this test's workspace (as serve_slack_standin would)."""
    switch, served = _standin_server
    switch.app = create_slack_api_app(workspace)
    workspace.base_url = served.base_url
    yield served
    switch.app = None


@pytest.fixture
def client(workspace: SlackWorkspace, standin: ServedApp) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=workspace.api_url)


@pytest.fixture
def bolt_url(workspace: SlackWorkspace, standin: ServedApp) -> Iterator[str]:
    served = serve_in_thread(build_bolt_app(workspace.api_url, BOT_TOKEN, SIGNING_SECRET))
    yield f"{served.base_url}/slack/events"
    served.stop()


@pytest.fixture
async def driver(workspace: SlackWorkspace, bolt_url: str) -> AsyncIterator[SlackDriver]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield SlackDriver(workspace, bolt_url, SIGNING_SECRET, http)
