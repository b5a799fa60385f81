"""A digest's due bills in one pass, holding only the rows it draws.

A digest shows at most BILLBOT_DIGEST_MAX_ROWS rows, yet counts every due bill in its header
and indexes each under its main message (so the totals follow them). Sorting the whole due
list first held every parsed bill of a 5,000-bill ledger at once (about 10 MB); this fold
keeps the most urgent ones as bills and only what a copy shows (`ShownBill`) of the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from billbot.codat.models import Bill
from billbot.storage.bill_copies import ShownBill

from .copies import shown_of
from .digest import DigestSummary, SummaryTally, due_window_end, is_due, urgency


@dataclass(frozen=True)
class DueBills:
    top: list[Bill]  # the most urgent, most urgent first, at most `rows`
    rest: list[ShownBill]  # every other due bill, in no particular order
    summary: DigestSummary  # counts top and rest

    @property
    def count(self) -> int:
        return self.summary.count


def fold_due(bills: Iterable[Bill], *, today: date, within_days: int, rows: int) -> DueBills:
    """The due bills of `bills` (as `select_due_bills` chooses and orders them), split into
    the `rows` most urgent and the rest."""
    last = due_window_end(today, within_days)
    tally = SummaryTally(today=today)
    top: list[Bill] = []
    rest: list[ShownBill] = []
    # Candidates gather to twice the rows before each trim: a sort per `rows` bills read.
    bound = max(2 * rows, 64)

    def trim() -> None:
        top.sort(key=urgency)
        rest.extend(shown_of(b) for b in top[rows:])
        del top[rows:]

    for bill in bills:
        if not is_due(bill, last=last):
            continue
        tally.add(bill.amount_due, bill.currency, bill.due_date)
        top.append(bill)
        if len(top) >= bound:
            trim()
    trim()
    return DueBills(top=top, rest=rest, summary=tally.summary())


__all__ = ["DueBills", "fold_due"]
