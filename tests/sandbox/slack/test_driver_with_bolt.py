"""The driver sends what Slack sends: a real Bolt AsyncApp, served over HTTP, verifies and
handles it, and its Web API calls land in the stand-in."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from billbot.sandbox.slack import (
    RejectedBySlackClient,
    SlackDriver,
    SlackWorkspace,
    SubmissionError,
    number_input,
    payloads,
    static_select,
)
from tests.sandbox.slack.bolt_app import bill_row, pay_modal
from tests.sandbox.slack.conftest import ALICE, BOB, FINANCE, SIGNING_SECRET


async def post_digest(driver: SlackDriver) -> str:
    response = await driver.slash_command(ALICE, FINANCE, "digest")
    assert response.status == 200
    (digest,) = driver.messages(FINANCE)
    return digest.ts


class TestSlashCommands:
    async def test_a_command_reaches_the_listener_which_posts_with_a_thread(
            self, driver: SlackDriver, workspace: SlackWorkspace) -> None:
        ts = await post_digest(driver)
        (reply,) = driver.thread(FINANCE, ts)
        assert reply.thread_ts == ts and "BILL-3" in json.dumps(reply.blocks)
        assert [c.method for c in driver.calls()] == [
            "auth.test", "chat.postMessage", "chat.postMessage"]
        assert workspace.violations == []

    async def test_a_text_ack_is_shown_to_the_caller_only(self, driver: SlackDriver) -> None:
        response = await driver.slash_command(BOB, FINANCE, "hello")
        assert response.outcome == "shown"
        assert [e.text for e in driver.ephemerals(FINANCE, BOB)] == [f"Hello <@{BOB}>"]
        assert driver.ephemerals(FINANCE, ALICE) == []
        assert driver.messages(FINANCE) == []

    async def test_an_in_channel_ack_becomes_a_channel_message(self, driver: SlackDriver) -> None:
        await driver.slash_command(BOB, FINANCE, "announce")
        assert [m.text for m in driver.messages(FINANCE)] == ["Announcement"]

    async def test_respond_goes_through_the_response_url(self, driver: SlackDriver) -> None:
        await driver.slash_command(BOB, FINANCE, "later")
        assert [e.text for e in driver.ephemerals(FINANCE, BOB)] == ["Later, via response_url"]
        (call,) = driver.calls("response_url")
        assert call.status == 200

    async def test_an_unhandled_command_shows_slackbots_error(self, driver: SlackDriver) -> None:
        response = await driver.slash_command(BOB, FINANCE, "x", command="/unknown")
        assert response.status == 404 and response.outcome == "failed"
        (note,) = driver.ephemerals(FINANCE, BOB)
        assert note.sender == "USLACKBOT" and "/unknown failed" in note.text


class TestClicks:
    async def test_approve_updates_the_clicked_row_in_place(self, driver: SlackDriver) -> None:
        ts = await post_digest(driver)
        response = await driver.click(BOB, FINANCE, ts, "approve", block_id="act-BILL-2")
        assert response.status == 200
        (digest,) = driver.messages(FINANCE)
        assert digest.ts == ts and digest.edited_ts is not None
        text = json.dumps(digest.blocks)
        assert f"Approved by <@{BOB}>" in text and "act-BILL-1" in text
        assert "act-BILL-2" not in text

    async def test_a_button_is_found_by_its_text_in_a_row(self, driver: SlackDriver) -> None:
        ts = await post_digest(driver)
        await driver.click(ALICE, FINANCE, ts, text="Approve", row="BILL-1")
        assert "act-BILL-1" not in json.dumps(driver.messages(FINANCE)[0].blocks)

    async def test_an_ambiguous_or_missing_button_is_a_test_error(
            self, driver: SlackDriver) -> None:
        ts = await post_digest(driver)
        with pytest.raises(LookupError, match="2 buttons match"):
            await driver.click(ALICE, FINANCE, ts, "approve")
        with pytest.raises(LookupError, match="no button"):
            await driver.click(ALICE, FINANCE, ts, text="Reject", row="BILL-1")

    async def test_a_click_in_a_thread_reply_updates_that_reply(self, driver: SlackDriver) -> None:
        ts = await post_digest(driver)
        (reply,) = driver.thread(FINANCE, ts)
        await driver.click(ALICE, FINANCE, reply.ts, "approve")
        (updated,) = driver.thread(FINANCE, ts)
        assert "Approved by" in json.dumps(updated.blocks)
        assert "Approved by" not in json.dumps(driver.messages(FINANCE)[0].blocks)

    async def test_replace_original_through_the_response_url(self, driver: SlackDriver) -> None:
        ts = await post_digest(driver)
        await driver.click(ALICE, FINANCE, ts, "replace", block_id="act-BILL-1")
        (digest,) = driver.messages(FINANCE)
        assert digest.text == "Replaced through the response_url" and digest.blocks == []


class TestModals:
    async def test_pay_opens_a_modal_with_the_clicks_trigger(self, driver: SlackDriver) -> None:
        ts = await post_digest(driver)
        await driver.click(BOB, FINANCE, ts, "pay", block_id="act-BILL-1")
        view = driver.open_view(BOB)
        assert view is not None and view.callback_id == "pay_modal"
        assert view.private_metadata == f"{FINANCE}|{ts}|BILL-1"
        assert driver.open_view(ALICE) is None

    async def test_errors_keep_the_modal_open_then_a_good_submission_closes_it(
            self, driver: SlackDriver, workspace: SlackWorkspace) -> None:
        ts = await post_digest(driver)
        await driver.click(BOB, FINANCE, ts, "pay", block_id="act-BILL-1")

        too_much = await driver.submit_view(BOB, {"account": {"choice": static_select("acc-2")},
                                                  "amount": {"value": number_input("150")}})
        assert too_much.outcome == "errors"
        view = driver.open_view(BOB)
        assert view is not None and view.errors == {"amount": "At most 100"}

        ok = await driver.submit_view(BOB, {"account": {"choice": static_select("acc-2")}})
        assert ok.outcome == "closed" and driver.open_view(BOB) is None
        # Untouched inputs keep their initial values, as in Slack.
        assert driver.messages(FINANCE)[-1].text == (
            f"BILL-1 paid 80.00 from acc-2 on 2026-11-22 by <@{BOB}>")
        (closed,) = workspace.views.closed()
        selected = closed.state_values["account"]["choice"]["selected_option"]
        assert selected == {"text": {"type": "plain_text", "text": "Savings GBP"}, "value": "acc-2"}

    async def test_slacks_client_refuses_an_empty_required_input(
            self, driver: SlackDriver) -> None:
        ts = await post_digest(driver)
        await driver.click(BOB, FINANCE, ts, "pay", block_id="act-BILL-1")
        with pytest.raises(RejectedBySlackClient) as refused:
            await driver.submit_view(BOB, {"amount": {"value": number_input("-1")}})
        assert set(refused.value.errors) == {"account", "amount"}
        with pytest.raises(SubmissionError, match="not offered"):
            await driver.submit_view(BOB, {"account": {"choice": static_select("acc-9")}})
        assert driver.calls("chat.postMessage")[-1].params["text"] == "more"

    async def test_closing_a_modal_notifies_the_app(self, driver: SlackDriver) -> None:
        ts = await post_digest(driver)
        await driver.click(BOB, FINANCE, ts, "pay", block_id="act-BILL-2")
        response = await driver.close_view(BOB)
        assert response is not None and response.status == 200
        assert driver.open_view(BOB) is None
        assert driver.messages(FINANCE)[-1].text == "BILL-2 payment cancelled"

    async def test_a_client_going_away_closes_every_modal_of_its_person(
            self, driver: SlackDriver, workspace: SlackWorkspace) -> None:
        ts = await post_digest(driver)
        await driver.click(BOB, FINANCE, ts, "pay", block_id="act-BILL-2")
        await driver.click(ALICE, FINANCE, ts, "pay", block_id="act-BILL-1")
        bottom = driver.open_view(BOB)
        assert bottom is not None
        workspace.views.answer_push(bottom.id, dict(bottom.definition))  # a second one on top
        assert len(workspace.views.stack(BOB)) == 2
        response = await driver.close_view(BOB, every=True)
        assert response is not None and response.status == 200
        assert workspace.views.stack(BOB) == []
        assert driver.messages(FINANCE)[-1].text == "BILL-2 payment cancelled (every modal)"
        assert driver.open_view(ALICE) is not None  # another person's modal stays open


class TestSignatures:
    async def test_every_request_verifies_with_slack_sdks_verifier(
            self, workspace: SlackWorkspace) -> None:
        seen: list[httpx.Request] = []

        async def capture(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200)

        async with httpx.AsyncClient(transport=httpx.MockTransport(capture)) as http:
            driver = SlackDriver(workspace, "http://bot.invalid/slack/events", SIGNING_SECRET, http)
            await driver.slash_command(ALICE, FINANCE, "digest")
            await driver.send_event({"type": "app_home_opened", "user": ALICE}, retry_num=1)
        verifier = SignatureVerifier(SIGNING_SECRET)
        for request in seen:
            assert verifier.is_valid_request(request.content, dict(request.headers))
        form = parse_qs(seen[0].content.decode())
        assert form["command"] == ["/bills"] and form["user_id"] == [ALICE]
        assert form["trigger_id"][0] and form["response_url"][0].startswith(workspace.base_url or "")
        assert seen[1].headers["X-Slack-Retry-Num"] == "1"

    async def test_a_bad_signature_gets_401(self, driver: SlackDriver) -> None:
        body = payloads.form_body({"command": "/bills", "text": "digest"})
        response = await driver.post_signed(body, payloads.FORM, signature="v0=" + "0" * 64)
        assert response.status == 401
        assert driver.calls() == []

    async def test_a_stale_timestamp_gets_401(self, driver: SlackDriver) -> None:
        body = payloads.form_body({"command": "/bills", "text": "digest"})
        response = await driver.post_signed(body, payloads.FORM,
                                            timestamp=int(time.time()) - 301)
        assert response.status == 401


async def test_two_concurrent_submissions_of_one_modal_both_reach_the_app(
        driver: SlackDriver) -> None:
    """A double submit: the app sees both; the second answer finds the modal gone."""
    ts = await post_digest(driver)
    await driver.click(BOB, FINANCE, ts, "pay", block_id="act-BILL-1")
    values = {"account": {"choice": static_select("acc-1")}}
    first, second = await asyncio.gather(driver.submit_view(BOB, values),
                                         driver.submit_view(BOB, values))
    assert sorted([first.outcome or "", second.outcome or ""]) == ["closed", "gone"]
    assert sum("paid" in m.text for m in driver.messages(FINANCE)) == 2
    assert driver.open_view(BOB) is None


class TestPayloadShapes:
    """The fields Slack sends, checked on the wire (the app answers 200 with an empty body)."""

    @staticmethod
    async def captured(workspace: SlackWorkspace,
                       act: Callable[[SlackDriver], Awaitable[None]]) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []

        async def capture(request: httpx.Request) -> httpx.Response:
            seen.append(json.loads(parse_qs(request.content.decode())["payload"][0]))
            return httpx.Response(200)

        async with httpx.AsyncClient(transport=httpx.MockTransport(capture)) as http:
            driver = SlackDriver(workspace, "http://bot.invalid/", SIGNING_SECRET, http)
            await act(driver)
        return seen

    async def test_block_actions_from_a_thread_reply(self, workspace: SlackWorkspace) -> None:
        parent = workspace.post_message(method="t", channel=FINANCE, text="d", blocks=None)
        reply = workspace.post_message(method="t", channel=FINANCE, text="row",
                                       blocks=bill_row("BILL-1", "x"), thread_ts=parent.ts)

        async def act(driver: SlackDriver) -> None:
            await driver.click(ALICE, FINANCE, reply.ts, text="Approve", block_id="act-BILL-1")

        (payload,) = await self.captured(workspace, act)
        assert set(payload) == {
            "type", "user", "api_app_id", "token", "container", "trigger_id", "team",
            "enterprise", "is_enterprise_install", "channel", "message", "state",
            "response_url", "actions"}
        assert payload["type"] == "block_actions" and payload["enterprise"] is None
        assert payload["user"] == {"id": ALICE, "username": "alice", "name": "alice",
                                   "team_id": workspace.team_id}
        assert payload["container"] == {"type": "message", "message_ts": reply.ts,
                                        "channel_id": FINANCE, "is_ephemeral": False,
                                        "thread_ts": parent.ts}
        assert payload["channel"] == {"id": FINANCE, "name": "finance"}
        assert payload["state"] == {"values": {}}
        message = payload["message"]
        assert isinstance(message, dict) and message["thread_ts"] == parent.ts
        assert message["ts"] == reply.ts and message["blocks"] == reply.blocks
        (action,) = payload["actions"]
        assert {k: v for k, v in action.items() if k != "action_ts"} == {
            "type": "button", "action_id": "approve", "block_id": "act-BILL-1",
            "text": {"type": "plain_text", "text": "Approve", "emoji": True},
            "value": "BILL-1", "style": "primary"}

    async def test_view_submission(self, workspace: SlackWorkspace) -> None:
        workspace.views.open(method="t", trigger_id=workspace.issue_trigger(BOB),
                             definition=pay_modal("BILL-1", FINANCE, "1.0"))

        async def act(driver: SlackDriver) -> None:
            await driver.submit_view(BOB, {"account": {"choice": static_select("acc-1")}})

        (payload,) = await self.captured(workspace, act)
        assert payload["type"] == "view_submission" and payload["response_urls"] == []
        assert payload["trigger_id"] and payload["user"]["id"] == BOB
        view = payload["view"]
        assert isinstance(view, dict)
        assert {"id", "team_id", "type", "callback_id", "private_metadata", "blocks", "state",
                "hash", "title", "submit"} <= set(view)
        assert view["state"]["values"]["amount"] == {
            "value": {"type": "number_input", "value": "80.00"}}
        assert workspace.open_view(BOB) is None  # the empty 200 closed it
