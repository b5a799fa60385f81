"""Apply credit note (issue 21, async backend): a payer allocates a supplier's credit note to
an approved bill from its row, alone or with a payment of the rest, or records a new credit
note first. Driven as Slack sends it; the sandbox's books say what was recorded."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from billbot.sandbox.codat import FaultKind
from billbot.sandbox.slack.model import Message
from billbot.slackapp.blocks import ACTION_CREDIT
from billbot.slackapp.credit_blocks import CALLBACK_CREDIT, CALLBACK_CREDIT_REVIEW
from billbot.slackapp.payment_outcomes import recover_payments
from tests.e2e.conftest import (
    BEN,
    CHANNEL,
    PAT,
    Stack,
    approve,
    audit,
    buttons,
    click,
    current,
    eventually,
    no_slack_violations,
    post_digest,
    row_text,
    today,
)
from tests.support.bank_accounts import view_text
from tests.support.forged import add_button
from tests.support.holds import thread_texts

BILL = "7110700001"  # INV-00001: Northridge Office Supplies, GBP 1,500.01 due
GBP_ACCOUNT = "56f518ef-0594-5946-8283-752772c842dd"  # Business Current Account


def credit_note(stack: Stack, number: str) -> dict[str, Any]:
    return next(n for n in stack.sandbox.main_ledger.credit_notes.values()
                if n["billCreditNoteNumber"] == number)


def payment_pushes(stack: Stack) -> list[Any]:
    return [r for r in stack.sandbox.pushes.of(stack.company_id).values()
            if r.operation["dataType"] == "billPayments"]


async def approved(stack_factory: Any, codat_api: str = "async",
                   **settings: Any) -> tuple[Stack, Message]:
    stack = stack_factory(codat_api=codat_api, **settings)
    main = await post_digest(stack)
    await approve(stack, main, BILL)
    return stack, main


async def open_credit_form(stack: Stack, main: Message, user: str = PAT) -> Any:
    await click(stack, user, main, BILL, ACTION_CREDIT)
    return await eventually(lambda: (v := stack.workspace.open_view(user)) is not None
                            and v.definition.get("callback_id") == CALLBACK_CREDIT and v)


def note_id(view: Any, number: str) -> str:
    block = next(b for b in view.definition["blocks"] if b.get("block_id") == "credit_note")
    return str(next(o["value"] for o in block["element"]["options"]
                    if o["text"]["text"].startswith(number)))


def credit_values(*, note: str | None = None, new: tuple[str, str] | None = None,
                  credit: str | None = None, cash: str | None = None) -> dict[str, Any]:
    def typed(block: str, value: str | None) -> dict[str, Any]:
        return {block: {block: {"type": "plain_text_input", "value": value}}}

    values: dict[str, Any] = {
        "account": {"account": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "x"}, "value": GBP_ACCOUNT}}},
        "date": {"date": {"type": "datepicker", "selected_date": today().isoformat()}},
        **typed("credit_amount", credit), **typed("cash_amount", cash),
        **typed("new_number", new[0] if new else None),
        **typed("new_amount", new[1] if new else None)}
    if note is not None:
        values["credit_note"] = {"credit_note": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "x"}, "value": note}}}
    return values


async def review(stack: Stack, values: dict[str, Any]) -> Any:
    answer = await stack.driver.submit_view(PAT, values)
    assert answer.outcome == "updated", answer.text
    view = stack.workspace.open_view(PAT)
    assert view is not None and view.definition["callback_id"] == CALLBACK_CREDIT_REVIEW
    return view


async def test_apply_part_of_a_credit_note_lowers_what_is_due(stack_factory: Any) -> None:
    stack, main = await approved(stack_factory)
    row = buttons(current(stack, main.ts), BILL)
    assert "Apply credit note" in row and "Pay" in row and len(row) <= 5
    form = await open_credit_form(stack, main)
    shown = await review(stack, credit_values(note=note_id(form, "CN-0001"), credit="40.00"))
    assert "GBP 40.00" in view_text(shown) and "no money leaves it" in view_text(shown)
    await stack.driver.submit_view(PAT, {})
    await eventually(lambda: len(stack.payments()) == 1)
    payment = stack.payments()[0]
    assert payment.bill_id == BILL and payment.amount == Decimal("40.00")
    assert stack.sandbox_bill(BILL)["amountDue"] == Decimal("1460.01")
    assert credit_note(stack, "CN-0001")["remainingCredit"] == Decimal("20.00")
    stored = stack.sandbox.main_ledger.bill_payments[payment.payment_id]
    assert Decimal(str(stored["totalAmount"])) == 0  # no money left the account
    await eventually(lambda: "1,460.01" in row_text(current(stack, main.ts), BILL))
    shown_row = row_text(current(stack, main.ts), BILL)  # a credit, not money paid
    assert f"Credit GBP 40.00 applied by <@{PAT}>" in shown_row and "Paid" not in shown_row
    await eventually(lambda: "Applied *GBP 40.00* of credit note *CN-0001*" in view_text(
        stack.workspace.open_view(PAT)))
    [allocated] = await eventually(lambda: audit(stack, "credit_note.allocated"))
    assert allocated.actor == PAT and allocated.detail["credit_amount"] == "40.00"
    assert allocated.detail["cash_amount"] == "0.00" and allocated.bill_version
    assert len(payment_pushes(stack)) == 1
    # The bill's thread tells it as the credit it was, with what remains.
    await eventually(lambda: [t for t in thread_texts(stack.workspace, CHANNEL, main.ts)
                              if "GBP 40.00 of credit note CN-0001 applied by" in t
                              and "GBP 1,460.01 remains" in t])
    no_slack_violations(stack)


async def test_new_credit_note_and_a_payment_of_the_rest_pay_the_bill(
        stack_factory: Any) -> None:
    stack, main = await approved(stack_factory)
    await open_credit_form(stack, main)
    shown = await review(stack, credit_values(new=("SUP-CN-77", "100.00"), cash="1,400.01"))
    assert "SUP-CN-77" in view_text(shown) and "GBP 1,400.01" in view_text(shown)
    await stack.driver.submit_view(PAT, {})
    await eventually(lambda: stack.sandbox_bill(BILL)["status"] == "Paid")
    recorded = credit_note(stack, "SUP-CN-77")
    assert recorded["totalAmount"] == Decimal("100.00") and recorded["remainingCredit"] == 0
    [payment] = stack.payments()
    stored = stack.sandbox.main_ledger.bill_payments[payment.payment_id]
    assert Decimal(str(stored["totalAmount"])) == Decimal("1400.01")
    assert {(link["type"], Decimal(str(link["amount"]))) for link in stored["lines"][0]["links"]} \
        == {("Bill", Decimal("-1500.01")), ("CreditNote", Decimal("100.00"))}
    [note_entry] = audit(stack, "credit_note.recorded")
    assert note_entry.actor == PAT and note_entry.detail["amount"] == "100.00"
    [allocated] = await eventually(lambda: audit(stack, "credit_note.allocated"))
    assert allocated.detail["cash_amount"] == "1400.01"
    await eventually(lambda: "*Paid* GBP 1,400.01 in 1 payment and credit GBP 100.00 applied"
                     in row_text(current(stack, main.ts), BILL))


async def test_more_than_the_remaining_credit_is_refused_and_nothing_is_sent(
        stack_factory: Any) -> None:
    stack, main = await approved(stack_factory)
    form = await open_credit_form(stack, main)
    answer = await stack.driver.submit_view(PAT, credit_values(note=note_id(form, "CN-0001"),
                                                               credit="70.00"))
    assert "GBP 60.00 of credit left" in answer.json()["errors"]["credit_amount"]
    answer = await stack.driver.submit_view(PAT, credit_values(note=note_id(form, "CN-0001"),
                                                               credit="10", cash="1500.00"))
    assert set(answer.json()["errors"]) == {"cash_amount"}
    assert payment_pushes(stack) == [] and stack.payments() == []
    assert credit_note(stack, "CN-0001")["remainingCredit"] == Decimal("60.00")


async def test_a_non_payer_is_refused(stack_factory: Any) -> None:
    stack, main = await approved(stack_factory)
    await click(stack, BEN, main, BILL, ACTION_CREDIT)  # Ben approves but does not pay
    await eventually(lambda: any("Only payers" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, BEN)))
    assert stack.workspace.open_view(BEN) is None
    assert payment_pushes(stack) == []


async def test_a_double_submit_sends_one_allocation(stack_factory: Any) -> None:
    stack, main = await approved(stack_factory)
    form = await open_credit_form(stack, main)
    view = await review(stack, credit_values(note=note_id(form, "CN-0001"), credit="25.00"))
    await asyncio.gather(stack.driver.submit_view(PAT, {}, view.id),
                         stack.driver.submit_view(PAT, {}, view.id))
    await eventually(lambda: len(stack.payments()) == 1)
    await asyncio.sleep(0.5)  # let the second submission finish too
    assert len(payment_pushes(stack)) == 1 and len(stack.payments()) == 1
    assert credit_note(stack, "CN-0001")["remainingCredit"] == Decimal("35.00")
    await eventually(lambda: audit(stack, "credit_note.allocated"))
    assert len(audit(stack, "credit_note.allocated")) == 1
    assert len(audit(stack, "payment.started")) == 1


async def test_a_failed_push_changes_nothing(stack_factory: Any) -> None:
    stack, main = await approved(stack_factory)
    form = await open_credit_form(stack, main)
    await review(stack, credit_values(note=note_id(form, "CN-0001"), credit="30.00"))
    stack.sandbox.pushes.settings.fail_next = 1
    await stack.driver.submit_view(PAT, {})
    await eventually(lambda: "Nothing was recorded" in view_text(stack.workspace.open_view(PAT)))
    assert stack.payments() == [] and len(payment_pushes(stack)) == 1
    assert stack.sandbox_bill(BILL)["amountDue"] == Decimal("1500.01")
    assert credit_note(stack, "CN-0001")["remainingCredit"] == Decimal("60.00")
    assert audit(stack, "credit_note.allocated") == []
    await eventually(lambda: "Pay" in buttons(current(stack, main.ts), BILL))


async def test_sync_rows_offer_no_credit_and_a_forged_click_is_refused(
        stack_factory: Any) -> None:
    stack, main = await approved(stack_factory, codat_api="sync")
    assert "Apply credit note" not in buttons(current(stack, main.ts), BILL)
    add_button(stack.workspace, CHANNEL, main.ts, BILL, action_id=ACTION_CREDIT,
               text="Apply credit note")
    await click(stack, PAT, main, BILL, ACTION_CREDIT)
    await eventually(lambda: any("async Bill Pay API" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, PAT)))
    assert stack.workspace.open_view(PAT) is None and stack.payments() == []
    assert audit(stack, "credit_note.allocated", "credit_note.recorded") == []


async def test_a_lost_answer_is_resolved_by_its_reference_and_never_sent_twice(
        stack_factory: Any) -> None:
    # A short lease: an undecided allocation is looked at again within 2 s.
    stack, main = await approved(stack_factory, billbot_payment_lease_seconds=2.0)
    form = await open_credit_form(stack, main)
    await review(stack, credit_values(note=note_id(form, "CN-0001"), credit="15.00"))
    faults = stack.sandbox.faults
    faults.lose_response_hold_seconds = 0.3
    faults.next(FaultKind.LOSE_RESPONSE, path="billPayments$", method="POST")
    await stack.driver.submit_view(PAT, {})
    await eventually(lambda: "Codat has not confirmed it yet" in view_text(
        stack.workspace.open_view(PAT)))
    for _ in range(60):  # the recovery tick, as the scheduler runs it
        await recover_payments(stack.bot)
        if audit(stack, "credit_note.allocated"):
            break
        await asyncio.sleep(0.5)
    assert len(audit(stack, "credit_note.allocated")) == 1
    assert len(payment_pushes(stack)) == 1 and len(stack.payments()) == 1
    assert credit_note(stack, "CN-0001")["remainingCredit"] == Decimal("45.00")
    await eventually(lambda: "1,485.01" in row_text(current(stack, main.ts), BILL))
