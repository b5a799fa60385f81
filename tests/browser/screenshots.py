"""Screenshots of `billbot demo` for the README, taken in Chromium:

    python -m tests.browser.screenshots [--out docs]

writes demo-digest.png (the digest as an approver sees it, once she approved its first bill),
demo-pay-modal.png (the pay form a payer then fills in) and screenshots/details-modal.png (a
bill's Details); `--only details` takes the last alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

from billbot.demo import ANN, PAT, Demo, start_demo
from billbot.sandbox.codat.seed import BILL_ID_BASE
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_DETAILS, ACTION_PAY, actions_block_id
from tests.browser.chromium import chromium_path, launch_chromium
from tests.browser.people import become

VIEWPORT: ViewportSize = {"width": 1440, "height": 900}


def take(out: Path, *, only: str | None = None) -> list[Path]:
    path = chromium_path()
    if path is None:
        raise SystemExit("Chromium is not installed: apt-get install -y chromium")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        demo = start_demo(data_dir=Path(data_dir))
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright, path)
                page = browser.new_page(viewport=VIEWPORT, locale="en-GB")
                page.goto(f"{demo.url}?as={ANN.user_id}")
                expect(page.locator("#books tr[data-bill-id]").first).to_be_visible()
                details_png = _details(page, demo, out)
                if only == "details":
                    browser.close()
                    return [details_png]
                bill_id = _first_row_bill(demo.digest_ts[0], demo)
                actions = page.locator(f'[data-block-id^="{actions_block_id(bill_id)}"]')
                actions.locator(f'button[data-action-id="{ACTION_APPROVE}"]').click()
                expect(actions.locator(f'button[data-action-id="{ACTION_PAY}"]')).to_be_visible()
                digest_png = out / "demo-digest.png"
                page.screenshot(path=str(digest_png))

                become(page, PAT.user_id)
                actions.locator(f'button[data-action-id="{ACTION_PAY}"]').click()
                page.locator("#confirm").get_by_role("button", name="Continue").click()
                account = page.locator('#modal-host select[data-block-id="account"]')
                expect(account).to_be_visible()
                values = account.locator("option").evaluate_all("os => os.map(o => o.value)")
                account.select_option(values[1])
                modal_png = out / "demo-pay-modal.png"
                page.screenshot(path=str(modal_png))
                browser.close()
        finally:
            demo.stop()
    return [details_png, digest_png, modal_png]


def _details(page: Page, demo: Demo, out: Path) -> Path:
    """The Details modal of INV-00008 (three lines at 20% VAT, two attachments), then closed."""
    bill_id = str(BILL_ID_BASE + 8)
    page.locator(f'[data-block-id^="{actions_block_id(bill_id)}"] '
                 f'button[data-action-id="{ACTION_DETAILS}"]').click()
    expect(page.locator("#modal-host .modal")).to_contain_text("timesheet.csv")
    (out / "screenshots").mkdir(parents=True, exist_ok=True)
    shot = out / "screenshots" / "details-modal.png"
    page.screenshot(path=str(shot))
    page.locator("#modal-close").click()
    expect(page.locator("#modal-host .modal")).to_have_count(0)
    return shot


def _first_row_bill(ts: str, demo: Demo) -> str:
    """The bill of the digest's first row (the most overdue one)."""
    message = demo.workspace.message(demo.channel_id, ts)
    assert message is not None
    for block in message.blocks:
        # The header's own actions (Approve all, Pay run) come first: a row's are the bill's.
        if block.get("type") == "actions" and str(block.get("block_id", "")).startswith(
                "bill-actions:"):
            return str(block["elements"][0]["value"])
    raise SystemExit("the digest has no bill rows")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs", help="directory for the PNG files")
    parser.add_argument("--only", choices=["details"], help="take this screenshot alone")
    args = parser.parse_args(argv)
    for written in take(Path(args.out), only=args.only):
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
