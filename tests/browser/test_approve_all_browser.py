"""`billbot demo` in Chromium: an approver presses Approve all in the digest header, reads the
confirmation (count and totals per currency), unticks one bill, reads the new count, confirms,
and the rows say they approved them.
The demo is this module's own, so the other browser tests still find bills awaiting approval."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from billbot.demo import BEN, Demo
from billbot.money import format_money
from billbot.slackapp.blocks import section_block_id
from billbot.slackapp.digest_actions import ACTION_APPROVE_ALL, DIGEST_ACTIONS_BLOCK_ID

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    opened = context.new_page()
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"the page threw: {errors}"


def test_approve_all_from_the_digest_header(page: Page, demo: Demo) -> None:
    last = date.today() + timedelta(days=demo.settings.billbot_due_within_days)
    due = [b for b in demo.sandbox.main_ledger.bills.values()
           if b["status"] in ("Open", "PartiallyPaid")
           and date.fromisoformat(str(b["dueDate"])[:10]) <= last]
    totals: dict[str, Decimal] = {}
    for bill in (b for b in due if b.get("amountDue") is not None):
        totals[bill["currency"]] = totals.get(bill["currency"], Decimal(0)) + Decimal(
            str(bill["amountDue"]))

    page.goto(f"{demo.url}?as={BEN.user_id}")
    digest = page.locator(f'#timeline .message[data-ts="{demo.digest_ts[0]}"]')
    expect(digest).to_be_visible()
    digest.locator(f'[data-block-id^="{DIGEST_ACTIONS_BLOCK_ID}"] '
                   f'button[data-action-id="{ACTION_APPROVE_ALL}"]').click()
    modal = page.locator("#modal-host .modal")
    expect(modal).to_have_attribute("data-callback-id", "approve_all")
    expect(modal).to_contain_text(f"Approve {len(due)} bills")
    for currency, amount in totals.items():
        expect(modal).to_contain_text(format_money(amount, currency))
    assert not any(demo.sandbox.payments)

    # Untick one: a second look with the new count, then only the ticked are approved.
    boxes = modal.locator('input[type="checkbox"]')
    expect(boxes).to_have_count(len(due))
    boxes.last.uncheck()
    modal.locator("#modal-submit").click()
    expect(modal).to_contain_text(f"Approve {len(due) - 1} bills")
    expect(modal.locator('input[type="checkbox"]')).to_have_count(len(due) - 1)
    modal.locator("#modal-submit").click()
    expect(modal).to_contain_text(f"{len(due) - 1} approved")
    first = sorted(due, key=lambda b: b["dueDate"])[0]
    expect(digest.locator(f'[data-block-id^="{section_block_id(first["id"])}"]')).to_contain_text(
        f"Approved by @{BEN.real_name}")
