"""The Apply credit note form's input, read and checked (slackapp/credit_blocks.py): an
offered credit note or a new one, never both; the credit at most what the note has left and
what the bill owes; a payment of the rest at most what is left due."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from billbot.codat.async_api.credit_notes import CreditNote
from billbot.codat.models import AccountStatus, BankAccountOption, Bill
from billbot.context_token import ModalContext
from billbot.domain.bill_controls import Control, ControlKind
from billbot.slackapp.credit_blocks import (
    CreditChoice,
    carry_notes,
    check_credit_input,
    credit_modal,
    credit_review_modal,
)

TODAY = date(2026, 12, 1)
NOTE = CreditNote.model_validate({"id": "cn-1", "billCreditNoteNumber": "CN-0001",
                                  "remainingCredit": "60.00", "status": "Submitted",
                                  "currency": "GBP"})


def ctx(due: str = "100.00") -> ModalContext:
    return ModalContext(bill_id="b1", channel_id="C1", message_ts="1.0", user_id="U1",
                        issued_at="2026-12-01T09:00:00+00:00", amount_due=due, currency="GBP",
                        issue_date="2026-11-03", payee="Northridge", reference="INV-1",
                        credit_notes=carry_notes([NOTE]))


def view(*, note: str | None = None, credit: str | None = None, cash: str | None = None,
         number: str | None = None, amount: str | None = None,
         day: str = "2026-12-01") -> dict[str, Any]:
    def typed(block: str, value: str | None) -> dict[str, Any]:
        return {block: {block: {"type": "plain_text_input", "value": value}}}

    values: dict[str, Any] = {
        "account": {"account": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "Current (GBP)"}, "value": "acc-1"}}},
        "date": {"date": {"type": "datepicker", "selected_date": day}},
        **typed("credit_amount", credit), **typed("cash_amount", cash),
        **typed("new_number", number), **typed("new_amount", amount)}
    if note is not None:
        values["credit_note"] = {"credit_note": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "x"}, "value": note}}}
    return {"id": "V1", "state": {"values": values}}


def test_an_offered_note_defaults_to_all_the_credit_the_bill_can_take() -> None:
    errors, choice = check_credit_input(view(note="cn-1"), ctx(), today=TODAY)
    assert errors == {} and choice is not None
    assert (choice.credit, choice.cash, choice.note_label) == (Decimal("60.00"), Decimal(0),
                                                             "CN-0001")
    _, small = check_credit_input(view(note="cn-1"), ctx(due="25.50"), today=TODAY)
    assert small is not None and small.credit == Decimal("25.50")


def test_credit_and_payment_are_bounded_by_the_note_and_the_bill() -> None:
    errors, _ = check_credit_input(view(note="cn-1", credit="60.01"), ctx(), today=TODAY)
    assert "GBP 60.00 of credit left" in errors["credit_amount"]
    errors, _ = check_credit_input(view(note="cn-1", credit="50", cash="50.01"), ctx(),
                                   today=TODAY)
    assert set(errors) == {"cash_amount"} and "GBP 50.00" in errors["cash_amount"]
    errors, choice = check_credit_input(view(note="cn-1", credit="50", cash="£50"), ctx(),
                                        today=TODAY)
    assert errors == {} and choice is not None and choice.cash == Decimal("50")


def test_a_note_is_chosen_or_recorded_never_both_nor_neither() -> None:
    errors, _ = check_credit_input(view(), ctx(), today=TODAY)
    assert set(errors) == {"credit_note"}
    errors, _ = check_credit_input(view(note="cn-1", number="X-1", amount="10"), ctx(),
                                   today=TODAY)
    assert set(errors) == {"credit_note"}
    errors, _ = check_credit_input(view(note="forged"), ctx(), today=TODAY)
    assert "not offered" in errors["credit_note"]


def test_a_new_note_needs_a_plain_number_and_an_amount() -> None:
    errors, _ = check_credit_input(view(number="CN=1||x", amount="10"), ctx(), today=TODAY)
    assert set(errors) == {"new_number"}
    errors, _ = check_credit_input(view(number="CN-9"), ctx(), today=TODAY)
    assert set(errors) == {"new_amount"}
    errors, choice = check_credit_input(view(number="CN-9", amount="150", cash="1"), ctx(),
                                        today=TODAY)
    assert set(errors) == {"cash_amount"}  # 100.00 of credit already covers the bill
    errors, choice = check_credit_input(view(number="CN-9", amount="40", cash="60"), ctx(),
                                        today=TODAY)
    assert errors == {} and choice is not None
    assert (choice.new_number, choice.new_amount, choice.credit) == ("CN-9", "40", Decimal("40"))


def test_the_review_says_what_confirming_does() -> None:
    choice = CreditChoice(credit_amount="40.00", cash_amount="60.00", account_id="acc-1",
                          paid_on="2026-12-01", new_number="CN-9", new_amount="40.00",
                          new_date="2026-12-01", note_label="CN-9")
    text = credit_review_modal(ctx(), choice, account_label="Current (GBP)",
                               metadata="m")["blocks"][0]["text"]["text"]
    assert "apply *GBP 40.00* of credit note *CN-9*" in text
    assert "*First recorded:* credit note CN-9 of GBP 40.00" in text
    assert "*Paid from Current (GBP):* GBP 60.00" in text and "*Still due after:* GBP 0.00" in text
    assert CreditChoice.load(choice.dump()) == choice


FIRST = Control(ControlKind.FIRST_PAYMENT, short="First payment to this supplier",
                detail="billbot has no earlier payment to this supplier.")


def test_warnings_concern_only_money_that_leaves_the_account() -> None:
    bill = Bill.model_validate({
        "id": "b1", "reference": "INV-1", "supplierRef": {"id": "s1", "supplierName": "New Co"},
        "issueDate": "2026-11-03", "dueDate": "2026-12-03", "currency": "GBP",
        "status": "Open", "totalAmount": "100.00", "amountDue": "100.00"})
    account = BankAccountOption(id="acc-1", name="Current", currency="GBP",
                                status=AccountStatus.ACTIVE)
    form = credit_modal(bill, [NOTE], [account], today=TODAY, metadata="m", controls=[FIRST])
    [notice] = [b for b in form["blocks"] if b.get("block_id") == "controls"]
    lines = notice["elements"][0]["text"].splitlines()
    assert lines[0] == "_If you also pay part of the bill from the account:_"
    assert "First payment to this supplier" in lines[1]

    def review_ids(cash: str) -> list[str]:
        choice = CreditChoice(credit_amount="40.00", cash_amount=cash, account_id="acc-1",
                              paid_on="2026-12-01", note_id="cn-1", note_label="CN-0001")
        review = credit_review_modal(ctx(), choice, account_label="Current (GBP)",
                                     metadata="m", controls=[FIRST])
        return [str(b.get("block_id")) for b in review["blocks"]]

    assert "controls" not in review_ids("0")  # a credit alone moves no money
    assert "controls" in review_ids("60.00")
