"""No approval after a bill's final payment: judged from the database, in the approving
transaction, as well as from the fresh Codat bill (which may lag behind billbot's own record).
"""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, col, select

from billbot.codat.models import Bill, BillStatus
from billbot.domain.copies import nothing_due
from billbot.domain.versions import BillVersion, same_terms
from billbot.storage.audit import BillRef
from billbot.storage.tables import OPEN_INTENT_STATES, PaymentIntent

from . import tracks

ALREADY_PAID = "This bill is already paid, so nothing was recorded: there is nothing left to approve."
SETTLED = "This bill is {status} with nothing due, so nothing was recorded."
BEING_PAID = ("A payment of this bill is in progress, so nothing was recorded; approvals wait "
              "until it has finished.")


def _paid_in_full(intent: PaymentIntent) -> bool:
    """A succeeded payment of everything that was due when it started."""
    due = intent.bill_version.get("amountDue") if isinstance(intent.bill_version, dict) else None
    return due is not None and intent.amount >= Decimal(str(due))


def _read_predates(intent: PaymentIntent, current: BillVersion) -> bool:
    """The bill read now is the one this payment was made against: Codat has not caught up
    with it yet. A bill changed in the books since (its payment deleted, say) is trusted."""
    try:
        before = BillVersion.from_json(intent.bill_version)
    except (KeyError, TypeError, ValueError):
        return True  # an unreadable snapshot: stay on the safe side
    return (same_terms(before, current) and before.amount_due == current.amount_due
            and before.source_modified_date == current.source_modified_date)


def approval_blocker(session: Session, ref: BillRef, bill: Bill) -> str | None:
    """Why no approval of this bill may be recorded now (paid, void, or being paid), or None."""
    track = tracks.load_track(session, ref)
    if track is not None and track.id is not None:
        intents = session.exec(select(PaymentIntent).where(
            col(PaymentIntent.bill_track_id) == track.id)).all()
        if any(i.state in OPEN_INTENT_STATES for i in intents):
            return BEING_PAID
        current = BillVersion.of(bill)
        if any(i.state == "succeeded" and i.undone_at is None and _paid_in_full(i)
               and _read_predates(i, current) for i in intents):
            return ALREADY_PAID
    if not nothing_due(bill):
        return None
    if bill.status in (BillStatus.PAID, BillStatus.OPEN, BillStatus.PARTIALLY_PAID):
        return ALREADY_PAID
    return SETTLED.format(status=bill.status.value.lower())


__all__ = ["ALREADY_PAID", "BEING_PAID", "approval_blocker"]
