"""The pay form's input, read and checked: each problem on its own block; the rate for a bill
in another currency than the base, typed or following from the amount leaving the account."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from billbot.context_token import ModalContext
from billbot.slackapp.pay_form import check_pay_input

TODAY = date(2026, 12, 1)


def ctx(currency: str = "GBP", base: str = "GBP") -> ModalContext:
    return ModalContext(bill_id="b1", channel_id="C1", message_ts="1.0", user_id="U1",
                        issued_at="2026-12-01T09:00:00+00:00", amount_due="2000.00",
                        currency=currency, issue_date="2026-11-03", base_currency=base)


def view(amount: str, day: str = "2026-12-01", *, rate: str | None = None,
         base_amount: str | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "account": {"account": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "Current (GBP)"}, "value": "acc-1"}}},
        "amount": {"amount": {"type": "plain_text_input", "value": amount}},
        "date": {"date": {"type": "datepicker", "selected_date": day}},
        "rate": {"rate": {"type": "plain_text_input", "value": rate}},
        "base_amount": {"base_amount": {"type": "plain_text_input", "value": base_amount}},
    }
    return {"id": "V1", "state": {"values": values}}


def test_good_input_is_one_checked_choice() -> None:
    errors, choice = check_pay_input(view("£1,500.01"), ctx(), today=TODAY)
    assert errors == {} and choice is not None
    assert (choice.account_id, choice.amount, choice.currency_rate) == (
        "acc-1", Decimal("1500.01"), None)


def test_each_problem_is_answered_on_its_own_block() -> None:
    errors, choice = check_pay_input(view("1e3", "2026-11-02"), ctx(), today=TODAY)
    assert choice is None and set(errors) == {"amount", "date"}
    assert "issue date" in errors["date"]
    errors, _ = check_pay_input(view("2000.01", "2030-01-01"), ctx(), today=TODAY)
    assert "still due" in errors["amount"] and "year ahead" in errors["date"]


def test_a_foreign_bill_needs_a_rate_or_the_amount_leaving_the_account() -> None:
    usd = ctx("USD", "GBP")
    errors, _ = check_pay_input(view("1000"), usd, today=TODAY)
    assert "rate" in errors
    errors, choice = check_pay_input(view("1000", rate="0.781"), usd, today=TODAY)
    assert errors == {} and choice is not None and choice.currency_rate == Decimal("0.781")
    errors, choice = check_pay_input(view("1000", rate="0.781", base_amount="GBP 800"), usd,
                                     today=TODAY)
    assert errors == {} and choice is not None and choice.currency_rate == Decimal("0.8")
    errors, _ = check_pay_input(view("1000", base_amount="$800"), usd, today=TODAY)
    assert "base_amount" in errors
