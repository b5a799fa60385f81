"""Delegation (issue 16 item 4): `/bills away <from> <to> @delegate` lets the delegate act with
the absent person's approver or payer role for those days, never gaining approve and pay on one
bill; the audit says on whose behalf; `/bills back`, and for admins `/bills away list|end`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel import select

from billbot.codat.models import Bill
from billbot.services.payments import StartOutcome, start_payment
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY
from billbot.storage.audit import BillRef
from billbot.storage.db import session_scope
from billbot.storage.tables import Approval, PaymentIntent
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    PAT,
    Stack,
    approve,
    audit,
    click,
    current,
    ephemeral_texts,
    eventually,
    first_due,
    modal_account_ids,
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.support.app_home import home_row_buttons
from tests.support.pay_review import submit_pay


async def answer(stack: Stack, user: str, command: str) -> str:
    """What `/bills <command>` answered `user` (the acknowledgement or a later ephemeral)."""
    before = len(ephemeral_texts(stack, user))
    response = await stack.driver.slash_command(user, CHANNEL, command)
    assert response.status == 200
    if response.text.strip():
        return response.text
    return (await eventually(lambda: ephemeral_texts(stack, user)[before:]))[-1]


def day(offset: int) -> str:
    return (today() + timedelta(days=offset)).isoformat()


async def test_bad_input_gets_clear_messages_and_changes_nothing(stack: Stack) -> None:
    said = {
        "past": await answer(stack, BEN, f"away {day(-2)} {day(1)} <@{OSCAR}|oscar>"),
        "order": await answer(stack, BEN, f"away {day(3)} {day(1)} <@{OSCAR}|oscar>"),
        "self": await answer(stack, BEN, f"away {day(0)} {day(1)} <@{BEN}|ben>"),
        "format": await answer(stack, BEN, f"away 20/12/2026 {day(1)} <@{OSCAR}|oscar>"),
        "person": await answer(stack, BEN, f"away {day(0)} {day(1)} oscar"),
        "no role": await answer(stack, OSCAR, f"away {day(0)} {day(1)} <@{BEN}|ben>"),
        "list": await answer(stack, BEN, "away list"),
        "back": await answer(stack, BEN, "back"),
    }
    assert "in the past" in said["past"]
    assert "before the first" in said["order"]
    assert "yourself" in said["self"]
    assert "YYYY-MM-DD" in said["format"]
    assert "not a Slack user" in said["person"]
    assert "neither an approver nor a payer" in said["no role"]
    assert "Only billbot admins" in said["list"]
    assert "no delegation" in said["back"]
    assert audit(stack, "delegation.set", "delegation.ended") == []


async def test_a_delegate_approves_on_behalf_and_the_audit_says_so(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    # Oscar has no role: his Approve is refused until Ben hands him his.
    await click(stack, OSCAR, main, bill["id"], ACTION_APPROVE)
    await eventually(lambda: any("Only approvers" in t for t in ephemeral_texts(stack, OSCAR)))

    said = await answer(stack, BEN, f"away {day(0)} {day(2)} <@{OSCAR}|oscar>")
    assert f"<@{OSCAR}>" in said and "approver" in said
    await click(stack, OSCAR, main, bill["id"], ACTION_APPROVE)
    await eventually(lambda: f"<@{BEN}>" in row_text(current(stack, main.ts), bill["id"]))
    [entry] = audit(stack, "approval.recorded")
    assert entry.actor == OSCAR and entry.detail["on_behalf_of"] == BEN
    with session_scope(stack.bot.engine, read_only=True) as session:
        [row] = session.exec(select(Approval)).all()
    assert (row.user_id, row.acted_by) == (BEN, OSCAR)

    # Ben himself (back early or not) counts once: his approval was already given for him.
    await click(stack, BEN, main, bill["id"], ACTION_APPROVE)
    await eventually(lambda: any("already approved" in t for t in ephemeral_texts(stack, BEN)))
    assert len(audit(stack, "approval.recorded")) == 1

    trail = await answer(stack, ADA, f"audit {bill['reference']}")
    assert f"on behalf of <@{BEN}>" in trail

    listed = await answer(stack, ADA, "away list")
    assert f"<@{BEN}> → <@{OSCAR}>" in listed
    assert "no longer acts for you" in await answer(stack, BEN, "back")
    assert "Nobody is away" in await answer(stack, ADA, "away list")
    assert len(audit(stack, "delegation.set")) == len(audit(stack, "delegation.ended")) == 1


async def test_a_delegate_never_both_approves_and_pays_one_bill(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    # Oscar covers Ben (approver) and Pat (payer).
    await answer(stack, BEN, f"away {day(0)} {day(1)} <@{OSCAR}|oscar>")
    await answer(stack, PAT, f"away {day(0)} {day(1)} <@{OSCAR}|oscar>")
    await click(stack, OSCAR, main, bill["id"], ACTION_APPROVE)
    await eventually(lambda: "Pay" in row_text(current(stack, main.ts), bill["id"])
                     or f"<@{BEN}>" in row_text(current(stack, main.ts), bill["id"]))

    # The Pay click says so at once (the modal shows why), and no payment can start either.
    await click(stack, OSCAR, main, bill["id"], ACTION_PAY)
    shown = await eventually(lambda: (v := stack.workspace.open_view(OSCAR)) is not None
                             and "You approved this bill" in str(v.definition) and v)
    assert shown
    with session_scope(stack.bot.engine) as session:
        bill_ref = BillRef(stack.company_id, stack.connection_id, bill["id"])
        fresh = Bill.model_validate(stack.sandbox_bill(bill["id"]))
        started = start_payment(
            session, bill_ref=bill_ref, fresh_bill=fresh, user_id=OSCAR, request_id=None,
            amount=Decimal(str(bill["amountDue"])), account_id="acc", account_name=None,
            payment_date=today(), channel_id=None, message_ts=None, policy=stack.bot.policy,
            at=datetime.now(UTC))
    assert started.outcome == StartOutcome.REFUSED
    assert "You approved this bill" in started.message
    assert stack.payments() == []


async def test_a_delegate_pays_for_an_absent_payer(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await answer(stack, PAT, f"away {day(0)} {day(0)} <@{OSCAR}|oscar>")
    await approve(stack, main, bill["id"], BEN)
    view = await open_pay_modal(stack, main, bill["id"], user=OSCAR)
    await submit_pay(stack.driver, OSCAR, pay_values(
        modal_account_ids(view)[0], str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: stack.sandbox_bill(bill["id"])["status"] == "Paid")
    [started] = audit(stack, "payment.started")
    assert started.actor == OSCAR and started.detail["on_behalf_of"] == PAT
    with session_scope(stack.bot.engine, read_only=True) as session:
        [intent] = session.exec(select(PaymentIntent)).all()
    assert (intent.payer_id, intent.on_behalf_of) == (OSCAR, PAT)


async def test_a_delegate_cannot_pay_for_the_person_who_approved(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    # Ann approves and pays; covering Ann as payer must not let her approval be paid "by her".
    await answer(stack, ANN, f"away {day(0)} {day(1)} <@{OSCAR}|oscar>")
    await approve(stack, main, bill["id"], ANN)
    view = await open_pay_modal(stack, main, bill["id"], user=OSCAR)
    await submit_pay(stack.driver, OSCAR, pay_values(
        modal_account_ids(view)[0], str(bill["amountDue"]), today().isoformat()))
    refused = await eventually(lambda: [e for e in audit(stack, "access.refused")
                                        if e.detail.get("attempted") == "pay"])
    assert f"<@{ANN}>" in refused[-1].detail["reason"]
    assert stack.payments() == []
    # An admin ends the delegation: Oscar has no role left.
    assert "Ended" in await answer(stack, ADA, f"away end <@{ANN}|ann>")
    assert "Only" in await answer(stack, OSCAR, f"away end <@{ANN}|ann>")


async def test_app_home_shows_a_delegate_what_waits_on_the_person_they_cover(
        stack: Stack) -> None:
    bill = first_due(stack)
    await answer(stack, BEN, f"away {day(0)} {day(0)} <@{OSCAR}|oscar>")
    response = await stack.driver.open_home(OSCAR)
    assert response is not None and response.status == 200
    buttons = await eventually(lambda: home_row_buttons(stack.workspace, OSCAR, bill["id"]))
    assert buttons is not None and buttons[:2] == ["Approve", "Reject"]
