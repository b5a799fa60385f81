"""App Home and direct messages in `billbot demo`, in Chromium: the Home tab under *Apps*
publishes each person's queue when opened, a click there approves the bill everywhere, and
(the demo runs with BILLBOT_NOTIFY=both) the payer then finds the bill in a DM card."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from billbot.demo import ADA, BEN, OSCAR, PAT, Demo
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY, section_block_id
from billbot.slackapp.home_blocks import HOME_ACTIONS_PREFIX

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Browser, demo: Demo) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"the page threw: {errors}"


def open_home(page: Page, demo: Demo, user_id: str) -> Locator:
    page.goto(f"{demo.url}?as={user_id}")
    expect(page.locator("#timeline .message").first).to_be_visible()
    page.locator('#channel-list li[data-home="1"]').click()
    expect(page.locator("#channel-title")).to_have_text("billbot · Home")
    home = page.locator("#timeline .home-view")
    expect(home).to_be_visible()
    return home


def first_waiting_bill(demo: Demo) -> str:
    """The bill at the top of an approver's Home: the most urgent open one."""
    bills = [b for b in demo.sandbox.main_ledger.bills.values()
             if b["status"] in ("Open", "PartiallyPaid")]
    first = min(bills, key=lambda b: (str(b["dueDate"])[:10], -float(b.get("amountDue") or 0),
                                      b["id"]))
    return str(first["id"])


def test_home_shows_the_queue_and_approving_there_moves_the_bill(page: Page,
                                                                 demo: Demo) -> None:
    home = open_home(page, demo, BEN.user_id)
    expect(home).to_contain_text("Waiting for you")
    expect(home).to_contain_text("Paid in the last 7 days")
    bill_id = first_waiting_bill(demo)
    row = home.locator(f'[data-block-id^="{section_block_id(bill_id)}"]')
    expect(row).to_be_visible()
    approve = home.locator(f'[data-block-id^="{HOME_ACTIONS_PREFIX}"] '
                           f'button[data-action-id="{ACTION_APPROVE}"]').first
    approve.click()
    # Ben's Home is re-published without the bill he approved ...
    expect(row).to_have_count(0, timeout=15000)
    # ... and the digest row in #finance says who approved it.
    page.locator("#channel-list li", has_text="finance").click()
    digest_row = page.locator(f'#timeline [data-block-id^="{section_block_id(bill_id)}"]').first
    expect(digest_row).to_contain_text(f"Approved by @{BEN.real_name}", timeout=15000)

    # The payer finds it in their Home with Pay, and in a DM card (BILLBOT_NOTIFY=both).
    pay_home = open_home(page, demo, PAT.user_id)
    expect(pay_home.locator(f'[data-block-id^="{section_block_id(bill_id)}"]')).to_be_visible()
    expect(pay_home.locator(f'button[data-action-id="{ACTION_PAY}"]').first).to_be_visible()
    page.locator("#channel-list li", has_text="💬").first.click()
    card = page.locator(f'#timeline [data-block-id^="{section_block_id(bill_id)}"]')
    expect(card.first).to_be_visible(timeout=20000)


def test_someone_without_a_role_is_told_who_the_admins_are(page: Page, demo: Demo) -> None:
    home = open_home(page, demo, OSCAR.user_id)
    expect(home).to_contain_text("no finance role")
    expect(home).to_contain_text(ADA.real_name)
    expect(home.locator("button")).to_have_count(0)
