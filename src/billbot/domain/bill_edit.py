"""Edit's form, checked, and the update bill prototype it makes from the bill as Codat has it.

Codat's update bill is a full replacement, so every field the form does not show (supplier,
currency, rate, each line's account, tax rate and tracking) is carried over from the bill read
at submit time. A line's amount is its net amount; its tax keeps the line's own rate (the tax
the line had, in proportion), so a changed amount never changes how it is taxed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from billbot.codat.models import Bill, BillLineItem, BillPrototype

MAX_LINES = 10  # the modal's lines; a bill with more is edited in the accounting software
MAX_REFERENCE = 255  # Codat's limit on reference
_AMOUNT = re.compile(r"^\d{1,12}(?:\.\d{1,2})?$")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class EditForm:
    reference: str
    issue_date: date | None
    due_date: date | None
    line_amounts: tuple[str, ...]  # as typed, one per line of the bill
    line_descriptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Checked:
    prototype: BillPrototype | None
    errors: dict[str, str] = field(default_factory=dict)  # block_id -> message, shown inline


def line_net(line: BillLineItem) -> Decimal:
    return (line.unit_amount * line.quantity).quantize(CENT, ROUND_HALF_UP)


def editable(bill: Bill) -> str | None:
    """Why the bill cannot be edited here, or None."""
    lines = bill.line_items or []
    if not lines:
        return "This bill has no lines billbot can edit; change it in the accounting software."
    if len(lines) > MAX_LINES:
        return (f"This bill has {len(lines)} lines; billbot edits bills of up to {MAX_LINES}. "
                "Change it in the accounting software.")
    return None


def _amount(raw: str) -> Decimal | None:
    text = raw.strip().replace(",", "")
    return Decimal(text) if _AMOUNT.match(text) else None


def form_errors(form: EditForm) -> dict[str, str]:
    """What the form alone shows wrong (answered inline before the bill is read)."""
    errors: dict[str, str] = {}
    if len(form.reference.strip()) > MAX_REFERENCE:
        errors["reference"] = f"At most {MAX_REFERENCE} characters."
    if form.issue_date is None:
        errors["issue_date"] = "Pick the issue date."
    if form.due_date is None:
        errors["due_date"] = "Pick the due date."
    elif form.issue_date is not None and form.due_date < form.issue_date:
        errors["due_date"] = "The due date cannot be before the issue date."
    for index, raw in enumerate(form.line_amounts):
        if _amount(raw) is None:
            errors[f"line_{index}"] = "An amount like 1250.00 (no currency, two decimals at most)."
    if not errors and form.line_amounts and sum(
            (_amount(raw) or Decimal(0) for raw in form.line_amounts), Decimal(0)) <= 0:
        errors["line_0"] = "The bill's total must be more than zero."
    return errors


def check_edit(bill: Bill, form: EditForm) -> Checked:
    """The prototype for update bill, or the form's errors keyed by their input block."""
    lines = bill.line_items or []
    if len(form.line_amounts) != len(lines):
        return Checked(None, {"reference": "The bill changed since this form opened: close it "
                                           "and press Edit again."})
    errors = form_errors(form)
    new_lines: list[BillLineItem] = []
    for index, (line, raw) in enumerate(zip(lines, form.line_amounts, strict=True)):
        amount = _amount(raw)
        if amount is not None:
            new_lines.append(_line(line, amount, _description(form, index, line)))
    if errors:
        return Checked(None, errors)
    assert form.issue_date is not None and form.due_date is not None
    return Checked(BillPrototype.model_validate({
        "supplierRef": {"id": bill.supplier_ref.id},
        "issueDate": form.issue_date.isoformat(), "dueDate": form.due_date.isoformat(),
        "currency": bill.currency, "status": "Open",
        "reference": form.reference.strip() or None,
        "currencyRate": bill.currency_rate,
        "lineItems": new_lines,
    }))


def _description(form: EditForm, index: int, line: BillLineItem) -> str | None:
    if index < len(form.line_descriptions):
        return form.line_descriptions[index].strip() or None
    return line.description


def _line(line: BillLineItem, net: Decimal, description: str | None) -> BillLineItem:
    old_net = line_net(line)
    old_tax = line.tax_amount or Decimal(0)
    tax = (net * old_tax / old_net).quantize(CENT, ROUND_HALF_UP) if old_net else Decimal(0)
    return line.model_copy(update={
        "description": description, "unit_amount": net, "quantity": Decimal(1),
        "tax_amount": tax, "total_amount": net + tax,
    })
