"""Which bills a digest lists, in what order, and the totals at its top."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billbot.codat.models import Bill, BillStatus

LISTED_STATUSES = (BillStatus.OPEN, BillStatus.PARTIALLY_PAID)


def due_window_end(today: date, within_days: int) -> date:
    """The last due date listed: "due within N days" includes day N."""
    return today + timedelta(days=within_days)


def select_due_bills(bills: Iterable[Bill], *, today: date, within_days: int) -> list[Bill]:
    """Open or part-paid bills that are overdue or due within the window, most urgent first.

    Overdue bills come first (their due dates are the earliest), then by due date; ties are
    broken by supplier and reference so the order is stable from one digest to the next.
    """
    last = due_window_end(today, within_days)
    chosen = [b for b in bills if b.status in LISTED_STATUSES and b.due_date <= last]
    return sorted(chosen, key=lambda b: (b.due_date, (b.supplier_ref.supplier_name or "").lower(),
                                         b.reference or "", b.id))


@dataclass(frozen=True)
class DigestSummary:
    count: int
    overdue: int
    totals: dict[str, Decimal]  # amount due per currency, currencies in alphabetical order
    unknown_amounts: int  # bills whose amountDue is null


def summarise(bills: list[Bill], *, today: date) -> DigestSummary:
    totals: dict[str, Decimal] = {}
    unknown = 0
    for bill in bills:
        if bill.amount_due is None:
            unknown += 1
            continue
        totals[bill.currency] = totals.get(bill.currency, Decimal(0)) + bill.amount_due
    return DigestSummary(
        count=len(bills),
        overdue=sum(1 for b in bills if b.due_date < today),
        totals=dict(sorted(totals.items())),
        unknown_amounts=unknown,
    )


def due_in_words(due: date, today: date) -> str:
    """`3 days overdue`, `1 day overdue`, `due today`, `due tomorrow`, `due in 5 days`."""
    days = (due - today).days
    if days < 0:
        n = -days
        return f"{n} day{'s' if n != 1 else ''} overdue"
    if days == 0:
        return "due today"
    if days == 1:
        return "due tomorrow"
    return f"due in {days} days"
