"""response_urls: ephemeral by default, `in_channel` posts, `replace_original` and
`delete_original` act on the message clicked; 5 uses within 30 minutes."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.webhook.async_client import AsyncWebhookClient

from billbot.clock import FixedClock
from billbot.sandbox.serving import ServedApp
from billbot.sandbox.slack import SlackWorkspace
from tests.sandbox.slack.conftest import BOB, FINANCE

ROW = [{"type": "section", "block_id": "r", "text": {"type": "mrkdwn", "text": "BILL-1"}}]


def post_row(workspace: SlackWorkspace) -> str:
    return workspace.post_message(method="test", channel=FINANCE, text="row", blocks=ROW).ts


async def test_a_plain_response_is_ephemeral(workspace: SlackWorkspace,
                                             standin: ServedApp) -> None:
    url = workspace.issue_response_url(FINANCE, BOB)
    response = await AsyncWebhookClient(url).send(text="Only for Bob")
    assert response.status_code == 200
    assert [e.text for e in workspace.ephemerals(FINANCE, BOB)] == ["Only for Bob"]
    assert workspace.messages(FINANCE) == []


async def test_in_channel_posts_to_the_channel(workspace: SlackWorkspace,
                                               standin: ServedApp) -> None:
    url = workspace.issue_response_url(FINANCE, BOB)
    await AsyncWebhookClient(url).send(text="For all", response_type="in_channel")
    assert [m.text for m in workspace.messages(FINANCE)] == ["For all"]


async def test_replace_and_delete_the_original(workspace: SlackWorkspace,
                                               standin: ServedApp) -> None:
    ts = post_row(workspace)
    url = workspace.issue_response_url(FINANCE, BOB, message_ts=ts)
    await AsyncWebhookClient(url).send(text="Approved", replace_original=True)
    (message,) = workspace.messages(FINANCE)
    assert (message.ts, message.text, message.blocks) == (ts, "Approved", [])
    await AsyncWebhookClient(url).send(delete_original=True)
    assert workspace.messages(FINANCE) == []


async def test_replace_an_ephemeral_original(workspace: SlackWorkspace,
                                             standin: ServedApp) -> None:
    ts = workspace.post_ephemeral(method="test", channel=FINANCE, user=BOB, text="Sure?",
                                  blocks=ROW).ts
    url = workspace.issue_response_url(FINANCE, BOB, message_ts=ts, message_is_ephemeral=True)
    await AsyncWebhookClient(url).send(text="Done", replace_original=True)
    assert [e.text for e in workspace.ephemerals(FINANCE, BOB)] == ["Done"]


async def test_five_uses_then_used_url(workspace: SlackWorkspace, standin: ServedApp) -> None:
    client = AsyncWebhookClient(workspace.issue_response_url(FINANCE, BOB))
    statuses = [(await client.send(text=str(i))).status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]
    assert workspace.calls("response_url")[-1].answer["error"] == "used_url"


async def test_thirty_minutes_then_expired_url(workspace: SlackWorkspace, standin: ServedApp,
                                               clock: FixedClock) -> None:
    url = workspace.issue_response_url(FINANCE, BOB)
    clock.set(clock.now() + timedelta(minutes=30, seconds=1))
    response = await AsyncWebhookClient(url).send(text="late")
    assert response.status_code == 404 and "expired_url" in response.body


async def test_bad_blocks_through_a_response_url_are_violations(
        workspace: SlackWorkspace, standin: ServedApp) -> None:
    url = workspace.issue_response_url(FINANCE, BOB)
    response = await AsyncWebhookClient(url).send(text="x", blocks=[{"type": "header", "text": {
        "type": "plain_text", "text": "h" * 151}}])
    assert response.status_code == 400 and "invalid_blocks" in response.body
    assert [v.method for v in workspace.violations] == ["response_url"]
