"""A bill whose Codat id is longer than Slack's limits, approved and paid on the demo page
(issue 14, problem 9): its buttons carry a short handle, and the books get one payment.
A module of its own, so its demo (and payment) is not shared with the other browser tests."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from billbot.demo import ANN, PAT, Demo
from billbot.domain.bill_handles import HANDLE_PREFIX
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY, actions_block_id, section_block_id
from billbot.slackapp.control_blocks import BLOCK_NOT_DUPLICATE
from tests.browser.people import become
from tests.support.long_bills import add_copy_due_today

pytestmark = pytest.mark.browser

LONG_ID = "INV-LONG-" + "9" * 291  # 300 characters


def carried_values(demo: Demo) -> list[str]:
    """What the long-id bill's buttons carry, in every message of the channel."""
    ws = demo.workspace
    return [str(e.get("value")) for top in ws.messages(demo.channel_id)
            for m in (top, *ws.thread(demo.channel_id, top.ts)) for b in m.blocks
            if str(b.get("block_id", "")).startswith(actions_block_id(LONG_ID))
            for e in b.get("elements", [])]


def test_a_bill_with_a_300_character_id_is_approved_and_paid(browser: Browser,
                                                             demo: Demo) -> None:
    ledger = demo.sandbox.main_ledger
    source = next(b for b in ledger.bills.values()
                  if b["status"] == "Open" and b["currency"] == "GBP" and b.get("amountDue"))
    add_copy_due_today(ledger, source, LONG_ID, "LONG-ID-300")

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(f"{demo.url}?as={ANN.user_id}")
    posted = page.locator('#timeline .message[data-kind="message"]')
    expect(posted.first).to_be_visible()
    before = posted.count()
    page.fill("#composer", "/bills digest")
    page.press("#composer", "Enter")
    expect(posted).to_have_count(before + 1)

    actions = page.locator(f'[data-block-id^="{actions_block_id(LONG_ID)}"]').first
    row = page.locator(f'[data-block-id^="{section_block_id(LONG_ID)}"]').first
    approve = actions.locator(f'button[data-action-id="{ACTION_APPROVE}"]')
    expect(approve).to_be_visible()
    assert carried_values(demo) and all(v.startswith(HANDLE_PREFIX) for v in carried_values(demo))
    approve.click()
    expect(row).to_contain_text(f"Approved by @{ANN.real_name}")

    become(page, PAT.user_id)
    actions.locator(f'button[data-action-id="{ACTION_PAY}"]').click()
    page.locator("#confirm").get_by_role("button", name="Continue").click()
    modal = page.locator("#modal-host .modal")
    account = modal.locator('select[data-block-id="account"]')
    expect(account).to_be_visible()
    account.select_option(account.locator("option").nth(1).get_attribute("value"))
    modal.locator('input[data-block-id="amount"]').fill(str(source["amountDue"]))
    modal.locator("#modal-submit").click()
    expect(modal).to_have_attribute("data-callback-id", "pay_review")
    # The long-id bill is a copy of a seeded bill: the review asks for the duplicate check.
    modal.locator("#modal-submit").click()
    # Refused until ticked; tick once the refusal is drawn (a redraw would drop the tick).
    expect(modal.locator(f'[data-error-for="{BLOCK_NOT_DUPLICATE}"]')).to_contain_text("duplicate")
    modal.locator(f'[data-block-id="{BLOCK_NOT_DUPLICATE}"] input[type="checkbox"]').first.check()
    modal.locator("#modal-submit").click()
    expect(modal.locator(".dialog-title")).to_contain_text("Paid")
    expect(row).to_contain_text("Paid")
    assert [p.bill_id for p in demo.sandbox.payments] == [LONG_ID]
    context.close()

