"""Every Block Kit limit of guide slack.md section 3: a breach is refused as Slack refuses it
(`invalid_blocks` for messages, `invalid_arguments` for views) and recorded in `violations`
with a description naming the limit and a JSON pointer to the offending field."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from billbot.sandbox.slack import SlackWorkspace
from tests.sandbox.slack.conftest import BOB, FINANCE


def text(value: str, kind: str = "plain_text") -> dict[str, str]:
    return {"type": kind, "text": value}


def button(label: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": text(label), "action_id": extra.pop("action_id", "go"),
            **extra}


def option(label: str = "A", value: str = "a") -> dict[str, Any]:
    return {"text": text(label), "value": value}


def section(body: str = "x", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": text(body, "mrkdwn"), **extra}


def actions(*elements: dict[str, Any], block_id: str = "act") -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def select(options: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "sel", "options": options}


CONFIRM = {"title": text("Sure?"), "text": text("Really?"), "confirm": text("Yes"),
           "deny": text("No")}

MESSAGE_BREACHES: dict[str, tuple[list[dict[str, Any]], str, str]] = {
    "51 blocks": ([{"type": "divider"}] * 51, "/blocks", "51 blocks in a message; limit 50"),
    "repeated block_id": ([section(block_id="a"), section(block_id="a")],
                          "/blocks/1/block_id", "block_id 'a' repeats"),
    "repeated action_id": ([actions(button(), button())], "/blocks/0/elements/1/action_id",
                           "action_id 'go' repeats"),
    "section text": ([section("x" * 3001)], "/blocks/0/text/text", "limit 3000"),
    "11 fields": ([{"type": "section", "fields": [text("f", "mrkdwn")] * 11}],
                  "/blocks/0/fields", "11 fields; limit 10"),
    "long field": ([{"type": "section", "fields": [text("f" * 2001, "mrkdwn")]}],
                   "/blocks/0/fields/0/text", "limit 2000"),
    "header length": ([{"type": "header", "text": text("h" * 151)}], "/blocks/0/text/text",
                      "limit 150"),
    "mrkdwn header": ([{"type": "header", "text": text("h", "mrkdwn")}], "/blocks/0/text/type",
                      "plain_text"),
    "button text": ([actions(button("b" * 76))], "/blocks/0/elements/0/text/text", "limit 75"),
    "button value": ([actions(button(value="v" * 2001))], "/blocks/0/elements/0/value",
                     "limit 2000"),
    "button url": ([actions(button(url="u" * 3001))], "/blocks/0/elements/0/url", "limit 3000"),
    "button style": ([actions(button(style="green"))], "/blocks/0/elements/0/style",
                     "primary or danger"),
    "long action_id": ([actions(button(action_id="a" * 256))],
                       "/blocks/0/elements/0/action_id", "limit 255"),
    "long block_id": ([section(block_id="b" * 256)], "/blocks/0/block_id", "limit 255"),
    "option text": ([actions(select([option("o" * 76)]))],
                    "/blocks/0/elements/0/options/0/text/text", "limit 75"),
    "option value": ([actions(select([option(value="v" * 151)]))],
                     "/blocks/0/elements/0/options/0/value", "limit 150"),
    "101 options": ([actions(select([option(value=str(i)) for i in range(101)]))],
                    "/blocks/0/elements/0/options", "101 options; limit 100"),
    "confirm title": ([actions(button(confirm={**CONFIRM, "title": text("t" * 101)}))],
                      "/blocks/0/elements/0/confirm/title/text", "limit 100"),
    "confirm text": ([actions(button(confirm={**CONFIRM, "text": text("t" * 301)}))],
                     "/blocks/0/elements/0/confirm/text/text", "limit 300"),
    "confirm button": ([actions(button(confirm={**CONFIRM, "confirm": text("c" * 31)}))],
                       "/blocks/0/elements/0/confirm/confirm/text", "limit 30"),
    "confirm deny": ([actions(button(confirm={**CONFIRM, "deny": text("d" * 31)}))],
                     "/blocks/0/elements/0/confirm/deny/text", "limit 30"),
    "26 elements": ([actions(*[button(action_id=f"b{i}") for i in range(26)])],
                    "/blocks/0/elements", "26 elements; limit 25"),
    "11 context elements": ([{"type": "context", "elements": [text("c", "mrkdwn")] * 11}],
                            "/blocks/0/elements", "11 elements; limit 10"),
    "input in a message": ([{"type": "input", "label": text("L"),
                             "element": {"type": "plain_text_input", "action_id": "i"}}],
                           "/blocks/0", "only allowed in views"),
    "6 overflow options": ([actions({"type": "overflow", "action_id": "o",
                                     "options": [option(value=str(i)) for i in range(6)]})],
                           "/blocks/0/elements/0/options", "6 options; limit 5"),
    "empty text": ([section("")], "/blocks/0/text/text", "non-empty"),
    "unknown block": ([{"type": "carousel"}], "/blocks/0/type", "unknown block type"),
}


def modal(**extra: Any) -> dict[str, Any]:
    return {"type": "modal", "callback_id": "pay", "title": text("Pay"), "submit": text("Pay"),
            "blocks": [{"type": "input", "block_id": "amount", "label": text("Amount"),
                        "element": {"type": "number_input", "action_id": "v",
                                    "is_decimal_allowed": True}}], **extra}


VIEW_BREACHES: dict[str, tuple[dict[str, Any], str, str]] = {
    "title": (modal(title=text("t" * 25)), "/view/title/text", "limit 24"),
    "submit": (modal(submit=text("s" * 25)), "/view/submit/text", "limit 24"),
    "close": (modal(close=text("c" * 25)), "/view/close/text", "limit 24"),
    "private_metadata": (modal(private_metadata="m" * 3001), "/view/private_metadata",
                         "limit 3000"),
    "callback_id": (modal(callback_id="c" * 256), "/view/callback_id", "limit 255"),
    "101 blocks": (modal(blocks=[{"type": "divider"}] * 101), "/view/blocks",
                   "101 blocks in a view; limit 100"),
    "no submit with inputs": ({k: v for k, v in modal().items() if k != "submit"},
                              "/view/submit", "needs a submit"),
    "button as input": (modal(blocks=[{"type": "input", "label": text("L"),
                                       "element": button()}]),
                        "/view/blocks/0/element/type", "not allowed here"),
    "number_input without is_decimal_allowed": (
        modal(blocks=[{"type": "input", "label": text("L"),
                       "element": {"type": "number_input", "action_id": "v"}}]),
        "/view/blocks/0/element/is_decimal_allowed", "is required"),
    "bad initial_date": (modal(blocks=[{"type": "input", "label": text("L"), "element": {
        "type": "datepicker", "action_id": "d", "initial_date": "22/11/2026"}}]),
        "/view/blocks/0/element/initial_date", "YYYY-MM-DD"),
}


@pytest.mark.parametrize("blocks, pointer, problem", MESSAGE_BREACHES.values(),
                         ids=MESSAGE_BREACHES.keys())
async def test_message_breaches(client: AsyncWebClient, workspace: SlackWorkspace,
                                blocks: list[dict[str, Any]], pointer: str, problem: str) -> None:
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel=FINANCE, text="t", blocks=blocks)
    assert refused.value.response["error"] == "invalid_blocks"
    assert any(pointer in m for m in refused.value.response["response_metadata"]["messages"])
    assert any(v.pointer == pointer and problem in v.problem and v.method == "chat.postMessage"
               for v in workspace.violations), workspace.violations
    assert workspace.messages(FINANCE) == []


@pytest.mark.parametrize("view, pointer, problem", VIEW_BREACHES.values(),
                         ids=VIEW_BREACHES.keys())
async def test_view_breaches(client: AsyncWebClient, workspace: SlackWorkspace,
                             view: dict[str, Any], pointer: str, problem: str) -> None:
    with pytest.raises(SlackApiError) as refused:
        await client.views_open(trigger_id=workspace.issue_trigger(BOB), view=view)
    assert refused.value.response["error"] == "invalid_arguments"
    assert any(v.pointer == pointer and problem in v.problem for v in workspace.violations), (
        workspace.violations)
    assert workspace.open_view(BOB) is None


async def test_breaches_in_updates_ephemerals_and_text(client: AsyncWebClient,
                                                       workspace: SlackWorkspace) -> None:
    ts = (await client.chat_postMessage(channel=FINANCE, text="ok", blocks=[section()]))["ts"]
    too_long_button = [actions(button("b" * 76))]
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_update(channel=FINANCE, ts=ts, text="x", blocks=too_long_button)
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_postEphemeral(channel=FINANCE, user=BOB, text="x",
                                        blocks=too_long_button)
    with pytest.raises(SlackApiError, match="msg_too_long"):
        await client.chat_postMessage(channel=FINANCE, text="x" * 40_001)
    assert [v.method for v in workspace.violations] == [
        "chat.update", "chat.postEphemeral", "chat.postMessage"]
    assert str(workspace.violations[0]) == (
        "chat.update: text is 76 characters; limit 75 "
        "[json-pointer:/blocks/0/elements/0/text/text]")
    assert workspace.messages(FINANCE)[0].blocks[0]["text"]["text"] == "x"


async def test_a_rich_valid_message_and_modal_pass(client: AsyncWebClient,
                                                   workspace: SlackWorkspace) -> None:
    blocks = [
        {"type": "header", "text": text("h" * 150)},
        section("s" * 3000, block_id="row", accessory=button("b" * 75, value="v" * 2000,
                                                              style="danger", confirm=CONFIRM)),
        {"type": "section", "fields": [text("f" * 2000, "mrkdwn")] * 10},
        actions(*[button(action_id=f"b{i}") for i in range(25)]),
        {"type": "context", "elements": [text("c", "mrkdwn")] * 10},
        actions(select([option("o" * 75, str(i).rjust(150, "0")) for i in range(100)]),
                block_id="sel"),
        {"type": "divider"},
    ]
    await client.chat_postMessage(channel=FINANCE, text="x" * 40_000,
                                  blocks=blocks + [{"type": "divider"}] * 43)
    await client.views_open(trigger_id=workspace.issue_trigger(BOB), view=modal(
        title=text("t" * 24), close=text("c" * 24), private_metadata="m" * 3000,
        callback_id="c" * 255, blocks=modal()["blocks"] + [{"type": "divider"}] * 99))
    assert workspace.violations == []


async def test_errors_naming_a_block_that_is_not_an_input_are_a_violation(
        workspace: SlackWorkspace) -> None:
    view = workspace.views.open(method="views.open", trigger_id=workspace.issue_trigger(BOB),
                                definition=modal())
    assert workspace.views.set_errors(view.id, {"amount": "too much"}) == []
    assert workspace.views.set_errors(view.id, {"amout": "typo"})
    assert workspace.violations[0].pointer == "/errors/amout"
