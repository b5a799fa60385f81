"""Slack's limits on a 500-bill pay run: the form stays within 100 blocks a view and 10
options a checkbox group (bills in groups of 10 by currency and supplier), the progress is
posted at Slack's pace, and all 500 bills are paid once each."""

from __future__ import annotations

import time
from collections import Counter

from billbot.sandbox.slack.blockkit import check_view
from tests.e2e.conftest import ANN, CHANNEL, PAT, Stack, eventually, no_slack_violations
from tests.support.payrun_steps import (
    approve_all,
    form_of,
    offered,
    review_of,
    run_messages,
    run_text,
    through_the_pages,
    view_text,
)

SLOW = "500 payments on a shared 2-core machine; this test asserts outcomes"


async def test_a_500_bill_run_fits_slack_and_pays_each_once(stack_factory: object) -> None:
    stack: Stack = stack_factory(bills=500)  # type: ignore[operator]
    stack.driver.widen_ack_deadline(30.0, reason=SLOW)
    bill_ids = [b["id"] for b in stack.sandbox.main_ledger.bills.values()
                if b["status"] in ("Open", "PartiallyPaid") and b.get("amountDue")]
    assert len(bill_ids) >= 490
    await approve_all(stack, bill_ids, ANN)
    started = time.monotonic()
    assert (await stack.driver.slash_command(PAT, CHANNEL, "payrun")).status == 200
    await eventually(lambda: form_of(stack.driver, PAT), within=120)
    pages = await through_the_pages(stack.driver, PAT)
    blocks = [len(p.definition["blocks"]) for p in pages]
    groups = [options for p in pages for options in offered(p).values()]
    assert all(n <= 100 for n in blocks) and all(check_view(p.definition) == [] for p in pages)
    assert all(len(options) <= 10 for options in groups)
    assert sum(len(options) for options in groups) == len(bill_ids)
    review = review_of(stack.driver, PAT)
    assert review is not None and f"{len(bill_ids)} payments" in view_text(review)
    await stack.driver.submit_view(PAT, {})
    done = f"{len(bill_ids)} of {len(bill_ids)} recorded"
    await eventually(lambda: run_messages(stack.workspace, CHANNEL) and done in run_text(
        run_messages(stack.workspace, CHANNEL)[-1]), within=900)
    paid = Counter(p.bill_id for p in stack.payments())
    updates = len([c for c in stack.workspace.calls("chat.update")])
    print(f"\n500-bill pay run: bills={len(bill_ids)} payments={sum(paid.values())} "
          f"duplicates={sum(n - 1 for n in paid.values())} form pages={len(pages)} "
          f"blocks per page={max(blocks)} checkbox groups={len(groups)} "
          f"chat.update calls={updates} "
          f"wall time={time.monotonic() - started:.1f}s")
    assert set(paid) == set(bill_ids) and max(paid.values()) == 1
    no_slack_violations(stack)
