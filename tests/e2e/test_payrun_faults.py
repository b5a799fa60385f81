"""A 200-bill pay run while Codat answers 500/503 to a share of requests and loses a share of
payment responses (applied, then never answered): exactly one payment per bill, nothing left
open, the run's summary matching the books. Then `Retry failed` after refusals: only the
failed bills are tried again, each paid once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

from sqlmodel import select

from billbot.sandbox.codat import FaultKind
from billbot.services import payruns
from billbot.slackapp.payrun_blocks import ACTION_PAYRUN_RETRY
from billbot.slackapp.payrun_exec import settle
from billbot.storage.db import session_scope
from billbot.storage.tables import PaymentIntent, PayRun
from tests.e2e.conftest import (
    ANN,
    CHANNEL,
    PAT,
    Stack,
    audit,
    ephemeral_texts,
    eventually,
    no_slack_violations,
    post_digest,
)
from tests.support.payrun_steps import (
    approve_all,
    click_pay_approved,
    form_of,
    on_bot_loop,
    review_of,
    run_messages,
    run_text,
    through_the_pages,
)

BILLS = 200
SLOW = "200 payments under injected faults on a shared 2-core machine; outcomes only"


def open_bills(stack: Stack) -> list[str]:
    return [b["id"] for b in stack.sandbox.main_ledger.bills.values()
            if b["status"] in ("Open", "PartiallyPaid") and b.get("amountDue")]


def intents(stack: Stack) -> list[PaymentIntent]:
    with session_scope(stack.bot.engine, read_only=True) as session:
        return list(session.exec(select(PaymentIntent)).all())


def the_run(stack: Stack) -> PayRun:
    with session_scope(stack.bot.engine, read_only=True) as session:
        [run] = session.exec(select(PayRun).where(PayRun.state != "draft")).all()
        return run


def run_state(stack: Stack) -> str:
    with session_scope(stack.bot.engine, read_only=True) as session:
        runs = session.exec(select(PayRun).where(PayRun.state != "draft")).all()
        return runs[0].state if runs else "not started"


async def confirm_run(stack: Stack, main: object) -> None:
    await click_pay_approved(stack.driver, PAT, CHANNEL, main)  # type: ignore[arg-type]
    await eventually(lambda: form_of(stack.driver, PAT), within=60)
    await through_the_pages(stack.driver, PAT)
    assert review_of(stack.driver, PAT) is not None
    await stack.driver.submit_view(PAT, {})


async def finish_what_is_open(stack: Stack) -> None:
    """What the recovery tick does later (the e2e stack runs no scheduler): intents a
    lost answer left open are re-sent with their keys, then the run is settled."""
    await on_bot_loop(stack, _finish(stack))


async def _finish(stack: Stack) -> None:
    bot = stack.bot
    while any(i.state in ("created", "calling", "unknown") for i in intents(stack)):
        await bot.payments.recover(bot.payment_codat,
                                   now=bot.clock.now() + timedelta(minutes=5))
    run = the_run(stack)
    binding = await bot.binding_for(CHANNEL)
    assert binding is not None
    await settle(bot, run.id, binding)


async def test_200_bills_under_503s_and_lost_responses_pay_once_each(stack_factory: object
                                                                     ) -> None:
    stack: Stack = stack_factory(bills=BILLS)  # type: ignore[operator]
    stack.driver.widen_ack_deadline(30.0, reason=SLOW)
    main = await post_digest(stack)
    bill_ids = open_bills(stack)
    await approve_all(stack, bill_ids, ANN)
    faults = stack.sandbox.faults
    faults.reseed(17)
    faults.error_rate = 0.15  # 500/503 on any request (reads retried, payments same key)
    faults.lose_response_rate = 0.1  # payments applied, their answer cut off
    faults.lose_response_hold_seconds = 0.3
    started = time.monotonic()
    await confirm_run(stack, main)
    # The run is driven until every intent is final or released (a lost answer retried
    # with its key the allowed number of times); the last progress then reaches Slack.
    await eventually(lambda: run_state(stack) != "not started" and len(intents(stack)) == len(
        bill_ids) and all(i.state in ("succeeded", "failed")
                          or (i.state == "unknown" and i.lease_owner is None)
                          for i in intents(stack)), within=600)
    await eventually(lambda: run_state(stack) == "finished" or not any(
        i.state in ("succeeded", "failed") and i.outcome_shown_at is None
        for i in intents(stack)), within=600)
    faults.clear()
    await finish_what_is_open(stack)
    wall = time.monotonic() - started
    paid = Counter(p.bill_id for p in stack.payments())
    duplicates = sum(n - 1 for n in paid.values() if n > 1)
    left_open = sum(i.state in ("created", "calling", "unknown") for i in intents(stack))
    requests = Counter(r.status for r in stack.sandbox.requests)
    print(f"\npay run under faults: bills={len(bill_ids)} payments={sum(paid.values())} "
          f"duplicates={duplicates} left open={left_open} wall time={wall:.1f}s "
          f"codat answers={dict(requests)}")
    assert set(paid) == set(bill_ids) and duplicates == 0 and left_open == 0
    with session_scope(stack.bot.engine, read_only=True) as session:
        summary = payruns.progress(session, the_run(stack).id)
    assert summary is not None and summary.recorded == len(bill_ids) and summary.failed == 0
    assert the_run(stack).state == "finished"
    assert f"{len(bill_ids)} of {len(bill_ids)} recorded" in run_text(
        run_messages(stack.workspace, CHANNEL)[-1])
    for bill_id in bill_ids:
        assert stack.sandbox_bill(bill_id)["status"] == "Paid"
    no_slack_violations(stack)


async def test_retry_failed_retries_only_the_failed_bills(stack_factory: object) -> None:
    stack: Stack = stack_factory(bills=12)  # type: ignore[operator]
    main = await post_digest(stack)
    bill_ids = open_bills(stack)
    await approve_all(stack, bill_ids, ANN)
    # The platform refuses the first three payment requests (a final answer: not retried).
    stack.sandbox.faults.next(FaultKind.REFUSE, 3, path="/payment$", method="POST")
    await confirm_run(stack, main)
    await eventually(lambda: run_state(stack) == "finished", within=120)
    expected = f"{len(bill_ids) - 3} of {len(bill_ids)} recorded, 3 failed"
    await eventually(lambda: expected in run_text(run_messages(stack.workspace, CHANNEL)[-1]))
    message = run_messages(stack.workspace, CHANNEL)[-1]
    failed = {i.id for i in intents(stack) if i.state == "failed"}
    # The channel names the failed bills; Codat's reasons go to the payer only.
    reason = next(i.last_error for i in intents(stack) if i.state == "failed")
    assert reason and reason not in run_text(message)
    await eventually(lambda: any(reason in t for t in ephemeral_texts(stack, PAT)))
    assert len(failed) == 3
    before = Counter(p.bill_id for p in stack.payments())
    # A double click on Retry failed: one retry.
    await asyncio.gather(stack.driver.click(PAT, CHANNEL, message.ts, ACTION_PAYRUN_RETRY),
                         stack.driver.click(PAT, CHANNEL, message.ts, ACTION_PAYRUN_RETRY))
    await eventually(lambda: f"{len(bill_ids)} of {len(bill_ids)} recorded" in run_text(
        run_messages(stack.workspace, CHANNEL)[-1]), within=120)
    paid = Counter(p.bill_id for p in stack.payments())
    assert set(paid) == set(bill_ids) and max(paid.values()) == 1
    assert len(paid) - len(before) == 3  # only the three failed ones were sent again
    assert len(audit(stack, "payrun.retried")) == 1
    assert "Retry failed" not in str(run_messages(stack.workspace, CHANNEL)[-1].blocks)
    no_slack_violations(stack)
