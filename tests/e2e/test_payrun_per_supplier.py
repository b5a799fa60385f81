"""One payment per supplier (issue 21, async backend): a pay run's bills of one supplier and
currency recorded as ONE bill payment with a line per bill. Driven as Slack sends it; the
sandbox's books say what was recorded: each bill paid once, whatever goes wrong."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from billbot.sandbox.codat import FaultKind
from billbot.slackapp.bill_thread import history_tick
from billbot.slackapp.payment_outcomes import recover_payments
from billbot.slackapp.undo_blocks import ACTION_UNDO_PAYMENT
from tests.e2e.conftest import (
    ADA,
    CHANNEL,
    PAT,
    Stack,
    audit,
    buttons,
    click,
    current,
    ephemeral_texts,
    eventually,
    no_slack_violations,
    row_text,
)
from tests.support.forged import add_button
from tests.support.holds import thread_texts
from tests.support.payment_groups import (
    bills_of,
    books_payments,
    grouped,
    offered_groupings,
    payment_pushes,
    reviewed,
    with_forged_option,
)
from tests.support.payment_groups import recorded as recorded_of
from tests.support.payrun_steps import run_messages, run_text

BILLS = 24  # all due soon: every one in the digest
TICKED = grouped("supplier")


def recorded(stack: Stack, count: int) -> bool:
    return recorded_of(stack, count, 4)


async def test_one_payment_per_supplier_records_one_payment_with_a_line_per_bill(
        stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async", bills=BILLS)
    main, chosen, review = await reviewed(stack)
    assert offered_groupings(review) == ["each", "supplier", "batch"]  # the seed's is Xero
    assert (await stack.driver.submit_view(PAT, TICKED)).status == 200
    await eventually(lambda: recorded(stack, 4) and audit(stack, "payrun.finished"))
    payments = books_payments(stack)
    assert len(payments) == 2 and len(payment_pushes(stack)) == 2
    for supplier, bills in chosen.items():
        [payment] = [p for p in payments if p["supplierRef"]["id"] == supplier]
        assert bills_of(payment) == sorted(b["id"] for b in bills)
        assert len(payment["lines"]) == 2
        assert [line["amount"] for line in payment["lines"]] == [
            -line["links"][0]["amount"] for line in payment["lines"]]
        assert payment["totalAmount"] == sum(b["amountDue"] for b in bills)
    every = [b["id"] for bills in chosen.values() for b in bills]
    assert Counter(p.bill_id for p in stack.payments()) == Counter(every)
    assert all(stack.sandbox_bill(b)["status"] == "Paid" for b in every)
    grouped = audit(stack, "payment.grouped")
    assert len(grouped) == 4 and len({e.detail["group_id"] for e in grouped}) == 2
    await eventually(lambda: all("Paid" in row_text(current(stack, main.ts), b) for b in every))
    await history_tick(stack.bot)  # the recovery tick posts a pay run's payments
    await eventually(lambda: len([t for t in thread_texts(stack.workspace, CHANNEL, main.ts)
                                  if "as part of one payment of 2 bills" in t]) == 4)
    no_slack_violations(stack)


async def test_a_double_confirm_still_records_two_payments(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async", bills=BILLS)
    _, chosen, review = await reviewed(stack)
    await asyncio.gather(stack.driver.submit_view(PAT, TICKED, view_id=review.id),
                         stack.driver.submit_view(PAT, TICKED, view_id=review.id),
                         return_exceptions=True)
    await eventually(lambda: recorded(stack, 4) and audit(stack, "payrun.finished"))
    await asyncio.sleep(0.5)  # let the second submission finish too
    assert len(books_payments(stack)) == 2 and len(payment_pushes(stack)) == 2
    every = [b["id"] for bills in chosen.values() for b in bills]
    assert Counter(p.bill_id for p in stack.payments()) == Counter(every)
    assert len(audit(stack, "payrun.started")) == 1


async def test_a_lost_answer_is_resolved_by_reference_and_never_resent(
        stack_factory: Any) -> None:
    # A short lease: an undecided payment is looked at again within 2 s.
    stack = stack_factory(codat_api="async", bills=BILLS,
                          billbot_payment_lease_seconds=2.0)
    _, chosen, _ = await reviewed(stack)
    faults = stack.sandbox.faults
    faults.lose_response_hold_seconds = 0.3
    faults.next(FaultKind.LOSE_RESPONSE, path="billPayments$", method="POST")
    await stack.driver.submit_view(PAT, TICKED)
    await eventually(lambda: len(payment_pushes(stack)) == 2)
    for _ in range(60):  # the recovery tick, as the scheduler runs it
        await recover_payments(stack.bot)
        if len(audit(stack, "payment.succeeded")) == 4:
            break
        await asyncio.sleep(0.5)
    assert len(audit(stack, "payment.succeeded")) == 4
    assert len(books_payments(stack)) == 2 and len(payment_pushes(stack)) == 2
    every = [b["id"] for bills in chosen.values() for b in bills]
    assert Counter(p.bill_id for p in stack.payments()) == Counter(every)
    assert any("found by its reference" in str(e.detail.get("how"))
               for e in audit(stack, "payment.succeeded"))


async def test_a_failed_push_leaves_that_suppliers_bills_unpaid(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async", bills=BILLS)
    main, chosen, _ = await reviewed(stack)
    stack.sandbox.pushes.settings.fail_next = 1
    await stack.driver.submit_view(PAT, TICKED)
    await eventually(lambda: recorded(stack, 2) and audit(stack, "payrun.finished"))
    [payment] = books_payments(stack)
    paid_supplier = payment["supplierRef"]["id"]
    [failed_supplier] = [s for s in chosen if s != paid_supplier]
    assert bills_of(payment) == sorted(b["id"] for b in chosen[paid_supplier])
    unpaid = [b["id"] for b in chosen[failed_supplier]]
    assert not any(p.bill_id in unpaid for p in stack.payments())
    assert all(stack.sandbox_bill(b)["amountDue"] == b2["amountDue"]
               for b, b2 in zip(unpaid, chosen[failed_supplier], strict=True))
    failed = audit(stack, "payment.failed")
    assert sorted(str(e.bill_id) for e in failed) == sorted(unpaid)
    assert all(e.detail.get("reason") for e in failed)
    # The run's message says so once its last update lands (after the run is audited).
    await eventually(lambda: "2 failed" in run_text(run_messages(stack.workspace, CHANNEL)[-1]))
    await eventually(lambda: all("Paid" not in row_text(current(stack, main.ts), b)
                                 for b in unpaid))
    no_slack_violations(stack)


async def test_the_sync_binding_offers_no_such_choice(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="sync", bills=BILLS)
    _, chosen, review = await reviewed(stack)
    assert offered_groupings(review) == []
    # A forged choice (added to the view as only a forged client could) changes nothing:
    # the server offers it only on async, and each bill is its own payment.
    with_forged_option(stack, review, "supplier")
    await stack.driver.submit_view(PAT, TICKED)
    await eventually(lambda: recorded(stack, 4) and audit(stack, "payrun.finished"))
    every = [b["id"] for bills in chosen.values() for b in bills]
    assert Counter(p.bill_id for p in stack.payments()) == Counter(every)
    assert len({p.payment_id for p in stack.payments()}) == 4
    assert audit(stack, "payment.grouped") == []


async def test_one_bills_share_of_a_grouped_payment_is_not_undone(stack_factory: Any) -> None:
    # Undo payment deletes the payment in Codat: for a group that would unpay every bill.
    stack = stack_factory(codat_api="async", bills=BILLS)
    main, chosen, _ = await reviewed(stack)
    await stack.driver.submit_view(PAT, TICKED)
    await eventually(lambda: recorded(stack, 4) and audit(stack, "payrun.finished"))
    bill = next(iter(chosen.values()))[0]["id"]
    await eventually(lambda: "Paid" in row_text(current(stack, main.ts), bill))
    assert "Undo payment" not in buttons(current(stack, main.ts), bill)
    add_button(stack.workspace, CHANNEL, main.ts, bill, action_id=ACTION_UNDO_PAYMENT,
               text="Undo payment")
    await click(stack, ADA, current(stack, main.ts), bill, ACTION_UNDO_PAYMENT)
    await eventually(lambda: any("together with other bills" in t
                                 for t in ephemeral_texts(stack, ADA)))
    assert len(books_payments(stack)) == 2 and audit(stack, "payment.undone") == []
    assert stack.sandbox_bill(bill)["status"] == "Paid"
