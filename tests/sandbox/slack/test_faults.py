"""Faults a test switches on: 429 with Retry-After (which slack_sdk's retry handlers honour)
and `ok:false` answers with a chosen error, each for the next N calls of one method."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from billbot.sandbox.serving import ServedApp
from billbot.sandbox.slack import SlackWorkspace
from tests.sandbox.slack.conftest import BOT_TOKEN, FINANCE


async def test_429_is_retried_by_the_async_rate_limit_handler(
        workspace: SlackWorkspace, standin: ServedApp) -> None:
    workspace.faults.rate_limit("chat.postMessage", times=2, retry_after=0)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=workspace.api_url, retry_handlers=[
        AsyncRateLimitErrorRetryHandler(max_retry_count=2)])
    answer = await client.chat_postMessage(channel=FINANCE, text="digest")
    assert answer["ok"]
    calls = workspace.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 429, 200]
    assert calls[0].answer == {"ok": False, "error": "ratelimited"}
    assert [m.text for m in workspace.messages(FINANCE)] == ["digest"]


def test_429_is_retried_by_the_sync_rate_limit_handler(workspace: SlackWorkspace,
                                                       standin: ServedApp) -> None:
    workspace.faults.rate_limit("chat.update", retry_after=0)
    client = WebClient(token=BOT_TOKEN, base_url=workspace.api_url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    ts = client.chat_postMessage(channel=FINANCE, text="a")["ts"]
    assert client.chat_update(channel=FINANCE, ts=ts, text="b")["ok"]
    assert [c.status for c in workspace.calls("chat.update")] == [429, 200]


async def test_without_a_retry_handler_the_429_surfaces_with_retry_after(
        client: AsyncWebClient, workspace: SlackWorkspace) -> None:
    workspace.faults.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel=FINANCE, text="x")
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["retry-after"] == "7"
    assert workspace.messages(FINANCE) == [] and workspace.faults.pending("chat.postMessage") == 0


async def test_a_chosen_error_for_the_next_n_calls(client: AsyncWebClient,
                                                   workspace: SlackWorkspace) -> None:
    workspace.faults.fail("chat.postMessage", "fatal_error", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError, match="fatal_error"):
            await client.chat_postMessage(channel=FINANCE, text="x")
    assert (await client.chat_postMessage(channel=FINANCE, text="x"))["ok"]
    assert len(workspace.messages(FINANCE)) == 1


async def test_faults_are_per_method(client: AsyncWebClient, workspace: SlackWorkspace) -> None:
    workspace.faults.fail("views.open", "expired_trigger_id")
    assert (await client.chat_postMessage(channel=FINANCE, text="x"))["ok"]
    assert workspace.faults.pending("views.open") == 1
    with pytest.raises(ValueError):
        workspace.faults.fail("views.open", "x", times=0)
