"""The pay form and its review step: Block Kit for both, and reading the form's input.

The amount is a plain text input (Slack's number_input refuses `£1,500.01` in the client);
every value is checked here against the rules of domain.typed_amount and
services.payability, each problem answered inline on its own input block. For a bill in
another currency than the company's base, the form asks the rate (the books' rate
prefilled) or the amount leaving the account, from which the rate follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from billbot.codat.models import BankAccountOption, Bill
from billbot.context_token import ModalContext
from billbot.domain.bill_controls import Control
from billbot.domain.digest import due_in_words
from billbot.domain.typed_amount import (
    AmountRefused,
    rate_from_amounts,
    read_typed_amount,
    read_typed_rate,
)
from billbot.money import converted, format_money
from billbot.services.payability import amount_problem, date_problem
from billbot.slackapp.account_choices import account_element
from billbot.slackapp.blocks import (
    CALLBACK_PAY,
    Block,
    _mrkdwn,
    _plain,
    amount_due_text,
)
from billbot.slackapp.control_blocks import form_notice, review_blocks
from billbot.slackapp.mrkdwn import user_text
from billbot.slackapp.payload import text_at, view_value

CALLBACK_PAY_REVIEW = "pay_review"
_NOT_MONEY_MOVED = ("Recording this payment puts it in the company's accounting software through "
                    "Codat. It does not move money by itself.")


@dataclass(frozen=True)
class PayChoice:
    """What the payer chose in the form, checked."""

    account_id: str
    amount: Decimal
    paid_on: date
    currency_rate: Decimal | None  # base units per unit of the bill's currency (foreign bills)


def crosses_currency(bill_currency: str, base_currency: str | None) -> bool:
    return base_currency is not None and base_currency.upper() != bill_currency.upper()


def _rate_blocks(bill: Bill, base_currency: str) -> list[Block]:
    books = f"{bill.currency_rate.normalize():f}" if bill.currency_rate else None
    rate_input: Block = {"type": "plain_text_input", "action_id": "rate",
                         "placeholder": _plain("e.g. 0.781", 150)}
    if books:
        rate_input["initial_value"] = books
    return [
        {"type": "input", "block_id": "rate", "optional": True,
         "label": _plain(f"Rate ({base_currency} per 1 {bill.currency})", 2000),
         "hint": _plain("The rate in the books is prefilled." if books else
                        "The books hold no rate for this bill.", 2000),
         "element": rate_input},
        {"type": "input", "block_id": "base_amount", "optional": True,
         "label": _plain(f"Or the amount leaving the account ({base_currency})", 2000),
         "hint": _plain("When given, the rate follows from it.", 2000),
         "element": {"type": "plain_text_input", "action_id": "base_amount"}},
    ]


def pay_modal(bill: Bill, accounts: list[BankAccountOption], *, today: date, metadata: str,
              base_currency: str | None = None, controls: Sequence[Control] = ()) -> Block:
    supplier = user_text(bill.supplier_ref.supplier_name or bill.supplier_ref.id, 150)
    due = bill.amount_due if bill.amount_due is not None else Decimal(0)
    blocks: list[Block] = [
        {"type": "section", "block_id": "pay-summary", "text": _mrkdwn(
            f"Pay *{supplier}* for bill *{user_text(bill.reference or bill.id, 150)}*\n"
            f"Amount due: *{amount_due_text(bill)}* · {due_in_words(bill.due_date, today)}")},
        *form_notice(controls),
        {"type": "input", "block_id": "account", "label": _plain("Pay from account", 2000),
         "element": account_element(accounts)},
        {"type": "input", "block_id": "amount",
         "label": _plain(f"Amount ({bill.currency})", 2000),
         "hint": _plain("A smaller amount records a partial payment.", 2000),
         "element": {"type": "plain_text_input", "action_id": "amount",
                     "initial_value": format_money(due, bill.currency).split(" ", 1)[1]}},
    ]
    if base_currency is not None and crosses_currency(bill.currency, base_currency):
        blocks += _rate_blocks(bill, base_currency)
    blocks += [
        {"type": "input", "block_id": "date", "label": _plain("Payment date", 2000),
         "element": {"type": "datepicker", "action_id": "date",
                     "initial_date": today.isoformat()}},
        {"type": "context", "elements": [_mrkdwn(
            "Next you review the payment; nothing is recorded until you confirm it.")]},
    ]
    return {"type": "modal", "callback_id": CALLBACK_PAY, "private_metadata": metadata,
            "title": _plain("Pay bill", 24), "submit": _plain("Review", 24),
            "close": _plain("Cancel", 24), "blocks": blocks}


def chosen_account_label(view: Any) -> str:
    """The chosen account as the select showed it (Slack returns the option's text); the id
    is what counts and is checked against Codat on confirmation."""
    label = text_at(view_value(view, "account", "account"), "selected_option", "text", "text",
                    limit=75)
    return label or "the chosen account"


def review_modal(ctx: ModalContext, choice: PayChoice, *, account_label: str,
                 metadata: str, controls: Sequence[Control] = ()) -> Block:
    """"You are about to pay X to Y from Z": the payee, the amount (and, for a foreign bill,
    the rate and the amount leaving the account), the account and the date."""
    currency = ctx.currency or "XXX"
    supplier = user_text(ctx.payee or "the supplier", 150)
    money = format_money(choice.amount, currency)
    lines = [f"You are about to record a payment of *{money}* to *{supplier}* for bill "
             f"*{user_text(ctx.reference or ctx.bill_id, 150)}*.",
             f"*Payee:* {supplier}",
             f"*Amount:* {money}"]
    base = ctx.base_currency
    if choice.currency_rate is not None and base is not None:
        leaving = converted(choice.amount, choice.currency_rate, base)
        lines.append(f"*Rate:* {choice.currency_rate.normalize():f} {base} per 1 {currency}")
        lines.append(f"*Leaving the account:* {format_money(leaving, base)}")
    lines += [f"*From account:* {user_text(account_label, 150)}",
              f"*Payment date:* {choice.paid_on.strftime('%a %d %b %Y')}"]
    return {"type": "modal", "callback_id": CALLBACK_PAY_REVIEW, "private_metadata": metadata,
            "title": _plain("Review payment", 24), "submit": _plain("Confirm payment", 24),
            "close": _plain("Cancel", 24),
            "blocks": [{"type": "section", "block_id": "review", "text": _mrkdwn("\n".join(lines))},
                       *review_blocks(controls),
                       {"type": "context", "elements": [_mrkdwn(_NOT_MONEY_MOVED)]}]}


def _typed(view: Any, block: str) -> str | None:
    raw = (view_value(view, block, block) or {}).get("value")
    return raw if isinstance(raw, str) and raw.strip() else None


def _rate(view: Any, ctx: ModalContext, amount: Decimal | None,
          errors: dict[str, str]) -> Decimal | None:
    base, currency = ctx.base_currency, ctx.currency or "XXX"
    if base is None or not crosses_currency(currency, base):
        return None
    try:
        typed_base = _typed(view, "base_amount")
        if typed_base is not None:
            base_amount = read_typed_amount(typed_base, base)
            if amount is None:
                return None
            return rate_from_amounts(amount, base_amount)
    except AmountRefused as exc:
        errors["base_amount"] = str(exc)
        return None
    typed_rate = _typed(view, "rate")
    if typed_rate is None:
        errors["rate"] = (f"Enter the rate ({base} per 1 {currency}) or the amount leaving "
                          "the account.")
        return None
    try:
        return read_typed_rate(typed_rate, base=base, currency=currency)
    except AmountRefused as exc:
        errors["rate"] = str(exc)
        return None


def check_pay_input(view: Any, ctx: ModalContext, *,
                    today: date) -> tuple[dict[str, str], PayChoice | None]:
    """The form's checked choice, or an error per offending input block."""
    errors: dict[str, str] = {}
    account = text_at(view_value(view, "account", "account"), "selected_option", "value",
                      limit=255)
    if not account:
        errors["account"] = "Choose the account the payment comes from."
    currency = ctx.currency or "XXX"
    amount: Decimal | None = None
    try:
        amount = read_typed_amount(_typed(view, "amount") or "", currency)
    except AmountRefused as exc:
        errors["amount"] = str(exc)
    if amount is not None:
        due = Decimal(ctx.amount_due) if ctx.amount_due else None
        problem = amount_problem(amount, due=due, currency=currency)
        if problem:
            errors["amount"] = problem
    rate = _rate(view, ctx, amount, errors)
    raw_date = (view_value(view, "date", "date") or {}).get("selected_date")
    paid_on: date | None = None
    try:
        paid_on = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        paid_on = None
    if paid_on is None:
        errors["date"] = "Pick the payment date."
    else:
        issued = date.fromisoformat(ctx.issue_date) if ctx.issue_date else None
        problem = date_problem(paid_on, issued_on=issued, today=today)
        if problem:
            errors["date"] = problem
    if errors or not account or amount is None or paid_on is None:
        return errors, None
    return {}, PayChoice(account_id=account, amount=amount, paid_on=paid_on, currency_rate=rate)


__all__ = ["CALLBACK_PAY_REVIEW", "PayChoice", "check_pay_input",
           "chosen_account_label", "crosses_currency", "pay_modal", "review_modal"]
