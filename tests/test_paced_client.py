"""billbot's Slack client against the strict stand-in (rate limits on): posts to one channel
are paced under Slack's per-channel limit, a 429 on any method waits at least its Retry-After
(checked on the stand-in's own record of when each call arrived) and then sends the same call
again, a bounded number of times, and every chat.update carries new block_ids while the rows
keep their names."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError

from billbot.sandbox.serving import ServedApp
from billbot.sandbox.slack import SlackWorkspace
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.slack_web.block_revisions import base_block_id
from billbot.slack_web.paced_client import (
    MAX_ATTEMPTS,
    POST_BURST,
    PacedSlackClient,
    build_slack_client,
)
from billbot.slack_web.pacing import Limit, Slots

CHANNEL = "C0FINANCE"


@pytest.fixture
def workspace() -> Iterator[SlackWorkspace]:
    ws = SlackWorkspace()
    ws.add_channel(CHANNEL, "finance")
    served: ServedApp = serve_slack_standin(ws)
    yield ws
    served.stop()


@pytest.fixture
def client(workspace: SlackWorkspace) -> PacedSlackClient:
    return build_slack_client(workspace.bot_token, workspace.api_url)


async def test_a_burst_of_posts_to_one_channel_is_paced_not_refused(
        client: PacedSlackClient, workspace: SlackWorkspace) -> None:
    for n in range(POST_BURST + 2):
        assert (await client.chat_postMessage(channel=CHANNEL, text=f"post {n}"))["ok"]
    calls = workspace.calls("chat.postMessage")
    assert [c.status for c in calls] == [200] * (POST_BURST + 2)
    # Past the burst, one a second: read on the stand-in's clock, a lower bound only (the
    # slots are counted from when the first call left, not when it arrived).
    assert calls[-1].received - calls[0].received >= 2 - 0.25


@pytest.mark.parametrize("method", ["chat.postMessage", "chat.update", "views.publish"])
async def test_a_429_waits_its_retry_after_then_sends_the_same_call(
        client: PacedSlackClient, workspace: SlackWorkspace, method: str) -> None:
    posted = (await client.chat_postMessage(channel=CHANNEL, text="first"))["ts"]
    workspace.faults.rate_limit(method, times=2, retry_after=2)
    if method == "chat.postMessage":
        answer = await client.chat_postMessage(channel=CHANNEL, text="hello")
    elif method == "chat.update":
        answer = await client.chat_update(channel=CHANNEL, ts=posted, text="changed")
    else:
        workspace.add_user("U0ANN", "ann")
        answer = await client.views_publish(user_id="U0ANN", view={"type": "home", "blocks": []})
    assert answer["ok"]
    calls = workspace.calls(method)[-3:]
    assert [c.status for c in calls] == [429, 429, 200]
    assert len({repr(sorted(c.params.items())) for c in calls}) == 1  # the same call again
    # Retry-After 2 honoured, on the stand-in's record of arrivals (a lower bound only).
    for refused, following in itertools.pairwise(calls):
        assert following.received - refused.received >= 2 * 0.99


async def test_a_call_refused_every_time_gives_up_after_max_attempts(
        client: PacedSlackClient, workspace: SlackWorkspace) -> None:
    workspace.faults.rate_limit("chat.postMessage", times=MAX_ATTEMPTS + 3, retry_after=1)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=CHANNEL, text="never")
    assert raised.value.response.status_code == 429
    assert len(workspace.calls("chat.postMessage")) == MAX_ATTEMPTS


class _Watched(Slots):
    def __init__(self) -> None:
        super().__init__()
        self.held = asyncio.Event()

    async def hold(self, key: str, seconds: float, limit: Limit) -> None:
        await super().hold(key, seconds, limit)
        self.held.set()


async def test_a_429_holds_every_later_caller_of_that_bucket(workspace: SlackWorkspace) -> None:
    """chat.update's bucket is the workspace's (Tier 3): once one update is told Retry-After,
    an update of another message waits it out too instead of being refused in turn."""
    slots = _Watched()
    client = build_slack_client(workspace.bot_token, workspace.api_url, slots=slots)
    first = (await client.chat_postMessage(channel=CHANNEL, text="one"))["ts"]
    second = (await client.chat_postMessage(channel=CHANNEL, text="two"))["ts"]
    workspace.faults.rate_limit("chat.update", times=1, retry_after=2)
    refused = asyncio.create_task(client.chat_update(channel=CHANNEL, ts=first, text="1"))
    await asyncio.wait_for(slots.held.wait(), 30)
    await client.chat_update(channel=CHANNEL, ts=second, text="2")
    await refused
    calls = workspace.calls("chat.update")
    assert [c.status for c in calls] == [429, 200, 200]
    assert all(c.received - calls[0].received >= 2 * 0.99 for c in calls[1:])


async def test_every_update_gets_new_block_ids_with_the_same_names(
        client: PacedSlackClient, workspace: SlackWorkspace) -> None:
    blocks = [{"type": "section", "block_id": "bill:abc", "text": {"type": "mrkdwn", "text": "x"}}]
    ts = (await client.chat_postMessage(channel=CHANNEL, text="x", blocks=blocks))["ts"]
    seen = set()
    for text in ("y", "z"):
        await client.chat_update(channel=CHANNEL, ts=ts, text=text, blocks=blocks)
        (block,) = workspace.message(CHANNEL, ts).blocks  # type: ignore[union-attr]
        assert base_block_id(block["block_id"]) == "bill:abc"
        seen.add(block["block_id"])
    assert len(seen) == 2 and "bill:abc" not in seen
    assert workspace.violations == []
