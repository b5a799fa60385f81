"""`billbot demo` in Chromium: an approver holds a bill with a question, Approve is refused
while it is held, the question and the release appear in the digest's thread, and the person
who asked releases it. Every click goes page -> stand-in -> signed request -> billbot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from billbot.demo import ANN, BEN, Demo
from billbot.slackapp.blocks import ACTION_APPROVE, actions_block_id, section_block_id
from billbot.slackapp.hold_blocks import ACTION_HOLD, ACTION_RELEASE
from tests.browser.people import become, click_until

pytestmark = pytest.mark.browser

QUESTION = "Is this the March delivery or the April one?"


@pytest.fixture
def page(browser: Browser, demo: Demo) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"the page threw: {errors}"


def button(digest: Locator, bill_id: str, action_id: str) -> Locator:
    return digest.locator(f'[data-block-id^="{actions_block_id(bill_id)}"] '
                          f'button[data-action-id="{action_id}"]')


def test_hold_then_release_on_the_demo_page(page: Page, demo: Demo) -> None:
    last = date.today() + timedelta(days=demo.settings.billbot_due_within_days)
    bill = sorted((b for b in demo.sandbox.main_ledger.bills.values()
                   if b["status"] == "Open" and b.get("amountDue")
                   and date.fromisoformat(str(b["dueDate"])[:10]) <= last),
                  key=lambda b: str(b["dueDate"]))[0]
    page.goto(f"{demo.url}?as={BEN.user_id}")
    digest = page.locator(f'#timeline .message[data-ts="{demo.digest_ts[0]}"]')
    expect(digest).to_be_visible()
    row = digest.locator(f'[data-block-id^="{section_block_id(bill["id"])}"]')

    button(digest, bill["id"], ACTION_HOLD).click()
    modal = page.locator("#modal-host .modal")
    expect(modal).to_have_attribute("data-callback-id", "hold_bill")
    modal.locator('textarea[data-block-id="question"]').fill(QUESTION)
    modal.locator("#modal-submit").click()
    expect(row).to_contain_text("On hold")
    expect(row).to_contain_text(QUESTION)
    expect(button(digest, bill["id"], ACTION_RELEASE)).to_be_visible()
    expect(button(digest, bill["id"], ACTION_HOLD)).to_have_count(0)

    become(page, ANN.user_id)
    held = page.locator("#timeline .message.ephemeral").filter(has_text="put this bill on hold")
    click_until(page, button(digest, bill["id"], ACTION_APPROVE), held)
    expect(held).to_contain_text(QUESTION)
    # Ann is not the author: her Release is refused.
    click_until(page, button(digest, bill["id"], ACTION_RELEASE), page.locator(
        "#timeline .message.ephemeral").filter(has_text="can release this bill"))

    digest.locator("button.replies").click()
    thread = page.locator("#thread")
    expect(thread).to_contain_text("put on hold by")
    expect(thread).to_contain_text(QUESTION)

    become(page, BEN.user_id)
    click_until(page, button(digest, bill["id"], ACTION_RELEASE),
                button(digest, bill["id"], ACTION_HOLD))
    expect(row).not_to_contain_text("On hold")
    expect(button(digest, bill["id"], ACTION_HOLD)).to_be_visible()
    expect(thread).to_contain_text("released from hold by")
