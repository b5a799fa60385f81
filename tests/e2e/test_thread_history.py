"""The bill's thread as its history (issue 15, item 4): each decision is posted once into the
thread of the message carrying the bill's row, naming the bill, whatever the double clicks,
Slack's retries, failed posts or replicas; BILLBOT_THREAD_HISTORY=false turns it off (a
hold's question and its release are still posted: they are the thread's conversation)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx

from billbot.runtime import build_billbot
from billbot.slackapp.bill_thread import history_tick
from billbot.slackapp.blocks import ACTION_APPROVE
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    PAT,
    Stack,
    approve,
    audit,
    click,
    current,
    eventually,
    first_due,
    modal_account_ids,
    no_slack_violations,
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.support.books import bookkeeper_adds
from tests.support.holds import (
    hold_modal_open,
    press_hold,
    press_release,
    question_values,
    thread_texts,
)
from tests.support.pay_review import submit_pay

FORM = "application/x-www-form-urlencoded"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
QUESTION = "Which purchase order does this belong to?"


def record_bodies(stack: Stack) -> list[bytes]:
    sent: list[bytes] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request.content)

    stack.driver.http.event_hooks["request"].append(keep)
    return sent


def history(stack: Stack, parent_ts: str, words: str) -> list[str]:
    return [t for t in thread_texts(stack.workspace, CHANNEL, parent_ts) if words in t]


async def hold_and_release(stack: Stack, ts: str, bill_id: str) -> None:
    await press_hold(stack.driver, BEN, CHANNEL, current(stack, ts), bill_id)
    await eventually(lambda: hold_modal_open(stack.workspace, BEN))
    await stack.driver.submit_view(BEN, question_values(QUESTION))
    await eventually(lambda: history(stack, ts, "put on hold"))
    await press_release(stack.driver, BEN, CHANNEL, current(stack, ts), bill_id)
    await eventually(lambda: history(stack, ts, "released from hold"))


async def pay(stack: Stack, ts: str, bill_id: str, amount: Decimal, payments: int) -> None:
    view = await open_pay_modal(stack, current(stack, ts), bill_id, PAT)
    values = pay_values(modal_account_ids(view)[0], str(amount), today().isoformat())
    await submit_pay(stack.driver, PAT, values)
    await eventually(lambda: len(stack.payments()) == payments)


async def test_each_decision_is_posted_once_into_the_bills_thread(stack: Stack) -> None:
    sent = record_bodies(stack)
    main = await post_digest(stack)
    bill = first_due(stack)
    reference = str(bill["reference"])
    await approve(stack, main, bill["id"], ANN)
    first_click = sent[-1]
    await eventually(lambda: history(stack, main.ts, "approved by"))
    # A double click and Slack's retries of the click: nothing new, nothing posted again.
    await click(stack, ANN, current(stack, main.ts), bill["id"], ACTION_APPROVE)
    for extra in ({}, RETRY):
        await stack.driver.post_signed(first_click, FORM, extra_headers=extra)
    await eventually(lambda: [e for e in stack.workspace.ephemerals(CHANNEL, ANN)
                              if "already approved" in e.text])

    await hold_and_release(stack, main.ts, bill["id"])
    due = Decimal(str(bill["amountDue"]))
    await pay(stack, main.ts, bill["id"], Decimal("10.00"), 1)
    await eventually(lambda: history(stack, main.ts, "partly paid"))
    await pay(stack, main.ts, bill["id"], due - Decimal("10.00"), 2)
    await eventually(lambda: history(stack, main.ts, ":moneybag: paid"))

    entries = thread_texts(stack.workspace, CHANNEL, main.ts)
    assert len(entries) == 5, entries
    approved, held, released, partly, paid = entries
    assert f"<@{ANN}>" in approved and "approved by" in approved
    assert QUESTION in held and f"<@{BEN}>" in held
    assert "released from hold" in released
    assert "GBP 10.00" in partly and "remains" in partly and f"<@{PAT}>" in partly
    assert "paid" in paid and "remains" not in paid
    assert all(reference in entry for entry in entries)  # each entry names the bill
    no_slack_violations(stack)


async def test_a_lapse_and_a_rejection_are_posted_once(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)
    stored = stack.sandbox.main_ledger.bills[bill["id"]]
    bookkeeper_adds(stack.sandbox, stored, Decimal("10.00"))
    # The first click on the old figures is refused (rows refreshed); the second approves
    # the new version, closing the old round: the approval lapses.
    before = row_text(current(stack, main.ts), bill["id"])
    await click(stack, ANN, current(stack, main.ts), bill["id"], ACTION_APPROVE)
    await eventually(lambda: stack.workspace.ephemerals(CHANNEL, ANN))
    # The row is redrawn after the refusal is acknowledged: clicks before that carry the old
    # version again and are refused too (a loaded CI machine got there first once).
    await eventually(lambda: row_text(current(stack, main.ts), bill["id"]) != before)
    for _ in range(2):
        await click(stack, ANN, current(stack, main.ts), bill["id"], ACTION_APPROVE)
    await eventually(lambda: len(audit(stack, "approval.recorded")) == 2)
    await eventually(lambda: len(history(stack, main.ts, "approved by")) == 2)
    [lapse] = await eventually(lambda: history(stack, main.ts, "lapsed"))
    assert f"<@{ANN}>" in lapse and "changed in the accounting software" in lapse
    await history_tick(stack.bot)
    assert len(history(stack, main.ts, "lapsed")) == 1
    assert len(audit(stack, "approval.lapsed")) == 1


async def test_history_off_still_posts_a_holds_question_and_release(stack_factory: Any) -> None:
    stack = stack_factory(billbot_thread_history=False)
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)
    await hold_and_release(stack, main.ts, bill["id"])
    await history_tick(stack.bot)
    entries = thread_texts(stack.workspace, CHANNEL, main.ts)
    assert len(entries) == 2 and "put on hold" in entries[0], entries
    assert history(stack, main.ts, "approved by") == []


async def test_a_failed_post_is_posted_once_by_the_recovery_tick_of_two_replicas(
        stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    stack.workspace.faults.fail("chat.postMessage", "fatal_error")
    await approve(stack, main, bill["id"], ANN)
    await eventually(lambda: stack.workspace.faults.pending("chat.postMessage") == 0)
    await asyncio.sleep(0.2)  # the flow has given up on its post
    assert history(stack, main.ts, "approved by") == []
    # Two replicas' recovery ticks at once (a second billbot on the same database).
    other = build_billbot(stack.settings)
    try:
        await asyncio.gather(history_tick(stack.bot), history_tick(other),
                             history_tick(stack.bot))
    finally:
        await other.shutdown()
    assert len(history(stack, main.ts, "approved by")) == 1
    assert "Approved" in row_text(current(stack, main.ts), bill["id"])


async def test_with_dm_cards_the_history_stays_in_the_channels_thread(stack_factory: Any) -> None:
    stack = stack_factory(bills=3, billbot_notify="both")
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)
    await eventually(lambda: history(stack, main.ts, "approved by"))
    posts = [c for c in stack.driver.calls("chat.postMessage")
             if "approved by" in str(c.params.get("text"))]
    assert len(posts) == 1 and posts[0].params["channel"] == CHANNEL
