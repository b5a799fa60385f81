"""Issue 20, item 1: on an unchanged 5,000-bill ledger a digest or `/bills due` costs at most
two Codat requests (counted in the sandbox's request log); a change in the books reaches the
next digest; a payment still re-reads the bill live; the scheduled digest waits, without a
request, while Codat's allowance is under the reserve and nothing is cached."""

from __future__ import annotations

from datetime import date
from typing import Any

from billbot.sandbox.codat.control import edit_bill
from billbot.slackapp.digests import scheduled_digest
from billbot.storage import slack_messages
from billbot.storage.db import session_scope
from tests.e2e.conftest import (
    ANN,
    CHANNEL,
    PAT,
    Stack,
    approve,
    bot_messages,
    eventually,
    first_due,
    modal_account_ids,
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.support.pay_review import submit_pay


def codat_requests(stack: Stack) -> int:
    return sum(1 for r in stack.sandbox.requests if not r.path.startswith("/_sandbox"))


# The claims here are Codat request counts, not acknowledgement times: the commands below are
# followed to their answers even when four test workers on two cores (each 5,000-bill read
# checked against the OpenAPI spec in this process) delay an acknowledgement past Slack's 3 s.


async def due_listed(stack: Stack, marker: str) -> None:
    before = len(stack.workspace.ephemerals(CHANNEL, ANN))
    await stack.driver.slash_command(ANN, CHANNEL, "due")
    await eventually(lambda: any(marker in str(e.blocks) for e in
                                 stack.workspace.ephemerals(CHANNEL, ANN)[before:]), within=90)


async def digest_posted(stack: Stack) -> None:
    before = len(bot_messages(stack))
    await stack.driver.slash_command(ANN, CHANNEL, "digest")
    await eventually(lambda: len(bot_messages(stack)) > before, within=90)


async def test_an_unchanged_5000_bill_ledger_costs_two_requests_at_most(
        stack_factory: Any) -> None:
    stack = stack_factory(bills=5000)
    await due_listed(stack, "of 5000")  # the first read: every page
    first = codat_requests(stack)
    assert first >= 50

    # The day's first digest also checks its rows' controls (one supplier history per
    # supplier shown, kept for ROW_CHECK_MAX_AGE); the digest's own bills cost nothing more.
    await digest_posted(stack)
    checked = codat_requests(stack)
    await digest_posted(stack)
    after_digest = codat_requests(stack)
    assert after_digest - checked <= 2

    await due_listed(stack, "of 5000")
    assert codat_requests(stack) - after_digest <= 2


async def test_an_edit_in_the_books_reaches_the_next_digest(stack: Stack) -> None:
    await post_digest(stack)
    bill = first_due(stack)
    with stack.sandbox.lock:
        edit_bill(stack.sandbox, stack.sandbox.main_ledger, bill["id"],
                  {"amountDue": "12345.67", "totalAmount": "12345.67"})
    main = await post_digest(stack)
    assert "12,345.67" in row_text(main, bill["id"])


async def test_a_payment_still_reads_the_bill_live(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])

    def live_reads() -> int:  # get bill: Codat's list with `id=<bill>`
        return sum(1 for r in stack.sandbox.requests if f"id%3D{bill['id']}" in r.query)

    reads = live_reads()
    view = await open_pay_modal(stack, main, bill["id"])
    assert live_reads() > reads
    reads = live_reads()
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0],
                                                   str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: stack.sandbox_bill(bill["id"])["status"] == "Paid")
    assert live_reads() > reads  # the review and the payment re-read it too


async def test_a_scheduled_digest_waits_while_the_allowance_is_under_the_reserve(
        stack: Stack) -> None:
    stack.sandbox.daily_quota = 100
    await stack.bot.codat.get_company(stack.company_id)  # the sandbox starts counting today
    stack.sandbox.requests_today = 95
    await stack.bot.codat.get_company(stack.company_id)  # 4 of 100 left
    binding = await stack.bot.binding_for(CHANNEL)
    assert binding is not None
    before = codat_requests(stack)
    day = date.today()
    assert await scheduled_digest(stack.bot, binding, day) is False
    assert codat_requests(stack) == before and bot_messages(stack) == []
    # The day's claim was given back: a later tick posts it once the allowance allows.
    with session_scope(stack.bot.engine) as session:
        assert slack_messages.claim_digest(session, channel_id=CHANNEL, local_date=day,
                                           at=stack.bot.clock.now(),
                                           stale_before=stack.bot.clock.now())
