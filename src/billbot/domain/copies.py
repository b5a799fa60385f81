"""What one copy of a bill (a row in a Slack message) showed, and whether it is still the bill.

A copy carries a short token of the figures it showed (total, amount due, due date, currency,
supplier). A click on a copy whose token is not the bill's current one acts on figures its
clicker never saw, so it is refused with the current figures. The digest header's totals are
recomputed from the figures every copy of that digest shows now.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date

from billbot.codat.models import Bill
from billbot.money import format_money
from billbot.storage.bill_copies import ShownBill

from .digest import DigestSummary, SummaryTally
from .versions import BillVersion


def nothing_due(bill: Bill) -> bool:
    """Paid, void, or an amount due of zero: such a bill is never shown overdue."""
    if not bill.status.payable:
        return True
    return bill.amount_due is not None and bill.amount_due <= 0


def version_token(bill: Bill) -> str:
    """12 hex characters naming the bill's figures (not its modification time)."""
    data = BillVersion.of(bill).to_json()
    data.pop("sourceModifiedDate", None)
    data["status"] = bill.status.value
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return digest[:12]


def shown_of(bill: Bill) -> ShownBill:
    return ShownBill(bill_id=bill.id, token=version_token(bill), amount_due=bill.amount_due,
                     currency=bill.currency.upper(), due_date=bill.due_date,
                     settled=nothing_due(bill))


def current_figures(bill: Bill) -> str:
    """The bill as it stands, in a sentence ("amount due GBP 1,010.00, due 2026-12-01")."""
    due = ("unknown" if bill.amount_due is None
           else format_money(bill.amount_due, bill.currency))
    return f"amount due {due}, total " + (
        "unknown" if bill.total_amount is None else format_money(bill.total_amount, bill.currency)
    ) + f", due {bill.due_date.isoformat()}"


def stale_copy_reason(shown_token: str | None, bill: Bill) -> str | None:
    """Why an Approve on a copy that showed `shown_token` may not count, or None."""
    if shown_token is None or shown_token == version_token(bill):
        return None
    return ("This message showed the bill before it changed, so nothing was recorded. "
            f"It now reads: {current_figures(bill)}. Every copy has been refreshed: "
            "check it and approve again.")


def summarise_shown(shown: Iterable[ShownBill], *, today: date) -> DigestSummary:
    """The header's figures from what the digest's rows show now: bills still due only."""
    tally = SummaryTally(today=today)
    for bill in shown:
        if not bill.settled:
            tally.add(bill.amount_due, bill.currency, bill.due_date)
    return tally.summary()


__all__ = ["ShownBill", "current_figures", "nothing_due", "shown_of", "stale_copy_reason",
           "summarise_shown", "version_token"]
