"""chat.getPermalink through slack_sdk's own client: a message's link, a reply's link naming
its thread, and Slack's errors for an unknown channel or message."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from billbot.sandbox.slack import SlackWorkspace
from tests.sandbox.slack.standin import BOT_TOKEN, FINANCE, served_workspace


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


async def test_a_message_and_a_reply_have_permalinks(client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel=FINANCE, text="digest")
    reply = await client.chat_postMessage(channel=FINANCE, text="row", thread_ts=parent["ts"])
    link = (await client.chat_getPermalink(channel=FINANCE, message_ts=parent["ts"]))
    assert link["channel"] == FINANCE
    assert link["permalink"].endswith(f"/archives/{FINANCE}/p{parent['ts'].replace('.', '')}")
    threaded = (await client.chat_getPermalink(channel=FINANCE, message_ts=reply["ts"]))
    assert f"p{reply['ts'].replace('.', '')}?thread_ts={parent['ts']}&cid={FINANCE}" in \
        threaded["permalink"]


async def test_unknown_channel_or_message_is_refused(client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=FINANCE, text="x")
    assert await refused(client.chat_getPermalink(channel="C0NOPE", message_ts=posted["ts"])) \
        == "channel_not_found"
    assert await refused(client.chat_getPermalink(channel=FINANCE, message_ts="1.000001")) \
        == "message_not_found"


async def test_no_scope_is_needed(ws: SlackWorkspace, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=FINANCE, text="x")
    ws.credentials.scopes = ("chat:write",)
    assert (await client.chat_getPermalink(channel=FINANCE, message_ts=posted["ts"]))["ok"]
