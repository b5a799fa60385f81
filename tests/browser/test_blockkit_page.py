"""The local Slack page renders every Block Kit piece billbot may use, and a modal's inputs
reach the app in exactly the shapes Slack sends (state.values), whatever the app answers.

The message and the modal are put into the demo's workspace directly (as the Web API would
store them), so these checks do not depend on what billbot happens to post today.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from billbot.demo import ANN, Demo

pytestmark = pytest.mark.browser

def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


GALLERY: list[dict[str, Any]] = [
    {"type": "header", "block_id": "head", "text": {"type": "plain_text", "text": "<b>Header</b> :warning:"}},
    {"type": "section", "block_id": "text", "text": {"type": "mrkdwn", "text": (
        "*bold* _italics_ ~struck~ `code` <https://example.com/x|a link> <@U0ANN> "
        ":white_check_mark: &lt;i&gt;not markup&lt;/i&gt; snake_case_name")},
     "accessory": {"type": "button", "action_id": "acc", "text": {"type": "plain_text", "text": "Open"}}},
    {"type": "section", "block_id": "fields", "fields": [
        {"type": "mrkdwn", "text": "*Supplier*\nAcme"}, {"type": "plain_text", "text": "Due\ntoday"}]},
    {"type": "divider", "block_id": "rule"},
    {"type": "context", "block_id": "ctx", "elements": [{"type": "mrkdwn", "text": "small print"}]},
    {"type": "actions", "block_id": "acts", "elements": [
        {"type": "button", "action_id": "go", "style": "primary", "text": _plain("Go")},
        {"type": "button", "action_id": "stop", "style": "danger", "text": _plain("Stop"),
         "confirm": {"title": {"type": "plain_text", "text": "Really stop?"},
                     "text": {"type": "mrkdwn", "text": "It *cannot* be undone."},
                     "confirm": {"type": "plain_text", "text": "Stop it"},
                     "deny": {"type": "plain_text", "text": "Keep going"}}}]},
]


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value.title()}, "value": value}


FORM: dict[str, Any] = {
    "type": "modal", "callback_id": "gallery_form", "title": {"type": "plain_text", "text": "Every input"},
    "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {"type": "input", "block_id": "pick", "label": {"type": "plain_text", "text": "Pick"},
         "element": {"type": "static_select", "action_id": "pick", "option_groups": [
             {"label": _plain("Banks"), "options": [_option("bank"), _option("card")]}]}},
        {"type": "input", "block_id": "radio", "label": {"type": "plain_text", "text": "Radio"},
         "element": {"type": "radio_buttons", "action_id": "radio",
                     "options": [_option("one"), _option("two")], "initial_option": _option("one")}},
        {"type": "input", "block_id": "note", "optional": True, "label": _plain("Note"),
         "element": {"type": "plain_text_input", "action_id": "note", "multiline": True}},
        {"type": "input", "block_id": "count", "label": {"type": "plain_text", "text": "Count"},
         "element": {"type": "number_input", "action_id": "count", "is_decimal_allowed": False,
                     "min_value": "1"}},
        {"type": "input", "block_id": "day", "label": {"type": "plain_text", "text": "Day"},
         "element": {"type": "datepicker", "action_id": "day", "initial_date": "2026-01-31"}},
    ],
}


@pytest.fixture
def page(browser: Browser, demo: Demo) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(f"{demo.url}?as={ANN.user_id}")
    yield opened
    context.close()
    assert errors == [], f"the page threw: {errors}"


def test_message_blocks_render_as_slack_shows_them(page: Page, demo: Demo) -> None:
    posted = demo.workspace.post_message(method="chat.postMessage", channel=demo.channel_id,
                                         text="gallery", blocks=GALLERY)
    message = page.locator(f'#timeline .message[data-ts="{posted.ts}"]')
    expect(message.locator(".block-header")).to_have_text("<b>Header</b> ⚠")
    text = message.locator('[data-block-id="text"] .section-text')
    expect(text.locator("b")).to_have_text("bold")
    expect(text.locator("i")).to_have_text("italics")
    expect(text.locator("s")).to_have_text("struck")
    expect(text.locator("code")).to_have_text("code")
    expect(text.locator("a")).to_have_attribute("href", "https://example.com/x")
    expect(text.locator(".mention")).to_have_text(f"@{ANN.real_name}")
    expect(text).to_contain_text("<i>not markup</i> snake_case_name")
    assert text.locator("a").inner_text() == "a link"
    expect(message.locator('[data-block-id="text"] .accessory button')).to_have_text("Open")
    expect(message.locator('[data-block-id="fields"] .field')).to_have_count(2)
    expect(message.locator('[data-block-id="fields"] .field b')).to_have_text("Supplier")
    expect(message.locator('[data-block-id="rule"] hr')).to_have_count(1)
    expect(message.locator('[data-block-id="ctx"]')).to_have_text("small print")
    expect(message.locator('button[data-action-id="go"]')).to_have_class("bk-button bk-primary")
    expect(message.locator('button[data-action-id="stop"]')).to_have_class("bk-button bk-danger")

    message.locator('button[data-action-id="stop"]').click()
    confirm = page.locator("#confirm")
    expect(confirm).to_contain_text("Really stop?")
    expect(confirm.locator("b")).to_have_text("cannot")
    confirm.get_by_role("button", name="Keep going").click()
    expect(confirm).to_have_count(0)


def test_modal_inputs_are_submitted_in_slacks_shapes(page: Page, demo: Demo) -> None:
    ws = demo.workspace
    view = ws.views.open(method="views.open", trigger_id=ws.issue_trigger(ANN.user_id),
                         definition=FORM)
    modal = page.locator("#modal-host .modal")
    expect(modal.locator(".dialog-title")).to_contain_text("Every input")

    modal.locator("#modal-submit").click()  # Slack's client checks first: nothing is sent
    expect(modal.locator('[data-error-for="pick"]')).to_have_text("Please complete this required field.")
    expect(modal.locator('[data-error-for="count"]')).to_have_text("Please complete this required field.")

    modal.locator('select[data-block-id="pick"]').select_option("card")
    modal.get_by_label("Two").check()
    modal.locator('textarea[data-block-id="note"]').fill("<script>x</script>")
    modal.locator('input[data-block-id="count"]').fill("3")
    modal.locator('input[data-block-id="day"]').fill("2026-02-14")
    modal.locator("#modal-submit").click()
    # billbot acknowledges forms it does not know with an empty 200: Slack closes the modal.
    expect(modal).to_have_count(0)

    closed = next(v for v in ws.views.closed() if v.id == view.id)
    assert closed.closed_by == "submitted"
    assert closed.state_values == {
        "pick": {"pick": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "Card"}, "value": "card"}}},
        "radio": {"radio": {"type": "radio_buttons", "selected_option": {
            "text": {"type": "plain_text", "text": "Two"}, "value": "two"}}},
        "note": {"note": {"type": "plain_text_input", "value": "<script>x</script>"}},
        "count": {"count": {"type": "number_input", "value": "3"}},
        "day": {"day": {"type": "datepicker", "selected_date": "2026-02-14"}},
    }

    again = ws.views.open(method="views.open", trigger_id=ws.issue_trigger(ANN.user_id),
                          definition=FORM)
    modal.locator("#modal-close").click()
    expect(modal).to_have_count(0)
    assert next(v for v in ws.views.closed() if v.id == again.id).closed_by == "closed by the user"


def test_a_button_in_a_thread_reply_reaches_billbot_and_the_reply_updates(
        page: Page, demo: Demo) -> None:
    digest = demo.workspace.message(demo.channel_id, demo.digest_ts[0])
    assert digest is not None
    row_start = next(i for i, b in enumerate(digest.blocks) if b["block_id"].startswith("bill:"))
    row = digest.blocks[row_start:row_start + 2]  # a bill's section and its buttons
    parent = demo.workspace.post_message(method="chat.postMessage", channel=demo.channel_id,
                                         text="More bills follow in the thread.", blocks=None)
    demo.workspace.post_message(method="chat.postMessage", channel=demo.channel_id,
                                text="Bills 24–24", blocks=row, thread_ts=parent.ts)

    page.locator(f'#timeline .message[data-ts="{parent.ts}"] .replies').click()
    thread = page.locator("#thread")
    expect(thread).to_be_visible()
    reply_row = thread.locator(f'[data-block-id^="{row[0]["block_id"]}"]')  # ~revision after updates
    expect(reply_row).to_contain_text("Awaiting approval")
    thread.locator(f'[data-block-id="{row[1]["block_id"]}"] button[data-action-id="bill_approve"]').click()
    expect(reply_row).to_contain_text(f"Approved by @{ANN.real_name}")
