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


def is_due(bill: Bill, *, last: date) -> bool:
    """Listed by a digest whose window ends on `last` (`due_window_end`)."""
    return bill.status in LISTED_STATUSES and bill.due_date <= last


def urgency(bill: Bill) -> tuple[date, str, str, str]:
    """The digest's order: overdue bills come first (their due dates are the earliest), then
    by due date; ties are broken by supplier and reference so the order is stable from one
    digest to the next."""
    return (bill.due_date, (bill.supplier_ref.supplier_name or "").lower(),
            bill.reference or "", bill.id)


def select_due_bills(bills: Iterable[Bill], *, today: date, within_days: int) -> list[Bill]:
    """Open or part-paid bills that are overdue or due within the window, most urgent first."""
    last = due_window_end(today, within_days)
    return sorted((b for b in bills if is_due(b, last=last)), key=urgency)


@dataclass(frozen=True)
class DigestSummary:
    count: int
    overdue: int
    totals: dict[str, Decimal]  # amount due per currency, currencies in alphabetical order
    unknown_amounts: int  # bills whose amountDue is null


class SummaryTally:
    """The header's figures, counted one bill at a time (a digest folds over thousands)."""

    def __init__(self, *, today: date) -> None:
        self.today = today
        self.count = self.overdue = self.unknown = 0
        self.totals: dict[str, Decimal] = {}

    def add(self, amount_due: Decimal | None, currency: str, due_date: date) -> None:
        self.count += 1
        self.overdue += due_date < self.today
        if amount_due is None:
            self.unknown += 1
        else:
            self.totals[currency] = self.totals.get(currency, Decimal(0)) + amount_due

    def summary(self) -> DigestSummary:
        return DigestSummary(count=self.count, overdue=self.overdue,
                             totals=dict(sorted(self.totals.items())),
                             unknown_amounts=self.unknown)


def summarise(bills: list[Bill], *, today: date) -> DigestSummary:
    tally = SummaryTally(today=today)
    for bill in bills:
        tally.add(bill.amount_due, bill.currency, bill.due_date)
    return tally.summary()


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
