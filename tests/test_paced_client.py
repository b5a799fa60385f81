"""billbot's Slack client against the strict stand-in (rate limits on): posts to one channel
are paced under Slack's per-channel limit, a 429 is retried after its Retry-After, and every
chat.update carries new block_ids while the rows keep their names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from billbot.sandbox.serving import ServedApp
from billbot.sandbox.slack import SlackWorkspace
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.slack_web.block_revisions import base_block_id
from billbot.slack_web.paced_client import POST_BURST, PacedSlackClient, build_slack_client

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
    assert [c.status for c in workspace.calls("chat.postMessage")] == [200] * (POST_BURST + 2)


async def test_a_429_is_retried_after_retry_after(client: PacedSlackClient,
                                                  workspace: SlackWorkspace) -> None:
    workspace.faults.rate_limit("chat.postMessage", times=1, retry_after=1)
    assert (await client.chat_postMessage(channel=CHANNEL, text="hello"))["ok"]
    assert [c.status for c in workspace.calls("chat.postMessage")] == [429, 200]


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
