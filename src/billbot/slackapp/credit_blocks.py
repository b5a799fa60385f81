"""Apply credit note: the form (an open credit note of the supplier, or a new one to record;
the credit to apply; optionally the rest paid from an account), its review, and reading the
form's input. Every problem is answered inline on its own input block; nothing is recorded
before the review is confirmed (slackapp/credit_flow.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from billbot.codat.async_api.credit_notes import CreditNote
from billbot.codat.async_api.queries import safe_value
from billbot.codat.models import BankAccountOption, Bill
from billbot.context_token import ModalContext
from billbot.domain.bill_controls import Control
from billbot.domain.typed_amount import AmountRefused, read_typed_amount
from billbot.money import format_money
from billbot.services.payability import amount_problem, date_problem
from billbot.slackapp.account_choices import account_element
from billbot.slackapp.blocks import Block, _mrkdwn, _plain, amount_due_text
from billbot.slackapp.control_blocks import form_notice, review_blocks
from billbot.slackapp.mrkdwn import user_text
from billbot.slackapp.payload import text_at, view_value

CALLBACK_CREDIT = "credit_note_form"
CALLBACK_CREDIT_REVIEW = "credit_note_review"
MAX_NOTES = 15  # what the signed context (3,000 characters of private_metadata) can carry
_NUMBER_LIMIT = 64


@dataclass(frozen=True)
class Offered:
    """A credit note the form offered: id, label and the credit it had left then."""

    id: str
    label: str
    remaining: str


@dataclass(frozen=True)
class CreditChoice:
    """The form's checked choice: an offered credit note (`note_id`) or a new one."""

    credit_amount: str
    cash_amount: str  # "0" for credit alone
    account_id: str
    paid_on: str
    note_id: str | None = None
    note_label: str | None = None
    new_number: str | None = None
    new_amount: str | None = None
    new_date: str | None = None

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @staticmethod
    def load(text: str) -> CreditChoice:
        return CreditChoice(**json.loads(text))

    @property
    def credit(self) -> Decimal:
        return Decimal(self.credit_amount)

    @property
    def cash(self) -> Decimal:
        return Decimal(self.cash_amount)


def carry_notes(notes: Sequence[CreditNote]) -> str:
    return json.dumps([[n.id, n.label[:30], str(n.remaining_credit or 0)]
                       for n in notes[:MAX_NOTES]], separators=(",", ":"))


def carried_notes(text: str | None) -> list[Offered]:
    return [Offered(*row) for row in json.loads(text or "[]")]


def _input(block_id: str, label: str, element: Block, *, optional: bool = False,
           hint: str | None = None) -> Block:
    block: Block = {"type": "input", "block_id": block_id, "optional": optional,
                    "label": _plain(label, 2000), "element": element}
    if hint:
        block["hint"] = _plain(hint, 2000)
    return block


def _text(action_id: str) -> Block:
    return {"type": "plain_text_input", "action_id": action_id}


def _left(note: CreditNote, currency: str) -> str:
    return format_money(note.remaining_credit or Decimal(0), currency)


def credit_modal(bill: Bill, notes: Sequence[CreditNote], accounts: list[BankAccountOption], *,
                 today: date, metadata: str, controls: Sequence[Control] = ()) -> Block:
    supplier = user_text(bill.supplier_ref.supplier_name or bill.supplier_ref.id, 150)
    blocks: list[Block] = [{"type": "section", "block_id": "credit-summary", "text": _mrkdwn(
        f"Apply a credit note of *{supplier}* to bill *{user_text(bill.reference or bill.id, 150)}*"
        f"\nAmount due: *{amount_due_text(bill)}*")}]
    if notes:
        options = [{"text": _plain(f"{n.label} · {_left(n, bill.currency)} left", 75),
                    "value": n.id} for n in notes[:MAX_NOTES]]
        blocks.append(_input("credit_note", "Credit note", {
            "type": "static_select", "action_id": "credit_note", "options": options,
            "placeholder": _plain("Choose a credit note", 150)}, optional=True))
    else:
        blocks.append({"type": "context", "block_id": "no-credit-notes", "elements": [_mrkdwn(
            f"{supplier} has no open credit notes in {bill.currency}: record one below.")]})
    blocks += [
        {"type": "section", "block_id": "new-note", "text": _mrkdwn(
            "*Record a new credit note* (instead of choosing one)")},
        _input("new_number", "Credit note number", _text("new_number"), optional=True,
               hint="The supplier's number for it, as printed on the credit note."),
        _input("new_amount", f"Credit note amount ({bill.currency})", _text("new_amount"),
               optional=True),
        _input("new_date", "Credit note date", {"type": "datepicker", "action_id": "new_date",
                                                "initial_date": today.isoformat()},
               optional=True),
        _input("credit_amount", f"Credit to apply ({bill.currency})", _text("credit_amount"),
               optional=True, hint="Empty: as much as the credit note and the bill allow."),
        *form_notice(controls, lead="_If you also pay part of the bill from the account:_"),
        _input("account", "Account", account_element(accounts),
               hint="The payment is recorded against it; money leaves it only for the rest."),
        _input("cash_amount", f"And pay the rest from the account ({bill.currency})",
               _text("cash_amount"), optional=True, hint="Empty: apply the credit alone."),
        _input("date", "Date", {"type": "datepicker", "action_id": "date",
                                "initial_date": today.isoformat()}),
    ]
    return {"type": "modal", "callback_id": CALLBACK_CREDIT, "private_metadata": metadata,
            "title": _plain("Apply credit note", 24), "submit": _plain("Review", 24),
            "close": _plain("Cancel", 24), "blocks": blocks}


def _typed(view: Any, block: str) -> str | None:
    raw = (view_value(view, block, block) or {}).get("value")
    return raw.strip() if isinstance(raw, str) and raw.strip() else None


def _date(view: Any, block: str) -> date | None:
    raw = (view_value(view, block, block) or {}).get("selected_date")
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _amount(view: Any, block: str, currency: str, errors: dict[str, str]) -> Decimal | None:
    typed = _typed(view, block)
    if typed is None:
        return None
    try:
        return read_typed_amount(typed, currency)
    except AmountRefused as exc:
        errors[block] = str(exc)
        return None


def _new_note(view: Any, currency: str, today: date,
              errors: dict[str, str]) -> tuple[str, Decimal, date] | None:
    number = _typed(view, "new_number")
    amount = _amount(view, "new_amount", currency, errors)
    if number is None:
        if amount is not None:
            errors["new_number"] = "Type the credit note's number too."
        return None
    try:
        safe_value(number)
    except ValueError:
        errors["new_number"] = "A credit note number cannot contain & | { } = < > ! or ~."
        return None
    if len(number) > _NUMBER_LIMIT:
        errors["new_number"] = f"At most {_NUMBER_LIMIT} characters."
        return None
    issued = _date(view, "new_date") or today
    if issued > today:
        errors["new_date"] = "A credit note's date cannot be in the future."
    if amount is None:
        errors.setdefault("new_amount", "Type the credit note's amount.")
    elif amount <= 0:
        errors["new_amount"] = "The amount must be more than zero."
    return None if errors else (number, amount or Decimal(0), issued)


def check_credit_input(view: Any, ctx: ModalContext, *,
                       today: date) -> tuple[dict[str, str], CreditChoice | None]:
    """The form's checked choice, or an error per offending input block."""
    errors: dict[str, str] = {}
    currency = ctx.currency or "XXX"
    due = Decimal(ctx.amount_due) if ctx.amount_due and ctx.amount_due != "None" else None
    offered = {o.id: o for o in carried_notes(ctx.credit_notes)}
    chosen_id = text_at(view_value(view, "credit_note", "credit_note"), "selected_option",
                        "value", limit=255)
    new = _new_note(view, currency, today, errors)
    chosen = offered.get(chosen_id) if chosen_id else None
    if chosen_id and chosen is None:
        errors["credit_note"] = "That credit note was not offered; press Apply credit note again."
    elif chosen and (new or _typed(view, "new_number")):
        errors["credit_note"] = "Choose a credit note or record a new one, not both."
    elif not chosen and not new and not errors:
        errors["credit_note" if offered else "new_number"] = (
            "Choose a credit note, or type a new one's number and amount.")
    remaining = Decimal(chosen.remaining) if chosen else new[1] if new else None
    credit = _amount(view, "credit_amount", currency, errors)
    if credit is None and remaining is not None and "credit_amount" not in errors:
        credit = min(remaining, due) if due is not None else remaining
    if credit is not None and remaining is not None:
        problem = amount_problem(credit, due=due, currency=currency)
        if credit > remaining:
            problem = (f"The credit note has {format_money(remaining, currency)} of credit "
                       "left; apply that much at most.")
        if problem:
            errors["credit_amount"] = problem
    cash = _amount(view, "cash_amount", currency, errors) or Decimal(0)
    if cash and credit is not None and due is not None and "credit_amount" not in errors:
        problem = amount_problem(cash, due=due - credit, currency=currency)
        if problem:
            errors["cash_amount"] = problem.replace("The amount is more than the",
                                                    "With the credit, that is more than the")
    account = text_at(view_value(view, "account", "account"), "selected_option", "value",
                      limit=255)
    if not account:
        errors["account"] = "Choose the account the payment is recorded against."
    paid_on = _date(view, "date")
    if paid_on is None:
        errors["date"] = "Pick the date."
    else:
        issued = date.fromisoformat(ctx.issue_date) if ctx.issue_date else None
        problem = date_problem(paid_on, issued_on=issued, today=today)
        if problem:
            errors["date"] = problem
    if errors or credit is None or not account or paid_on is None:
        return errors, None
    return {}, CreditChoice(
        credit_amount=str(credit), cash_amount=str(cash), account_id=account,
        paid_on=paid_on.isoformat(), note_id=chosen.id if chosen else None,
        note_label=chosen.label if chosen else new[0] if new else None,
        new_number=new[0] if new else None, new_amount=str(new[1]) if new else None,
        new_date=new[2].isoformat() if new else None)


def credit_review_modal(ctx: ModalContext, choice: CreditChoice, *, account_label: str,
                        metadata: str, controls: Sequence[Control] = ()) -> Block:
    """What confirming does, in words: the credit (and a new credit note recorded first), the
    payment from the account if any, and what the bill is left owing."""
    currency = ctx.currency or "XXX"
    supplier = user_text(ctx.payee or "the supplier", 150)
    label = user_text(choice.note_label or "", 64)
    credit = format_money(choice.credit, currency)
    lines = [f"You are about to apply *{credit}* of credit note *{label}* from *{supplier}* "
             f"to bill *{user_text(ctx.reference or ctx.bill_id, 150)}*."]
    if choice.new_number and choice.new_amount and choice.new_date:
        lines.append(f"*First recorded:* credit note {label} of "
                     f"{format_money(Decimal(choice.new_amount), currency)} dated "
                     f"{choice.new_date}")
    if choice.cash > 0:
        lines.append(f"*Paid from {user_text(account_label, 150)}:* "
                     f"{format_money(choice.cash, currency)}")
    else:
        lines.append(f"*Recorded against:* {user_text(account_label, 150)} (no money leaves it)")
    total = choice.credit + choice.cash
    lines.append(f"*Off the bill:* {format_money(total, currency)}")
    if ctx.amount_due and ctx.amount_due != "None":
        lines.append(f"*Still due after:* {format_money(Decimal(ctx.amount_due) - total, currency)}")
    lines.append(f"*Date:* {date.fromisoformat(choice.paid_on).strftime('%a %d %b %Y')}")
    return {"type": "modal", "callback_id": CALLBACK_CREDIT_REVIEW, "private_metadata": metadata,
            "title": _plain("Review credit", 24), "submit": _plain("Confirm", 24),
            "close": _plain("Cancel", 24),
            "blocks": [{"type": "section", "block_id": "review", "text": _mrkdwn("\n".join(lines))},
                       *(review_blocks(controls) if choice.cash > 0 else [])]}


__all__ = ["CALLBACK_CREDIT", "CALLBACK_CREDIT_REVIEW", "CreditChoice", "Offered", "carried_notes",
           "carry_notes", "check_credit_input", "credit_modal", "credit_review_modal"]
