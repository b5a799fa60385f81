"""`billbot demo` in Chromium: Create bill from a file posted on the page. Ada attaches the
sample invoice in #finance, runs *Create bill* from the message's More actions menu, fills and
submits the form; the new row appears with the invoice in its thread; Ann approves, Pat pays
(confirming the review) and the Accounting pane shows the bill paid."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, expect

from billbot.demo import ADA, ANN, PAT, Demo
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY, actions_block_id
from billbot.slackapp.newbill_blocks import CALLBACK_NEW_BILL, SHORTCUT_CREATE_BILL
from tests.browser.people import become

pytestmark = pytest.mark.browser

REFERENCE = "FAB-2001"


def test_create_bill_from_a_posted_pdf_then_approve_and_pay(browser: Browser, demo: Demo) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{demo.url}?as={ADA.user_id}")

    # Attach the sample invoice (a generated PDF with a text layer) to a message.
    page.locator("#composer").fill("Invoice from Fabrikam")
    page.locator("#attach").click()
    page.locator('#attach-menu [data-choice="sample"]').click()
    posted = page.locator('#timeline .message[data-kind="message"]',
                          has=page.locator(".file-card"))
    expect(posted).to_contain_text("fabrikam-FAB-2001.pdf")
    expect(posted).to_contain_text("Invoice from Fabrikam")

    # More actions → Create bill: the app's form, filled in (not the loading view).
    posted.locator(".more-actions").click()
    page.locator(f'#shortcut-menu [data-callback-id="{SHORTCUT_CREATE_BILL}"]').click()
    modal = page.locator("#modal-host .modal")
    expect(modal).to_have_attribute("data-callback-id", CALLBACK_NEW_BILL)
    account = modal.locator('select[data-block-id="account"]')
    expect(account).to_be_visible()
    expect(modal).to_contain_text("fabrikam-FAB-2001.pdf")
    modal.locator('input[data-block-id="new_supplier"]').fill("Fabrikam Fresh Ltd")
    modal.locator('input[data-block-id="reference"]').fill(REFERENCE)
    issued = date.today()
    modal.locator('input[data-block-id="issue_date"]').fill(issued.isoformat())
    modal.locator('input[data-block-id="due_date"]').fill((issued + timedelta(days=30)).isoformat())
    modal.locator('input[data-block-id="currency"]').fill("GBP")
    modal.locator('input[data-block-id="description"]').fill("Widgets")
    modal.locator('input[data-block-id="amount"]').fill("1,250.40")
    account.select_option(index=1)
    modal.locator("#modal-submit").click()

    row = page.locator('#timeline .message[data-kind="message"]', has_text="New bill")
    expect(row).to_contain_text(REFERENCE, timeout=30_000)
    page.locator("#modal-close").click()
    [bill] = [b for b in demo.sandbox.main_ledger.bills.values() if b["reference"] == REFERENCE]
    row.locator("button.replies").click()
    expect(page.locator("#thread")).to_contain_text("Invoice for bill", timeout=30_000)
    expect(page.locator("#thread .file-card")).to_be_visible()

    become(page, ANN.user_id)
    row.locator(f'[data-block-id^="{actions_block_id(bill["id"])}"] '
                f'button[data-action-id="{ACTION_APPROVE}"]').click()
    expect(row).to_contain_text(f"Approved by @{ANN.real_name}")

    become(page, PAT.user_id)
    row.locator(f'[data-block-id^="{actions_block_id(bill["id"])}"] '
                f'button[data-action-id="{ACTION_PAY}"]').click()
    confirm = page.locator("#confirm")
    if confirm.count():
        confirm.get_by_role("button", name="Continue").click()
    expect(modal.locator('select[data-block-id="account"]')).to_be_visible()
    modal.locator('select[data-block-id="account"]').select_option(index=1)
    modal.locator("#modal-submit").click()
    expect(modal).to_have_attribute("data-callback-id", "pay_review")
    assert demo.sandbox.payments == []
    modal.locator("#modal-submit").click()
    expect(modal.locator(".dialog-title")).to_contain_text("Paid", timeout=30_000)
    expect(page.locator(f'#books tr[data-bill-id="{bill["id"]}"]')).to_contain_text(
        "Paid", timeout=30_000)
    payments = httpx.get(f"{demo.codat_url}/_sandbox/payments").json()
    assert [p["billId"] for p in payments] == [bill["id"]]
    context.close()
    assert errors == [], f"the page threw: {errors}"
