"""People, DMs, channel members and user groups, through slack_sdk's own client; and the
subteam_members_changed event, signed over HTTP and over Socket Mode."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billbot.sandbox.serving import serve_in_thread
from billbot.sandbox.slack import SlackDriver, SlackWorkspace, signature
from tests.sandbox.slack.standin import (
    ALICE,
    BOB,
    BOT_TOKEN,
    FINANCE,
    OUTSIDER,
    served_workspace,
)

SIGNING_SECRET = "directory-test-secret"


@pytest.fixture
def ws() -> Iterator[SlackWorkspace]:
    yield from served_workspace()


@pytest.fixture
def client(ws: SlackWorkspace) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=ws.api_url)


async def refused(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])


async def test_users_info(client: AsyncWebClient) -> None:
    user = (await client.users_info(user=ALICE, include_locale=True))["user"]
    assert (user["id"], user["name"], user["real_name"], user["is_bot"]) == (
        ALICE, "alice", "Alice Approver", False)
    assert user["locale"] == "en-US"
    assert await refused(client.users_info(user="U0NOBODY")) == "user_not_found"


async def test_conversations_open_makes_one_dm_per_person(ws: SlackWorkspace,
                                                          client: AsyncWebClient) -> None:
    assert await refused(client.conversations_open(users=ALICE, prevent_creation=True)) == \
        "channel_not_found"
    first = await client.conversations_open(users=ALICE)
    assert first["channel"] == {"id": f"D{ALICE}"} and "already_open" not in first
    again = await client.conversations_open(users=ALICE, return_im=True)
    assert (again["no_op"], again["already_open"]) == (True, True)
    assert again["channel"]["is_im"] is True and again["channel"]["user"] == ALICE
    posted = await client.chat_postMessage(channel=first["channel"]["id"], text="Hello")
    assert [m.ts for m in ws.messages(f"D{ALICE}")] == [posted["ts"]]

    assert await refused(client.api_call("conversations.open")) == "users_list_not_supplied"
    assert await refused(client.conversations_open(users="U0NOBODY")) == "user_not_found"
    assert await refused(client.conversations_open(users=",".join(["U0X"] * 9))) == \
        "too_many_users"
    assert await refused(client.conversations_open(channel=FINANCE)) == \
        "method_not_supported_for_channel_type"


async def test_conversations_members_pages_with_cursors(ws: SlackWorkspace,
                                                         client: AsyncWebClient) -> None:
    first = await client.conversations_members(channel=FINANCE, limit=2)
    assert first["members"] == [ws.bot_user_id, ALICE]
    cursor = first["response_metadata"]["next_cursor"]
    rest = await client.conversations_members(channel=FINANCE, limit=2, cursor=cursor)
    assert rest["members"] == [BOB]
    assert rest["response_metadata"]["next_cursor"] == ""
    assert OUTSIDER not in first["members"] + rest["members"]
    assert await refused(client.conversations_members(channel="C0GONE")) == "channel_not_found"
    assert await refused(client.conversations_members(channel=FINANCE, cursor="bm9wZQ==")) \
        == "invalid_cursor"
    assert await refused(client.conversations_members(channel=FINANCE, limit=0)) == \
        "invalid_limit"


async def test_usergroup_members(ws: SlackWorkspace, client: AsyncWebClient) -> None:
    group = ws.usergroups.add("approvers", "Bill approvers", [ALICE, BOB])
    assert group.id.startswith("S")
    assert (await client.usergroups_users_list(usergroup=group.id))["users"] == [ALICE, BOB]
    assert await refused(client.usergroups_users_list(usergroup="S0NOPE")) == "no_such_subteam"
    ws.usergroups.disable(group.id)
    assert await refused(client.usergroups_users_list(usergroup=group.id)) == \
        "no_such_subteam"
    listed = await client.usergroups_users_list(usergroup=group.id, include_disabled=True)
    assert listed["users"] == [ALICE, BOB]


def test_changing_members_makes_slacks_event(ws: SlackWorkspace) -> None:
    group = ws.usergroups.add("approvers", "Bill approvers", [ALICE, BOB])
    event = ws.usergroups.set_members(group.id, [BOB, OUTSIDER])
    assert event["type"] == "subteam_members_changed"
    assert (event["subteam_id"], event["team_id"]) == (group.id, ws.team_id)
    assert (event["added_users"], event["added_users_count"]) == ([OUTSIDER], "1")
    assert (event["removed_users"], event["removed_users_count"]) == ([ALICE], "1")
    assert event["date_update"] >= event["date_previous_update"]
    assert ws.usergroups.get(group.id).users == [BOB, OUTSIDER]  # type: ignore[union-attr]


@pytest.fixture
async def app_inbox() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """An app's request URL that keeps what it receives."""
    received: list[tuple[dict[str, str], bytes]] = []

    async def events(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=200)

    served = serve_in_thread(Starlette(routes=[Route("/events", events, methods=["POST"])]))
    yield served.base_url + "/events", received
    served.stop()


async def test_the_event_is_delivered_signed_over_http(
        ws: SlackWorkspace, app_inbox: tuple[str, list[tuple[dict[str, str], bytes]]]) -> None:
    url, received = app_inbox
    group = ws.usergroups.add("payers", "Payers", [BOB])
    async with httpx.AsyncClient() as http:
        driver = SlackDriver(ws, url, SIGNING_SECRET, http)
        response = await driver.send_event(ws.usergroups.set_members(group.id, [ALICE]))
    assert response.status == 200
    ((headers, body),) = received
    ts = headers["x-slack-request-timestamp"]
    assert headers["x-slack-signature"] == signature(SIGNING_SECRET, ts, body)
    callback = json.loads(body)
    assert callback["type"] == "event_callback"
    assert callback["event"]["type"] == "subteam_members_changed"
    assert callback["event"]["added_users"] == [ALICE]
