"""`CODAT_API=async billbot demo` in Chromium: a pay run recorded as ONE batch payment. The
demo company's books are on Xero, which takes batch payments: Ann approves four GBP bills
of different suppliers, Pat picks "One batch payment" on the review, and the books hold one
payment settling the four (the accounting pane counts it once)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from billbot.demo import ANN, PAT, Demo, start_demo
from billbot.slackapp.blocks import ACTION_APPROVE, actions_block_id, section_block_id
from billbot.slackapp.digest_actions import ACTION_PAYRUN_OPEN
from tests.browser.people import become
from tests.browser.test_demo_payrun import due_gbp

pytestmark = pytest.mark.browser


@pytest.fixture
def async_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):  # the demo's own settings only
            if name.startswith(("SLACK_", "CODAT_", "BILLBOT_")):
                env.delenv(name)
        env.delenv("DATABASE_URL", raising=False)
        env.setenv("CODAT_API", "async")
        running = start_demo(port=0, data_dir=Path(tmp_path_factory.mktemp("demo")))
    yield running
    running.stop()


def test_one_batch_payment_in_the_demo(browser: Browser, async_demo: Demo) -> None:
    demo = async_demo
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    bills = due_gbp(demo)[:4]
    assert len({b["supplierRef"]["id"] for b in bills}) > 1
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
    modal.locator("#modal-submit").click()
    expect(modal).to_have_attribute("data-callback-id", "payrun_review")
    expect(modal).to_contain_text("4 bills in 1 payment")
    modal.locator("label.choice", has_text="One batch payment").locator("input").check()
    modal.locator("#modal-submit").click()

    run = page.locator('#timeline .message[data-kind="message"]',
                       has=page.locator('[data-block-id^="run-progress"]'))
    expect(run).to_contain_text("4 of 4 recorded", timeout=30_000)
    for bill in bills:
        expect(digest.locator(f'[data-block-id^="{section_block_id(bill["id"])}"]')
               ).to_contain_text("Paid", timeout=30_000)
    expect(page.locator("#books-summary")).to_have_text(
        "1 payment recorded this run (4 bills)", timeout=30_000)
    payments = httpx.get(f"{demo.codat_url}/_sandbox/payments").json()
    assert sorted(p["billId"] for p in payments) == sorted(b["id"] for b in bills)
    assert len({p["paymentId"] for p in payments}) == 1
    context.close()
    assert errors == [], f"the page threw: {errors}"
