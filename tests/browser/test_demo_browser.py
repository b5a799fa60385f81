"""`billbot demo` in Chromium: a finance team approves and pays a bill on the local Slack page,
and the Codat sandbox ends up holding exactly one payment for it.

Every click here goes page -> stand-in -> a request signed as Slack signs it -> billbot ->
Codat sandbox over HTTP; nothing in between is stubbed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from billbot.demo import ADA, ANN, BEN, OSCAR, PAT, Demo
from billbot.money import format_money
from billbot.slackapp.blocks import (
    ACTION_APPROVE,
    ACTION_PAY,
    ACTION_REJECT,
    ACTION_WITHDRAW_REJECTION,
    actions_block_id,
    section_block_id,
)
from billbot.slackapp.mrkdwn import BACKTICK_LOOKALIKE, ZERO_WIDTH
from tests.browser.people import become

pytestmark = pytest.mark.browser


class SlackPage:
    """The local Slack page as one person at a time sees it."""

    def __init__(self, page: Page, demo: Demo) -> None:
        self.page, self.demo = page, demo

    def open_as(self, user_id: str) -> None:
        self.page.goto(f"{self.demo.url}?as={user_id}")
        expect(self.page.locator("#timeline .message").first).to_be_visible()

    def become(self, user_id: str) -> None:
        become(self.page, user_id)

    def message(self, ts: str) -> Locator:
        return self.page.locator(f'#timeline .message[data-ts="{ts}"]')

    def latest_bot_message(self) -> Locator:
        return self.page.locator('#timeline .message[data-kind="message"]').last

    def row(self, bill_id: str, message: Locator) -> Locator:
        return message.locator(f'[data-block-id^="{section_block_id(bill_id)}"]')

    def button(self, bill_id: str, action_id: str, message: Locator) -> Locator:
        return message.locator(f'[data-block-id^="{actions_block_id(bill_id)}"] '
                               f'button[data-action-id="{action_id}"]')

    def ephemerals(self) -> Locator:
        return self.page.locator("#timeline .message.ephemeral")

    def modal(self) -> Locator:
        return self.page.locator("#modal-host .modal")

    def book_row(self, bill_id: str) -> Locator:
        return self.page.locator(f'#books tr[data-bill-id="{bill_id}"]')


@pytest.fixture
def slack(browser: Browser, demo: Demo) -> Iterator[SlackPage]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield SlackPage(page, demo)
    context.close()
    assert errors == [], f"the page threw: {errors}"


def due_bills(demo: Demo, currency: str) -> list[dict[str, Any]]:
    """Open bills the digest lists (due within a week), most urgent first, from the books."""
    last = date.today() + timedelta(days=demo.settings.billbot_due_within_days)
    bills = [b for b in demo.sandbox.main_ledger.bills.values()
             if b["status"] == "Open" and b["currency"] == currency and b.get("amountDue")
             and date.fromisoformat(str(b["dueDate"])[:10]) <= last]
    return [dict(b) for b in sorted(bills, key=lambda b: b["dueDate"])]


def test_digest_approve_then_pay_choosing_an_account(slack: SlackPage, demo: Demo) -> None:
    bill = due_bills(demo, "GBP")[0]
    due = Decimal(str(bill["amountDue"]))
    digest = slack.message(demo.digest_ts[0])

    slack.open_as(ANN.user_id)
    expect(digest.locator(".block-header")).to_contain_text("Bills due")
    row = slack.row(bill["id"], digest)
    expect(row).to_contain_text(bill["reference"])
    expect(row).to_contain_text("Awaiting approval")
    summary = digest.locator('[data-block-id^="digest-summary"]')
    summary_before = summary.inner_text()

    slack.button(bill["id"], ACTION_APPROVE, digest).click()
    expect(row).to_contain_text(f"Approved by @{ANN.real_name}")

    slack.become(PAT.user_id)
    slack.button(bill["id"], ACTION_PAY, digest).click()
    confirm = slack.page.locator("#confirm")
    expect(confirm).to_contain_text("Record a payment?")
    confirm.get_by_role("button", name="Continue").click()
    modal = slack.modal()
    account = modal.locator('select[data-block-id="account"]')
    expect(account).to_be_visible()  # the loading modal was replaced by the pay form
    expect(modal).to_have_attribute("data-callback-id", "pay_bill")

    # Slack's client itself refuses an empty required select, without sending anything.
    modal.locator("#modal-submit").click()
    expect(modal.locator('[data-error-for="account"]')).to_have_text(
        "Please complete this required field.")

    # billbot refuses more than the amount due, inline (response_action: errors).
    choices = account.locator("option").evaluate_all("options => options.map(o => o.value)")
    account.select_option(choices[1])
    amount = modal.locator('input[data-block-id="amount"]')
    amount.fill(str(due + 100))
    modal.locator("#modal-submit").click()
    expect(modal.locator('[data-error-for="amount"]')).to_contain_text("more than")
    assert demo.sandbox.payments == []

    # Typed the way billbot shows amounts; the review step states it all before recording.
    amount.fill(format_money(due, "GBP"))
    modal.locator("#modal-submit").click()
    expect(modal).to_have_attribute("data-callback-id", "pay_review")
    supplier = demo.sandbox.main_ledger.bills[bill["id"]]["supplierRef"]["supplierName"]
    for part in (supplier, format_money(due, "GBP"), "From account", "Payment date"):
        expect(modal).to_contain_text(part)
    assert demo.sandbox.payments == []
    modal.locator("#modal-submit").click()
    expect(modal.locator(".dialog-title")).to_contain_text("Paid")
    expect(row).to_contain_text(f"Paid {format_money(due, 'GBP')} in 1 payment by "
                                f"@{PAT.real_name}")
    expect(row).not_to_contain_text("overdue")  # nothing due: never shown overdue
    expect(summary).not_to_have_text(summary_before)  # the header's totals follow payments
    expect(slack.button(bill["id"], ACTION_PAY, digest)).to_have_count(0)

    expect(slack.book_row(bill["id"])).to_contain_text("Paid")
    expect(slack.page.locator("#books-summary")).to_have_text("1 payment recorded this run")
    payments = httpx.get(f"{demo.codat_url}/_sandbox/payments").json()
    assert [(p["billId"], Decimal(str(p["amount"]))) for p in payments] == [(bill["id"], due)]


def test_outsider_click_gets_a_refusal_only_they_see(slack: SlackPage, demo: Demo) -> None:
    bill = due_bills(demo, "USD")[0]
    digest = slack.message(demo.digest_ts[0])
    refusal = "Only approvers can approve bills"

    slack.open_as(OSCAR.user_id)
    slack.button(bill["id"], ACTION_APPROVE, digest).click()
    expect(slack.ephemerals().filter(has_text=refusal)).to_contain_text("Only visible to you")
    expect(slack.row(bill["id"], digest)).to_contain_text("Awaiting approval")

    slack.become(ANN.user_id)
    expect(slack.page.locator("#person")).to_have_value(ANN.user_id)
    expect(slack.message(demo.digest_ts[0])).to_be_visible()
    expect(slack.ephemerals().filter(has_text=refusal)).to_have_count(0)


def test_bill_text_is_shown_as_text_in_a_digest_posted_from_the_command_box(
        slack: SlackPage, demo: Demo) -> None:
    bill = due_bills(demo, "EUR")[0]
    hostile = '<img src=x onerror="window.__pwned=1"> & <@U0ANN> *b* _i_ ~s~ `c`'
    httpx.patch(f"{demo.codat_url}/_sandbox/bills/{bill['id']}",
                json={"reference": hostile}).raise_for_status()

    slack.open_as(ADA.user_id)
    before = slack.page.locator('#timeline .message[data-kind="message"]').count()
    slack.page.fill("#composer", "/bills digest")
    slack.page.press("#composer", "Enter")
    expect(slack.page.locator('#timeline .message[data-kind="message"]')).to_have_count(before + 1)

    row = slack.row(bill["id"], slack.latest_bot_message())
    expect(row).to_contain_text("onerror")
    # Shown as typed; the zero-width spaces that keep `_` from formatting are invisible.
    # (backticks as their look-alike: a code span would take any text between two).
    shown = row.inner_text().replace(ZERO_WIDTH, "").replace(BACKTICK_LOOKALIKE, "`")
    assert hostile in shown
    assert row.locator("img, .mention").count() == 0
    assert row.locator("b b, i, s, code").count() == 0  # the markers formatted nothing
    expect(slack.book_row(bill["id"])).to_contain_text(hostile)
    assert slack.page.evaluate("window.__pwned") is None


def test_a_rejection_stands_until_its_author_withdraws_it(slack: SlackPage, demo: Demo) -> None:
    bill = due_bills(demo, "GBP")[-1]
    digest = slack.message(demo.digest_ts[0])
    row = slack.row(bill["id"], digest)

    slack.open_as(BEN.user_id)
    slack.button(bill["id"], ACTION_REJECT, digest).click()
    modal = slack.modal()
    expect(modal).to_have_attribute("data-callback-id", "reject_bill")
    reason = modal.locator('textarea[data-block-id="reason"]')
    reason.fill("dup")
    modal.locator("#modal-submit").click()
    expect(modal.locator('[data-error-for="reason"]')).to_contain_text("10 characters")
    reason.fill("Duplicate of INV-00002")
    modal.locator("#modal-submit").click()
    expect(row).to_contain_text(f"Rejected by @{BEN.real_name}")

    slack.become(ANN.user_id)
    slack.button(bill["id"], ACTION_APPROVE, digest).click()
    expect(slack.ephemerals().filter(has_text="rejected this bill")).to_contain_text(
        "Duplicate of INV-00002")
    expect(row).to_contain_text(f"Rejected by @{BEN.real_name}")

    slack.become(BEN.user_id)
    slack.button(bill["id"], ACTION_WITHDRAW_REJECTION, digest).click()
    confirm = slack.page.locator("#confirm")
    expect(confirm).to_contain_text("Withdraw the rejection?")
    confirm.get_by_role("button", name="Withdraw").click()
    expect(row).to_contain_text("Awaiting approval")
    expect(slack.button(bill["id"], ACTION_WITHDRAW_REJECTION, digest)).to_have_count(0)


def test_reloading_the_page_closes_the_modal_as_reloading_slack_does(
        slack: SlackPage, demo: Demo) -> None:
    bill = due_bills(demo, "GBP")[0]
    payments = len(demo.sandbox.payments)  # the demo is shared by this module's tests
    digest = slack.message(demo.digest_ts[0])
    slack.open_as(ANN.user_id)
    slack.button(bill["id"], ACTION_APPROVE, digest).click()
    expect(slack.row(bill["id"], digest)).to_contain_text(f"Approved by @{ANN.real_name}")
    slack.become(PAT.user_id)
    slack.button(bill["id"], ACTION_PAY, digest).click()
    slack.page.locator("#confirm").get_by_role("button", name="Continue").click()
    expect(slack.modal().locator('select[data-block-id="account"]')).to_be_visible()

    slack.page.reload()
    expect(digest).to_be_visible()
    expect(slack.modal()).to_have_count(0)
    state = httpx.get(f"{demo.url}_ui/state", params={"user": PAT.user_id}).json()
    assert state["modal"] is None
    assert len(demo.sandbox.payments) == payments
    # Pay again opens a fresh form, not the one left behind.
    slack.button(bill["id"], ACTION_PAY, digest).click()
    slack.page.locator("#confirm").get_by_role("button", name="Continue").click()
    expect(slack.modal().locator('select[data-block-id="account"]')).to_be_visible()
