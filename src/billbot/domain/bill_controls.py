"""The controls a bill meets before it is paid (pure): a possible duplicate, the first payment
to a supplier, an amount far above the supplier's usual, and the payer's limits.

Each check reads the supplier's other bills as Codat gives them (services/controls.py fetches
them); none does I/O. A control is a warning with a short line for the row and a longer one for
the pay review; only a duplicate needs an explicit "checked, not a duplicate" to proceed, and a
payer limit refuses outright.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from statistics import median

from billbot.codat.models import Bill, BillStatus
from billbot.money import format_money

DUPLICATE_DAYS = 7  # issue dates this close, with the same amount, look like one bill twice
LOOKBACK_DAYS = 90  # paid bills older than this are not compared
USUAL_BILLS = 6  # the supplier's usual is the median of its last this many paid bills...
USUAL_MIN_BILLS = 3  # ... when it has at least this many
UNUSUAL_FACTOR = Decimal(2)

_OPEN = (BillStatus.OPEN, BillStatus.PARTIALLY_PAID)
_PAID = (BillStatus.PAID, BillStatus.PARTIALLY_PAID)


class ControlKind(StrEnum):
    DUPLICATE = "duplicate"
    FIRST_PAYMENT = "first_payment"
    UNUSUAL_AMOUNT = "unusual_amount"


@dataclass(frozen=True)
class Control:
    kind: ControlKind
    short: str  # the row's warning line
    detail: str  # the review's sentence

    @property
    def needs_confirmation(self) -> bool:
        return self.kind is ControlKind.DUPLICATE


def _reference(bill: Bill) -> str:
    return " ".join((bill.reference or "").split()).casefold()


def _paid_on(bill: Bill) -> date:
    """When a paid bill was last changed in the books (its payment, as near as a bill says);
    its issue date when the books do not say."""
    modified = bill.source_modified_date
    return modified.date() if modified is not None else bill.issue_date


def _recent(other: Bill, today: date) -> bool:
    if other.status in _OPEN:
        return True
    return other.status is BillStatus.PAID and \
        _paid_on(other) >= today - timedelta(days=LOOKBACK_DAYS)


def _label(bill: Bill) -> str:
    amount = format_money(bill.total_amount, bill.currency) if bill.total_amount is not None \
        else bill.currency
    return (f"{bill.reference or bill.id} ({amount}, issued "
            f"{bill.issue_date.strftime('%d %b %Y')}, {bill.status.value})")


def duplicates_of(bill: Bill, others: Iterable[Bill], *, today: date) -> list[Bill]:
    """Other bills of the same supplier, open or paid in the last 90 days, with the same
    reference, or with the same amount and issue dates at most 7 days apart."""
    found: list[Bill] = []
    ref = _reference(bill)
    for other in others:
        if other.id == bill.id or other.supplier_ref.id != bill.supplier_ref.id:
            continue
        if not _recent(other, today):
            continue
        same_ref = bool(ref) and _reference(other) == ref
        same_amount = (bill.total_amount is not None and other.total_amount == bill.total_amount
                       and other.currency.upper() == bill.currency.upper()
                       and abs((other.issue_date - bill.issue_date).days) <= DUPLICATE_DAYS)
        if same_ref or same_amount:
            found.append(other)
    return found


def is_first_payment(bill: Bill, others: Iterable[Bill], *, paid_by_billbot: bool) -> bool:
    """No bill of the supplier Paid or PartiallyPaid in the books, none recorded by billbot."""
    if paid_by_billbot or bill.status is BillStatus.PARTIALLY_PAID:
        return False
    return not any(o.status in _PAID and o.supplier_ref.id == bill.supplier_ref.id
                   for o in others if o.id != bill.id)


def usual_amount(bill: Bill, others: Iterable[Bill]) -> Decimal | None:
    """The median of the supplier's last 6 paid bills in the bill's currency, when it has at
    least 3; None otherwise."""
    paid = sorted((o for o in others if o.id != bill.id and o.status is BillStatus.PAID
                   and o.supplier_ref.id == bill.supplier_ref.id and o.total_amount is not None
                   and o.currency.upper() == bill.currency.upper()),
                  key=lambda o: (o.issue_date, o.id), reverse=True)[:USUAL_BILLS]
    if len(paid) < USUAL_MIN_BILLS:
        return None
    return Decimal(median([o.total_amount for o in paid if o.total_amount is not None]))


def controls_for(bill: Bill, others: Sequence[Bill], *, today: date,
                 paid_by_billbot: bool) -> list[Control]:
    """Every control the bill meets, duplicates first."""
    found: list[Control] = []
    twins = duplicates_of(bill, others, today=today)
    if twins:
        names = "; ".join(_label(t) for t in twins[:3])
        more = f" and {len(twins) - 3} more" if len(twins) > 3 else ""
        found.append(Control(
            ControlKind.DUPLICATE,
            f"Possible duplicate of {twins[0].reference or twins[0].id}",
            f"Possible duplicate: this supplier has {names}{more}. Check it is not the same "
            "bill before paying."))
    if is_first_payment(bill, others, paid_by_billbot=paid_by_billbot):
        found.append(Control(
            ControlKind.FIRST_PAYMENT, "First payment to this supplier",
            "First payment to this supplier: no bill of theirs has been paid before. Check "
            "their bank details through a known contact."))
    usual = usual_amount(bill, others)
    if usual is not None and bill.total_amount is not None and \
            bill.total_amount > UNUSUAL_FACTOR * usual:
        typical = format_money(usual, bill.currency)
        found.append(Control(
            ControlKind.UNUSUAL_AMOUNT, f"Over twice the usual {typical}",
            f"Unusual amount: {format_money(bill.total_amount, bill.currency)} is more than "
            f"twice this supplier's usual {typical} (the median of their last paid bills)."))
    return found


def payer_limit_problem(limits: Mapping[str, Decimal] | None, *, currency: str,
                        amount: Decimal) -> str | None:
    """Why the payer may not pay this amount, or None. No limits (None or {}): any amount in
    any currency; otherwise only the listed currencies, each up to its limit."""
    if not limits:
        return None
    code = currency.upper()
    limit = limits.get(code)
    if limit is None:
        listed = ", ".join(sorted(limits))
        return (f"You may pay bills only in {listed}; this bill is in {code}. "
                "Nothing was recorded.")
    if amount > limit:
        return (f"{format_money(amount, code)} is above your payment limit of "
                f"{format_money(limit, code)}. Nothing was recorded.")
    return None


__all__ = ["DUPLICATE_DAYS", "LOOKBACK_DAYS", "Control", "ControlKind", "controls_for",
           "duplicates_of", "is_first_payment", "payer_limit_problem", "usual_amount"]
