"""One batch payment (issue 21, async backend): on a platform that takes batch payments
(Xero, the seed's), a pay run's bills in the base currency of several suppliers recorded as
ONE bill payment with no supplierRef and a line per bill; other currencies fall back to one
payment per supplier. Driven as Slack sends it; the sandbox's books say what was recorded."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import select

from billbot.sandbox.codat import FaultKind
from billbot.slackapp.bill_thread import history_tick
from billbot.slackapp.payment_outcomes import recover_payments
from billbot.slackapp.payrun_blocks import ACTION_PAYRUN_RETRY
from billbot.storage.db import session_scope
from billbot.storage.payrun_tables import PayRun
from billbot.storage.tables import PaymentIntent
from tests.e2e.conftest import (
    ADA,
    ANN,
    CHANNEL,
    PAT,
    UNSET,
    Stack,
    audit,
    current,
    ephemeral_texts,
    eventually,
    no_slack_violations,
    post_digest,
    row_text,
)
from tests.support.holds import thread_texts
from tests.support.payment_groups import (
    bills_of,
    books_payments,
    every_bill,
    grouped,
    offered_groupings,
    payment_pushes,
    recorded,
    reviewed,
    suppliers_with,
    with_forged_option,
)
from tests.support.payrun_steps import run_messages, run_text, view_text

BILLS = 24  # all due soon: every one in the digest
BATCH = grouped("batch")


def the_run(stack: Stack) -> PayRun:
    with session_scope(stack.bot.engine) as session:
        return session.exec(select(PayRun)).one()


async def test_one_batch_payment_records_the_bills_of_three_suppliers_as_one_payment(
        stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async", bills=BILLS)
    main, chosen, review = await reviewed(stack, suppliers=3)
    every = every_bill(chosen)
    assert offered_groupings(review) == ["each", "supplier", "batch"]
    text = view_text(review)
    assert "6 bills in 3 payments" in text and "6 bills in 1 payment" in text
    assert (await stack.driver.submit_view(PAT, BATCH)).status == 200
    await eventually(lambda: recorded(stack, 6, 6) and audit(stack, "payrun.finished"))
    [payment] = books_payments(stack)
    [push] = payment_pushes(stack)
    assert push.data is not None and "supplierRef" not in push.data
    assert "supplierRef" not in payment
    assert len(payment["lines"]) == 6 and bills_of(payment) == sorted(every)
    assert payment["totalAmount"] == sum(b["amountDue"] for bills in chosen.values()
                                         for b in bills)
    assert Counter(p.bill_id for p in stack.payments()) == Counter(every)
    assert all(stack.sandbox_bill(b)["status"] == "Paid" for b in every)
    grouped_entries = audit(stack, "payment.grouped")
    assert len(grouped_entries) == 6 and len({e.detail["group_id"] for e in grouped_entries}) == 1
    assert all(e.detail["batch"] and e.detail["group_suppliers"] == 3 for e in grouped_entries)
    assert the_run(stack).grouping == "batch"
    await eventually(lambda: all("Paid" in row_text(current(stack, main.ts), b) for b in every))
    await history_tick(stack.bot)  # the recovery tick posts a pay run's payments
    await eventually(lambda: len([t for t in thread_texts(stack.workspace, CHANNEL, main.ts)
                                  if "as part of one batch payment of 6 bills" in t]) == 6)
    no_slack_violations(stack)


async def test_no_batch_payment_exceeds_the_payers_limit(stack_factory: Any,
                                                          tmp_path: Path) -> None:
    """The payer's limit is the most ONE payment may be: a batch above it is split into
    payments within it (each bill alone was checked against it), and the review counts them."""
    policy = tmp_path / "policy.yml"

    def limit_pat_to(limit: str) -> None:
        policy.write_text(f"rules:\n  - name: Every bill\n    steps:\n      - approvers: [{ANN}]\n"
                          f"payers:\n  - user: {PAT}\n    limit: {{GBP: {limit}}}\n")
    limit_pat_to("1000000")
    stack = stack_factory(codat_api="async", bills=BILLS, billbot_policy_file=str(policy),
                          billbot_approvers=UNSET, billbot_payers=UNSET)
    main = await post_digest(stack)
    chosen = suppliers_with(stack, main, currency="GBP", suppliers=3)
    amounts = [b["amountDue"] for bills in chosen.values() for b in bills]
    limit = max(amounts)  # every bill alone within it, all six together above it
    assert sum(amounts) > limit
    limit_pat_to(str(limit))
    await stack.driver.slash_command(ADA, CHANNEL, "policy reload")
    await eventually(lambda: any("Version 2 from BILLBOT_POLICY_FILE" in t
                                 for t in ephemeral_texts(stack, ADA)))
    _, _, review = await reviewed(stack, suppliers=3, digest=main, chosen=chosen)
    assert (await stack.driver.submit_view(PAT, BATCH)).status == 200
    await eventually(lambda: recorded(stack, 6, 6) and audit(stack, "payrun.finished"))
    payments = books_payments(stack)
    assert len(payments) > 1 and all(Decimal(str(p["totalAmount"])) <= limit for p in payments)
    assert sorted(b for p in payments for b in bills_of(p)) == sorted(every_bill(chosen))
    assert f"6 bills in {len(payments)} payments" in view_text(review)
    no_slack_violations(stack)


async def test_a_double_confirm_still_records_one_batch_payment(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async", bills=BILLS)
    _, chosen, review = await reviewed(stack)
    await asyncio.gather(stack.driver.submit_view(PAT, BATCH, view_id=review.id),
                         stack.driver.submit_view(PAT, BATCH, view_id=review.id),
                         return_exceptions=True)
    await eventually(lambda: recorded(stack, 4, 4) and audit(stack, "payrun.finished"))
    await asyncio.sleep(0.5)  # let the second submission finish too
    assert len(books_payments(stack)) == 1 and len(payment_pushes(stack)) == 1
    assert Counter(p.bill_id for p in stack.payments()) == Counter(every_bill(chosen))
    assert len(audit(stack, "payrun.started")) == 1


async def test_a_lost_answer_is_resolved_by_reference_and_never_resent(
        stack_factory: Any) -> None:
    # A short lease: an undecided payment is looked at again within 2 s.
    stack = stack_factory(codat_api="async", bills=BILLS, billbot_payment_lease_seconds=2.0)
    _, chosen, _ = await reviewed(stack)
    faults = stack.sandbox.faults
    faults.lose_response_hold_seconds = 0.3
    faults.next(FaultKind.LOSE_RESPONSE, path="billPayments$", method="POST")
    await stack.driver.submit_view(PAT, BATCH)
    await eventually(lambda: len(payment_pushes(stack)) == 1)
    for _ in range(60):  # the recovery tick, as the scheduler runs it
        await recover_payments(stack.bot)
        if len(audit(stack, "payment.succeeded")) == 4:
            break
        await asyncio.sleep(0.5)
    assert len(audit(stack, "payment.succeeded")) == 4
    assert len(books_payments(stack)) == 1 and len(payment_pushes(stack)) == 1
    assert Counter(p.bill_id for p in stack.payments()) == Counter(every_bill(chosen))
    assert any("found by its reference" in str(e.detail.get("how"))
               for e in audit(stack, "payment.succeeded"))


async def test_a_failed_push_leaves_every_bill_of_the_batch_unpaid_and_a_retry_pays_it_once(
        stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async", bills=BILLS)
    main, chosen, _ = await reviewed(stack)
    every = every_bill(chosen)
    stack.sandbox.pushes.settings.fail_next = 1
    await stack.driver.submit_view(PAT, BATCH)
    await eventually(lambda: recorded(stack, 0, 4) and audit(stack, "payrun.finished"))
    assert books_payments(stack) == [] and stack.payments() == []
    assert all(stack.sandbox_bill(b["id"])["amountDue"] == b["amountDue"]
               for bills in chosen.values() for b in bills)
    failed = audit(stack, "payment.failed")
    assert sorted(str(e.bill_id) for e in failed) == sorted(every)
    assert all(e.detail.get("reason") and e.detail.get("batch") for e in failed)
    await eventually(lambda: "4 failed" in run_text(run_messages(stack.workspace, CHANNEL)[-1]))
    await eventually(lambda: all("Paid" not in row_text(current(stack, main.ts), b)
                                 for b in every))
    # Retry failed (double-clicked): the failed bills again as the run's one batch payment.
    message = run_messages(stack.workspace, CHANNEL)[-1]
    await asyncio.gather(stack.driver.click(PAT, CHANNEL, message.ts, ACTION_PAYRUN_RETRY),
                         stack.driver.click(PAT, CHANNEL, message.ts, ACTION_PAYRUN_RETRY))
    await eventually(lambda: recorded(stack, 4, 4), within=120)
    [payment] = books_payments(stack)
    assert "supplierRef" not in payment or not payment["supplierRef"]
    assert sorted(link["id"] for line in payment["lines"] for link in line["links"]) \
        == sorted(every)
    assert len(audit(stack, "payrun.retried")) == 1
    assert all(stack.sandbox_bill(b)["amountDue"] == 0 for b in every)
    await eventually(lambda: all("Paid" in row_text(current(stack, main.ts), b) for b in every))
    no_slack_violations(stack)


async def test_other_platforms_offer_no_batch_and_a_forged_one_changes_nothing(
        stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async", bills=BILLS)
    connection = stack.sandbox.connections[stack.company_id][stack.connection_id]
    connection["platformName"] = "QuickBooks Online"  # before billbot reads it
    _, _, review = await reviewed(stack)
    assert offered_groupings(review) == ["each", "supplier"]
    assert "batch" not in view_text(review)
    with_forged_option(stack, review, "batch")
    await stack.driver.submit_view(PAT, BATCH)
    shown = await eventually(lambda: next((str(v.definition) for v in [
        stack.driver.open_view(PAT)] if v is not None and "does not take batch payments"
        in str(v.definition)), ""))
    assert "QuickBooks Online" in shown and "nothing was recorded" in shown
    run = the_run(stack)
    assert (run.state, run.grouping) == ("draft", "each")
    with session_scope(stack.bot.engine) as session:
        assert session.exec(select(PaymentIntent)).all() == []
    assert payment_pushes(stack) == [] and audit(stack, "payrun.started") == []
    assert any("'batch' not offered" in str(e.detail.get("reason"))
               for e in audit(stack, "access.refused"))
    no_slack_violations(stack)


async def test_bills_in_another_currency_fall_back_to_one_payment_per_supplier(
        stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async", bills=BILLS)
    _, chosen, review = await reviewed(stack, suppliers=2, foreign=2)
    text = view_text(review)
    assert "6 bills in 3 payments" in text  # the GBP batch, and one per USD supplier
    assert "A batch payment is in GBP only" in text and "2 bills in USD" in text
    await stack.driver.submit_view(PAT, BATCH)
    await eventually(lambda: recorded(stack, 6, 6) and audit(stack, "payrun.finished"))
    payments = books_payments(stack)
    assert len(payments) == 3 and len(payment_pushes(stack)) == 3
    [batch] = [p for p in payments if p["currency"] == "GBP"]
    assert "supplierRef" not in batch and len(batch["lines"]) == 4
    usd = [p for p in payments if p["currency"] == "USD"]
    usd_bills = {b["id"]: s for s, bills in chosen.items() for b in bills
                 if b["currency"] == "USD"}
    assert sorted(b for p in usd for b in bills_of(p)) == sorted(usd_bills)
    assert all(p["supplierRef"]["id"] == usd_bills[bills_of(p)[0]] for p in usd)
    assert Counter(p.bill_id for p in stack.payments()) == Counter(every_bill(chosen))


async def test_the_sync_api_refuses_a_forged_batch(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="sync", bills=BILLS)
    _, _, review = await reviewed(stack)
    assert offered_groupings(review) == []
    with_forged_option(stack, review, "batch")
    await stack.driver.submit_view(PAT, BATCH)
    shown = await eventually(lambda: next((str(v.definition) for v in [
        stack.driver.open_view(PAT)] if v is not None and "sync API" in str(v.definition)), ""))
    assert "nothing was recorded" in shown
    assert the_run(stack).state == "draft" and stack.payments() == []
    assert audit(stack, "payrun.started") == []
