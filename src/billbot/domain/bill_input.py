"""What a person typed into the Create bill form, checked before anything is stored.

Pure. The supplier is one of the company's (picked) or a new one (its name typed; the sync
API's create-supplier needs only `supplierName` and `status`). The bill follows the sync
API's bill prototype: supplier, issue and due dates, currency (a rate when it is not the
base currency), status Open, an optional reference, and lines (description, amount, expense
account, tax rate). Every problem is reported inline, on the field that has it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billbot.codat.models import BillLineItem, BillPrototype, IdRef, SupplierRef
from billbot.domain.typed_amount import AmountRefused, read_typed_amount, read_typed_rate

NAME_MAX = 100
REFERENCE_MAX = 255  # Codat: "Reference Length must be less than or equal to 255."
DESCRIPTION_MAX = 200
_CURRENCY = re.compile(r"^[A-Z]{3}$")
LATEST_DUE = timedelta(days=366 * 2)


@dataclass(frozen=True)
class BillInput:
    bill: BillPrototype  # supplierRef holds the picked supplier's id, or "" for a new one
    supplier_id: str | None
    new_supplier_name: str | None

    @property
    def total(self) -> Decimal:
        return sum((line.unit_amount * line.quantity for line in self.bill.line_items or []),
                   Decimal(0))


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


def read_bill_input(fields: dict[str, str | None], *, base_currency: str,
                    accounts: frozenset[str], tax_rates: frozenset[str],
                    today: date, extra_lines: list[dict[str, str | None]] | None = None,
                    ) -> tuple[BillInput | None, dict[str, str]]:
    """The bill asked for, or the inline error per field (keyed by block id). Line 1 is in
    `fields`; `extra_lines[i]` holds line i + 2 under the same keys, its errors keyed
    `<field>_<line>`."""
    errors: dict[str, str] = {}
    supplier_id = _clean(fields.get("supplier")) or None
    new_name = _clean(fields.get("new_supplier")) or None
    if supplier_id and new_name:
        errors["new_supplier"] = "Pick a supplier or type a new one's name, not both."
    elif not supplier_id and not new_name:
        errors["supplier"] = "Pick the supplier, or type a new supplier's name below."
    elif new_name and len(new_name) > NAME_MAX:
        errors["new_supplier"] = f"At most {NAME_MAX} characters."
    reference = _clean(fields.get("reference")) or None
    if reference and len(reference) > REFERENCE_MAX:
        errors["reference"] = f"At most {REFERENCE_MAX} characters."
    issued, due = _date(fields.get("issue_date")), _date(fields.get("due_date"))
    if issued is None:
        errors["issue_date"] = "Pick the date on the invoice."
    elif issued > today:
        errors["issue_date"] = "An invoice cannot be issued in the future."
    if due is None:
        errors["due_date"] = "Pick the date the invoice is due."
    elif issued is not None and due < issued:
        errors["due_date"] = "The due date cannot be before the issue date."
    elif due > today + LATEST_DUE:
        errors["due_date"] = "At most two years ahead."
    currency = _clean(fields.get("currency")).upper()
    rate: Decimal | None = None
    if not _CURRENCY.match(currency):
        errors["currency"] = "A three-letter ISO 4217 code, such as GBP, EUR or USD."
    elif currency != base_currency:
        try:
            rate = read_typed_rate(fields.get("currency_rate") or "", base=base_currency,
                                   currency=currency)
        except AmountRefused as exc:
            errors["currency_rate"] = (f"A {currency} bill needs its rate: {base_currency} per "
                                       f"1 {currency}. {exc}")
    line_currency = currency if _CURRENCY.match(currency) else base_currency
    lines = [_read_line(line, n, line_currency, accounts, tax_rates, errors)
             for n, line in enumerate([fields, *(extra_lines or [])], start=1)]
    if errors:
        return None, errors
    assert issued is not None and due is not None
    bill = BillPrototype(supplier_ref=SupplierRef(id=supplier_id or ""), issue_date=issued,
                         due_date=due, currency=currency, reference=reference,
                         currency_rate=rate, line_items=[x for x in lines if x])
    return BillInput(bill=bill, supplier_id=supplier_id, new_supplier_name=new_name), {}


def _read_line(fields: dict[str, str | None], line: int, currency: str, accounts: frozenset[str],
               tax_rates: frozenset[str], errors: dict[str, str]) -> BillLineItem | None:
    """One line of the form, its problems added to `errors` under its own block ids."""
    def key(field: str) -> str:
        return field if line == 1 else f"{field}_{line}"
    found: dict[str, str] = {}
    description = _clean(fields.get("description"))
    if not description:
        found["description"] = "Say what the bill is for."
    elif len(description) > DESCRIPTION_MAX:
        found["description"] = f"At most {DESCRIPTION_MAX} characters."
    amount: Decimal | None = None
    try:
        amount = read_typed_amount(fields.get("amount") or "", currency)
    except AmountRefused as exc:
        found["amount"] = str(exc).replace("the amount to pay", "the amount of the line")
    account = _clean(fields.get("account"))
    if account not in accounts:
        found["account"] = "Pick the expense account the bill is booked to."
    tax_rate = _clean(fields.get("tax_rate")) or None
    if tax_rate is not None and tax_rate not in tax_rates:
        found["tax_rate"] = "Pick one of the company's tax rates, or none."
    errors.update({key(field): text for field, text in found.items()})
    if found or amount is None:
        return None
    return BillLineItem(description=description, unit_amount=amount, quantity=Decimal(1),
                        account_ref=IdRef(id=account),
                        tax_rate_ref=IdRef(id=tax_rate) if tax_rate else None)


__all__ = ["BillInput", "read_bill_input"]
