"""Socket Mode as Slack runs it: app tokens, the connection URL, hello, envelopes, acks within
3 seconds, disconnect; checked with a bare WebSocket client and with Bolt's own
AsyncSocketModeHandler (the aiohttp client billbot uses)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from billbot.sandbox.slack import SlackDriver, SlackWorkspace, plain_text_input
from billbot.sandbox.slack.socket_transport import SocketModeTransport
from tests.sandbox.slack.standin import ALICE, BOT_TOKEN, FINANCE, eventually, served_workspace


@pytest.fixture
def ws() -> Iterator[SlackWorkspace]:
    yield from served_workspace()


@pytest.fixture
async def driver(ws: SlackWorkspace) -> AsyncIterator[SlackDriver]:
    async with httpx.AsyncClient(transport=SocketModeTransport(ws.socket_mode)) as http:
        yield SlackDriver(ws, "socket-mode://app", "", http)


async def open_url(ws: SlackWorkspace, token: str) -> dict[str, Any]:
    client = AsyncWebClient(token=token, base_url=ws.api_url)
    return dict((await client.apps_connections_open(app_token=token)).data)  # type: ignore[arg-type]


# --- apps.connections.open -----------------------------------------------------------------------


async def test_only_an_issued_app_token_gets_a_connection_url(ws: SlackWorkspace) -> None:
    http = httpx.AsyncClient()
    url = ws.api_url + "apps.connections.open"
    bot = (await http.post(url, headers={"Authorization": f"Bearer {BOT_TOKEN}"})).json()
    forged = (await http.post(url, headers={"Authorization": "Bearer xapp-1-A0-1-f00"})).json()
    missing = (await http.post(url)).json()
    await http.aclose()
    assert bot == {"ok": False, "error": "not_allowed_token_type"}
    assert forged == {"ok": False, "error": "invalid_auth"}
    assert missing == {"ok": False, "error": "not_authed"}

    answer = await open_url(ws, ws.socket_mode.issue_app_token())
    assert answer["ok"] is True
    host = ws.api_url.removeprefix("http://").removesuffix("/api/")
    assert answer["url"].startswith(f"ws://{host}/link/?ticket=")
    assert answer["url"].endswith(f"&app_id={ws.app_id}")


async def test_a_revoked_app_token_is_refused(ws: SlackWorkspace) -> None:
    token = ws.socket_mode.issue_app_token()
    ws.socket_mode.revoke_app_token(token)
    with pytest.raises(Exception, match="invalid_auth"):
        await open_url(ws, token)


async def test_hello_first_and_each_url_connects_once(ws: SlackWorkspace) -> None:
    url = (await open_url(ws, ws.socket_mode.issue_app_token()))["url"]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        hello = json.loads(await socket.receive_str(timeout=5))
        assert hello["type"] == "hello"
        assert hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": ws.app_id}
        assert ws.socket_mode.connected == 1
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)  # the ticket was spent
        assert refused.value.status == 403
    await eventually(lambda: ws.socket_mode.connected == 0)


# --- envelopes and acks, with a bare client ---------------------------------------------------------


async def _ack_with(socket: aiohttp.ClientWebSocketResponse, payload: dict[str, Any] | None,
                    seen: list[dict[str, Any]]) -> None:
    async for message in socket:
        envelope = json.loads(message.data)
        if "envelope_id" not in envelope:
            continue
        seen.append(envelope)
        ack: dict[str, Any] = {"envelope_id": envelope["envelope_id"]}
        if payload is not None:
            ack["payload"] = payload
        await socket.send_str(json.dumps(ack))


async def test_a_slash_command_arrives_as_an_envelope_and_its_ack_payload_is_the_reply(
        ws: SlackWorkspace, driver: SlackDriver) -> None:
    url = (await open_url(ws, ws.socket_mode.issue_app_token()))["url"]
    seen: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        await socket.receive_str(timeout=5)  # hello
        acking = asyncio.create_task(_ack_with(socket, {"text": "Hi there"}, seen))
        response = await driver.slash_command(ALICE, FINANCE, "hello")
        acking.cancel()
    assert response.outcome == "shown"
    assert [e.text for e in ws.ephemerals(FINANCE, ALICE)] == ["Hi there"]
    (envelope,) = seen
    assert envelope["type"] == "slash_commands"
    assert envelope["accepts_response_payload"] is True
    assert envelope["payload"]["command"] == "/bills"
    assert envelope["payload"]["text"] == "hello"
    assert envelope["payload"]["user_id"] == ALICE
    assert envelope["payload"]["response_url"].startswith(ws.base_url or "?")
    assert "X-Slack-Signature" not in json.dumps(envelope)  # Socket Mode is not signed


async def test_events_carry_retry_fields_and_ignore_an_ack_payload(
        ws: SlackWorkspace, driver: SlackDriver) -> None:
    url = (await open_url(ws, ws.socket_mode.issue_app_token()))["url"]
    seen: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        await socket.receive_str(timeout=5)
        acking = asyncio.create_task(_ack_with(socket, {"text": "ignored"}, seen))
        response = await driver.send_event({"type": "app_home_opened", "user": ALICE},
                                           event_id="Ev1", retry_num=1,
                                           retry_reason="timeout")
        acking.cancel()
    assert (response.status, response.body) == (200, b"")
    (envelope,) = seen
    assert envelope["type"] == "events_api"
    assert envelope["accepts_response_payload"] is False
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (1, "timeout")
    assert envelope["payload"]["type"] == "event_callback"
    assert envelope["payload"]["event_id"] == "Ev1"


async def test_no_ack_within_the_deadline_fails_and_a_late_ack_is_ignored(
        ws: SlackWorkspace, driver: SlackDriver) -> None:
    # A short deadline keeps the test quick; the default is Slack's 3 seconds.
    ws.socket_mode.ack_deadline = 0.3
    url = (await open_url(ws, ws.socket_mode.issue_app_token()))["url"]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as socket:
        await socket.receive_str(timeout=5)
        response = await driver.slash_command(ALICE, FINANCE, "hello")
        envelope = json.loads(await socket.receive_str(timeout=5))
        await socket.send_str(json.dumps({"envelope_id": envelope["envelope_id"],
                                          "payload": {"text": "too late"}}))
        (delivery,) = ws.socket_mode.deliveries()
        await eventually(lambda: ws.socket_mode.deliveries()[0].late_ack)
    assert response.outcome == "failed"
    assert delivery.acked is False
    texts = [e.text for e in ws.ephemerals(FINANCE, ALICE)]
    assert texts == ['/bills failed with the error "http_service_error"']


async def test_without_a_connection_nothing_is_delivered(driver: SlackDriver) -> None:
    response = await driver.slash_command(ALICE, FINANCE, "hello")
    assert response.status == 503
    assert response.outcome == "failed"


# --- Bolt's own Socket Mode client ------------------------------------------------------------------


def bolt_app(ws: SlackWorkspace, events: list[dict[str, Any]]) -> AsyncApp:
    app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=ws.api_url))

    @app.command("/bills")
    async def bills(ack: Any, command: dict[str, Any]) -> None:
        await ack(f"Hello <@{command['user_id']}>")

    @app.event("app_home_opened")
    async def home(event: dict[str, Any]) -> None:
        events.append(event)

    @app.view("reason")
    async def reason(ack: Any, view: dict[str, Any]) -> None:
        text = view["state"]["values"]["why"]["text"]["value"]
        if len(text) < 5:
            await ack(response_action="errors", errors={"why": "Say a little more"})
        else:
            await ack()

    @app.event("subteam_members_changed")
    async def members_changed(event: dict[str, Any]) -> None:
        events.append(event)

    return app


@pytest.fixture
async def bolt(ws: SlackWorkspace) -> AsyncIterator[list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    handler = AsyncSocketModeHandler(bolt_app(ws, events), ws.socket_mode.issue_app_token())
    await handler.connect_async()  # type: ignore[no-untyped-call]
    await eventually(lambda: ws.socket_mode.connected)
    yield events
    await handler.close_async()  # type: ignore[no-untyped-call]


async def test_bolt_answers_commands_and_hears_events_over_the_socket(
        ws: SlackWorkspace, driver: SlackDriver, bolt: list[dict[str, Any]]) -> None:
    response = await driver.slash_command(ALICE, FINANCE, "hi")
    assert response.outcome == "shown"
    assert [e.text for e in ws.ephemerals(FINANCE, ALICE)] == [f"Hello <@{ALICE}>"]
    await driver.send_event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
    await eventually(lambda: bolt)
    assert bolt[0]["user"] == ALICE

    group = ws.usergroups.add("approvers", "Approvers", [ALICE])
    await driver.send_event(ws.usergroups.set_members(group.id, []))
    await eventually(lambda: len(bolt) == 2)
    assert (bolt[1]["type"], bolt[1]["removed_users"]) == ("subteam_members_changed", [ALICE])


async def test_after_disconnect_bolt_reconnects_and_deliveries_go_on(
        ws: SlackWorkspace, driver: SlackDriver, bolt: list[dict[str, Any]]) -> None:
    opened = len(ws.calls("apps.connections.open"))
    await ws.socket_mode.disconnect("refresh_requested")
    await eventually(lambda: len(ws.calls("apps.connections.open")) > opened)
    await eventually(lambda: ws.socket_mode.connected == 1)
    response = await driver.slash_command(ALICE, FINANCE, "again")
    assert response.outcome == "shown"
    with pytest.raises(ValueError, match="no disconnect reason"):
        await ws.socket_mode.disconnect("bored")


async def test_a_submission_ack_carries_response_action_errors(
        ws: SlackWorkspace, driver: SlackDriver, bolt: list[dict[str, Any]]) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=ws.api_url)
    await client.views_open(trigger_id=ws.issue_trigger(ALICE), view={
        "type": "modal", "callback_id": "reason",
        "title": {"type": "plain_text", "text": "Reject"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "blocks": [{"type": "input", "block_id": "why",
                    "label": {"type": "plain_text", "text": "Why?"},
                    "element": {"type": "plain_text_input", "action_id": "text"}}]})
    short = await driver.submit_view(ALICE, {"why": {"text": plain_text_input("no")}})
    assert short.outcome == "errors"
    assert ws.open_view(ALICE).errors == {"why": "Say a little more"}  # type: ignore[union-attr]
    enough = await driver.submit_view(ALICE, {"why": {"text": plain_text_input("duplicate")}})
    assert enough.outcome == "closed" and ws.open_view(ALICE) is None
    submissions = [d for d in ws.socket_mode.deliveries("interactive")
                   if d.envelope["payload"]["type"] == "view_submission"]
    assert [d.envelope["accepts_response_payload"] for d in submissions] == [True, True]
