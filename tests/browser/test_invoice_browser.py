"""Details and View invoice on the demo page, in Chromium: an approver opens a bill's Details
from its row, reads the lines adding up, presses View invoice, and the PDF appears in the
digest's thread as a file card that opens the real PDF."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from billbot.demo import ANN, Demo
from billbot.sandbox.codat.seed import BILL_ID_BASE
from billbot.slackapp.blocks import ACTION_DETAILS, actions_block_id
from billbot.slackapp.details_blocks import ACTION_VIEW_INVOICE

pytestmark = pytest.mark.browser

INV1 = str(BILL_ID_BASE + 1)  # INV-00001: two lines at 20% VAT, one invoice PDF


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"the page threw: {errors}"


def test_details_then_view_invoice_puts_the_pdf_in_the_thread(page: Page, demo: Demo) -> None:
    page.goto(f"{demo.url}?as={ANN.user_id}")
    main = page.locator(f'#timeline .message[data-ts="{demo.digest_ts[0]}"]')
    row_actions = main.locator(f'[data-block-id^="{actions_block_id(INV1)}"]')
    row_actions.locator(f'button[data-action-id="{ACTION_DETAILS}"]').click()
    modal = page.locator("#modal-host .modal")
    expect(modal).to_contain_text("A4 paper, 80 boxes")
    expect(modal).to_contain_text("60.00 × GBP 12.50 + tax GBP 150.00 = GBP 900.00")
    expect(modal).to_contain_text("Northridge Office Supplies")
    expect(modal).to_contain_text("invoice-INV-00001.pdf")

    modal.locator(f'button[data-action-id="{ACTION_VIEW_INVOICE}"]').click()
    expect(modal).to_contain_text("Already in the bill's thread")
    page.locator("#modal-close").click()
    main.locator("button.replies").click()
    card = page.locator("#thread .file-card", has_text="invoice-INV-00001.pdf")
    expect(card).to_be_visible()
    expect(page.locator("#thread")).to_contain_text("Invoice for bill INV-00001")
    href = str(card.evaluate("a => a.href"))  # absolute, as the browser opens it
    fetched = page.request.get(href)
    assert fetched.ok and fetched.body().startswith(b"%PDF-1.4")
    assert fetched.headers["content-type"] == "application/pdf"
