"""`billbot demo` in Chromium: a pay run end to end. Ann approves three bills, Pat presses
`Pay approved bills` in the digest header, leaves one out, reviews, confirms; the pay-run
message counts the payments, the rows show them, and the books hold one payment per bill."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from billbot.demo import ANN, PAT, Demo
from billbot.slackapp.blocks import ACTION_APPROVE, actions_block_id, section_block_id
from billbot.slackapp.digest_actions import ACTION_PAYRUN_OPEN
from tests.browser.people import become

pytestmark = pytest.mark.browser


def due_gbp(demo: Demo) -> list[dict[str, Any]]:
    last = date.today() + timedelta(days=demo.settings.billbot_due_within_days)
    bills = [b for b in demo.sandbox.main_ledger.bills.values()
             if b["status"] == "Open" and b["currency"] == "GBP" and b.get("amountDue")
             and date.fromisoformat(str(b["dueDate"])[:10]) <= last]
    return [dict(b) for b in sorted(bills, key=lambda b: b["dueDate"])]


def test_a_pay_run_in_the_demo(browser: Browser, demo: Demo) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    bills = due_gbp(demo)[:3]
    digest = page.locator(f'#timeline .message[data-ts="{demo.digest_ts[0]}"]')

    page.goto(f"{demo.url}?as={ANN.user_id}")
    expect(digest).to_be_visible()
    for bill in bills:
        digest.locator(f'[data-block-id^="{actions_block_id(bill["id"])}"] '
                       f'button[data-action-id="{ACTION_APPROVE}"]').click()
        expect(digest.locator(f'[data-block-id^="{section_block_id(bill["id"])}"]')
               ).to_contain_text("Approved by")

    become(page, PAT.user_id)
    digest.locator(f'button[data-action-id="{ACTION_PAYRUN_OPEN}"]').click()
    modal = page.locator("#modal-host .modal")
    expect(modal).to_have_attribute("data-callback-id", "payrun_form")
    for bill in bills:
        expect(modal).to_contain_text(bill["reference"])
    left_out = bills[2]
    modal.locator("label.choice", has_text=left_out["reference"]).locator("input").uncheck()
    modal.locator("#modal-submit").click()
    expect(modal).to_have_attribute("data-callback-id", "payrun_review")
    expect(modal).to_contain_text("2 payments")
    assert demo.sandbox.payments == []
    modal.locator("#modal-submit").click()

    run = page.locator('#timeline .message[data-kind="message"]',
                       has=page.locator('[data-block-id^="run-progress"]'))
    expect(run).to_contain_text("2 of 2 recorded", timeout=30_000)
    for bill in bills[:2]:
        expect(digest.locator(f'[data-block-id^="{section_block_id(bill["id"])}"]')
               ).to_contain_text("Paid", timeout=30_000)
        expect(page.locator(f'#books tr[data-bill-id="{bill["id"]}"]')).to_contain_text("Paid")
    expect(digest.locator(f'[data-block-id^="{section_block_id(left_out["id"])}"]')
           ).not_to_contain_text("Paid")
    payments = httpx.get(f"{demo.codat_url}/_sandbox/payments").json()
    assert Counter(p["billId"] for p in payments) == Counter(b["id"] for b in bills[:2])
    context.close()
    assert errors == [], f"the page threw: {errors}"
