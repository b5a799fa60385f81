"""Undo payment and Delete bill (issue 21, item 3) through signed requests on the async
backend: admins only, with a reason, within BILLBOT_UNDO_WINDOW_HOURS, one delete push
whatever Slack or the admins do twice, audited, the row brought up to date; absent on sync."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from billbot.clock import FixedClock
from billbot.sandbox.slack.model import Message
from billbot.slackapp.undo_blocks import ACTION_DELETE_BILL, ACTION_UNDO_PAYMENT
from tests.e2e.conftest import (
    ADA,
    ANN,
    CHANNEL,
    PAT,
    Stack,
    approve,
    audit,
    buttons,
    click,
    current,
    ephemeral_texts,
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
from tests.security.forge import click_payload, post_interaction
from tests.support.pay_review import submit_pay

REASON = "Paid from the wrong account"


def reason_values(reason: str) -> dict[str, Any]:
    return {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}


def delete_pushes(stack: Stack, data_type: str) -> int:
    """DELETE push requests of this kind the sandbox received (pending, failed or done)."""
    with stack.sandbox.lock:
        return sum(1 for r in stack.sandbox.requests
                   if r.method == "DELETE" and f"/push/{data_type}/" in r.path)


def books_payments(stack: Stack) -> dict[str, Any]:
    """The bill payments billbot recorded that the books hold (the seed has others)."""
    with stack.sandbox.lock:
        return {k: p for k, p in stack.sandbox.main_ledger.bill_payments.items()
                if str(p.get("reference") or "").startswith("billbot-")}


async def paid_bill(stack: Stack) -> tuple[Message, dict[str, Any]]:
    """A bill approved and paid in full through billbot (the books confirmed it)."""
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0],
                                                   str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: "Undo payment" in buttons(current(stack, main.ts), bill["id"]))
    return main, bill


async def open_reason(stack: Stack, user: str, main: Message, bill_id: str, action: str,
                      callback: str) -> None:
    await click(stack, user, main, bill_id, action)
    await eventually(lambda: (v := stack.workspace.open_view(user)) is not None
                     and v.definition.get("callback_id") == callback)


async def test_an_admin_undoes_a_payment_and_the_bill_is_owed_again(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async")
    main, bill = await paid_bill(stack)
    assert "Paid" in row_text(current(stack, main.ts), bill["id"])
    [payment_id] = books_payments(stack)

    await open_reason(stack, ADA, main, bill["id"], ACTION_UNDO_PAYMENT, "undo_payment")
    await stack.driver.submit_view(ADA, reason_values(REASON))
    await eventually(lambda: audit(stack, "payment.undone"))
    assert payment_id not in books_payments(stack)
    assert stack.sandbox_bill(bill["id"])["status"] == "Open"
    assert delete_pushes(stack, "billPayments") == 1
    [entry] = audit(stack, "payment.undone")
    assert entry.actor == ADA and entry.detail["reason"] == REASON
    assert entry.detail["intent_id"] and entry.bill_version
    # The row: owed again, the undo said, and payable again on the approvals that stand.
    await eventually(lambda: "Payment undone" in row_text(current(stack, main.ts), bill["id"]))
    text = row_text(current(stack, main.ts), bill["id"])
    assert REASON in text and "Paid GBP" not in text and f"<@{ANN}>" in text
    shown = buttons(current(stack, main.ts), bill["id"])
    assert "Pay" in shown and "Undo payment" not in shown
    assert any("undone" in t for t in ephemeral_texts(stack, ADA))
    no_slack_violations(stack)


async def test_a_non_admin_is_refused_and_nothing_is_written(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async")
    main, bill = await paid_bill(stack)
    await click(stack, PAT, main, bill["id"], ACTION_UNDO_PAYMENT)
    told = await eventually(lambda: [t for t in ephemeral_texts(stack, PAT) if "admins" in t])
    assert f"<@{ADA}>" in told[-1] and "nothing changed" in told[-1]
    assert stack.workspace.open_view(PAT) is None or stack.workspace.open_view(
        PAT).definition.get("callback_id") != "undo_payment"
    assert delete_pushes(stack, "billPayments") == 0 and len(books_payments(stack)) == 1
    assert audit(stack, "payment.undone") == []
    refused = audit(stack, "access.refused")[-1]
    assert refused.actor == PAT and refused.detail.get("attempted") == "undo_payment"


async def test_outside_the_window_a_stale_click_is_refused(stack_factory: Any) -> None:
    clock = FixedClock(datetime.now(UTC))
    stack = stack_factory(codat_api="async", clock=clock)
    main, bill = await paid_bill(stack)
    clock.set(clock.now() + timedelta(hours=24, minutes=1))
    await click(stack, ADA, main, bill["id"], ACTION_UNDO_PAYMENT)
    told = await eventually(lambda: [t for t in ephemeral_texts(stack, ADA) if "within" in t])
    assert "24 hours" in told[-1]
    assert delete_pushes(stack, "billPayments") == 0 and len(books_payments(stack)) == 1


async def test_a_double_submit_sends_one_delete(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async")
    main, bill = await paid_bill(stack)
    await open_reason(stack, ADA, main, bill["id"], ACTION_UNDO_PAYMENT, "undo_payment")
    view = stack.workspace.open_view(ADA)
    assert view is not None
    # The same modal submitted twice at once (two requests, as a double click sends).
    await asyncio.gather(stack.driver.submit_view(ADA, reason_values(REASON), view_id=view.id),
                         stack.driver.submit_view(ADA, reason_values(REASON), view_id=view.id))
    await eventually(lambda: audit(stack, "payment.undone"))
    await asyncio.sleep(0.5)
    assert delete_pushes(stack, "billPayments") == 1
    assert len(audit(stack, "payment.undone")) == 1


async def test_a_failed_push_leaves_the_payment_recorded(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async")
    main, bill = await paid_bill(stack)
    with stack.sandbox.lock:
        stack.sandbox.pushes.settings.fail_next = 1
    await open_reason(stack, ADA, main, bill["id"], ACTION_UNDO_PAYMENT, "undo_payment")
    await stack.driver.submit_view(ADA, reason_values(REASON))
    await eventually(lambda: audit(stack, "payment.undo_failed"))
    assert len(books_payments(stack)) == 1 and stack.sandbox_bill(bill["id"])["status"] == "Paid"
    assert audit(stack, "payment.undone") == []
    told = await eventually(lambda: [t for t in ephemeral_texts(stack, ADA) if "could not" in t])
    assert "sandbox fault" in told[-1]
    await eventually(lambda: "failed" in row_text(current(stack, main.ts), bill["id"]))
    assert "Paid" in row_text(current(stack, main.ts), bill["id"])
    # Nothing was marked undone: the button is still there, and a second try goes through.
    assert "Undo payment" in buttons(current(stack, main.ts), bill["id"])
    await open_reason(stack, ADA, main, bill["id"], ACTION_UNDO_PAYMENT, "undo_payment")
    await stack.driver.submit_view(ADA, reason_values(REASON))
    await eventually(lambda: audit(stack, "payment.undone"))
    assert books_payments(stack) == {} and delete_pushes(stack, "billPayments") == 2


# --- Delete bill ------------------------------------------------------------------------


async def test_an_admin_deletes_an_unpaid_bill(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async")
    main = await post_digest(stack)
    bill = first_due(stack)
    assert "Delete bill" in buttons(main, bill["id"])
    await open_reason(stack, ADA, main, bill["id"], ACTION_DELETE_BILL, "delete_bill")
    await stack.driver.submit_view(ADA, reason_values("Entered twice"))
    await eventually(lambda: audit(stack, "bill.deleted"))
    with stack.sandbox.lock:
        assert bill["id"] not in stack.sandbox.main_ledger.bills
    assert delete_pushes(stack, "bills") == 1
    [entry] = audit(stack, "bill.deleted")
    assert entry.actor == ADA and entry.detail["reason"] == "Entered twice"
    await eventually(lambda: "Deleted by" in row_text(current(stack, main.ts), bill["id"]))
    assert f"<@{ADA}>" in row_text(current(stack, main.ts), bill["id"])
    assert buttons(current(stack, main.ts), bill["id"]) == []
    no_slack_violations(stack)


async def test_delete_bill_is_refused_to_a_non_admin_and_for_a_paid_bill(
        stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async")
    main = await post_digest(stack)
    bill = first_due(stack)
    await click(stack, ANN, main, bill["id"], ACTION_DELETE_BILL)
    await eventually(lambda: [t for t in ephemeral_texts(stack, ANN) if "admins" in t])
    assert delete_pushes(stack, "bills") == 0

    main, paid = await paid_bill(stack)
    assert "Delete bill" not in buttons(current(stack, main.ts), paid["id"])
    # A click on a row drawn before the payment: refused before anything is sent.
    await post_interaction(stack, click_payload(stack, ADA, CHANNEL, main, ACTION_DELETE_BILL,
                                                paid["id"]))
    await eventually(lambda: (v := stack.workspace.open_view(ADA)) is not None
                     and v.definition.get("callback_id") == "delete_bill")
    await stack.driver.submit_view(ADA, reason_values("Entered twice"))
    told = await eventually(lambda: [t for t in ephemeral_texts(stack, ADA)
                                     if "undo that payment first" in t])
    assert told and delete_pushes(stack, "bills") == 0
    assert audit(stack, "bill.deleted") == []


async def test_two_admins_deleting_at_once_send_one_delete(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async", billbot_admins=frozenset({ADA, ANN}))
    main = await post_digest(stack)
    bill = first_due(stack)
    for admin in (ADA, ANN):
        await open_reason(stack, admin, main, bill["id"], ACTION_DELETE_BILL, "delete_bill")
    await asyncio.gather(stack.driver.submit_view(ADA, reason_values("Entered twice")),
                         stack.driver.submit_view(ANN, reason_values("Duplicate")))
    await eventually(lambda: audit(stack, "bill.deleted"))
    await asyncio.sleep(0.5)
    assert delete_pushes(stack, "bills") == 1 and len(audit(stack, "bill.deleted")) == 1
    await eventually(lambda: "Deleted by" in row_text(current(stack, main.ts), bill["id"]))


async def test_a_failed_delete_leaves_the_bill(stack_factory: Any) -> None:
    stack = stack_factory(codat_api="async")
    main = await post_digest(stack)
    bill = first_due(stack)
    with stack.sandbox.lock:
        stack.sandbox.pushes.settings.fail_next = 1
    await open_reason(stack, ADA, main, bill["id"], ACTION_DELETE_BILL, "delete_bill")
    await stack.driver.submit_view(ADA, reason_values("Entered twice"))
    await eventually(lambda: audit(stack, "bill.delete_failed"))
    with stack.sandbox.lock:
        assert bill["id"] in stack.sandbox.main_ledger.bills
    await eventually(lambda: "failed" in row_text(current(stack, main.ts), bill["id"]))
    assert "Delete bill" in buttons(current(stack, main.ts), bill["id"])


# --- the sync API has no delete -----------------------------------------------------------


async def test_on_a_sync_binding_the_buttons_are_absent_and_a_forged_click_is_refused(
        stack_factory: Any) -> None:
    stack = stack_factory(codat_api="sync")
    main, bill = await _sync_paid(stack)
    shown = buttons(current(stack, main.ts), bill["id"])
    assert "Undo payment" not in shown and "Delete bill" not in shown
    for action in (ACTION_UNDO_PAYMENT, ACTION_DELETE_BILL):
        response = await post_interaction(stack, click_payload(stack, ADA, CHANNEL, main,
                                                               action, bill["id"]))
        assert response.status == 200
    await eventually(lambda: len([t for t in ephemeral_texts(stack, ADA) if "async" in t]) == 2)
    assert audit(stack, "payment.undone", "bill.deleted") == []
    assert len(stack.payments()) == 1


async def _sync_paid(stack: Stack) -> tuple[Message, dict[str, Any]]:
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0],
                                                   str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    await eventually(lambda: "Paid" in row_text(current(stack, main.ts), bill["id"]))
    assert Decimal(str(stack.payments()[0].amount)) == Decimal(str(bill["amountDue"]))
    return main, bill
