"""Undo payment and Delete bill (async API): who may, what may be undone, and the request row
that makes each delete happen once (`storage/undo_tables.py`).

The rules, decided here and checked again on every submit:
- Undo payment deletes the bill payment billbot recorded last for the bill, within the undo
  window after it succeeded. The intent is then marked undone (no longer counted as paid)
  and the round's paid amount goes back down, so the approvals stand: the bill is the same
  bill, owed again as it was when they were given.
- Delete bill deletes a bill with no payment at all (Codat's platforms refuse otherwise). A
  bill created in billbot may be deleted within the window after billbot created it; a bill
  from the books has no billbot write to count a window from, so an admin may delete it
  while it is unpaid.

`undo_runner.py` sends the delete; every step it takes is written here, in one transaction
with its audit entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from billbot.codat.models import Bill, BillStatus
from billbot.storage.audit import record_audit
from billbot.storage.bill_cache_tables import CachedBill
from billbot.storage.tables import OPEN_INTENT_STATES, BillTrack, CreatedBill, PaymentIntent
from billbot.storage.undo_tables import OPEN_UNDO_STATES, BillUndo
from billbot.storage.upsert import insert_if_absent

from .bindings import Binding

PAYMENT, BILL = "payment", "bill"
ACTIONS = {PAYMENT: "payment.undone", BILL: "bill.deleted"}
FAILED_ACTIONS = {PAYMENT: "payment.undo_failed", BILL: "bill.delete_failed"}
SYNC_ONLY = ("Undo payment and Delete bill need Codat's async Bill Pay API (the sync API "
             "cannot delete); this channel's company uses the sync one. Nothing changed.")
NO_PAYMENT = "billbot has no payment of this bill that can be undone; nothing changed."
BEING_PAID = "A payment of this bill is being recorded; nothing changed."
PAID_HERE = ("billbot recorded a payment of this bill: undo that payment first (Codat refuses "
             "to delete a bill with payments). Nothing was sent.")
PAID_IN_BOOKS = ("The books show a payment on this bill, and Codat refuses to delete a bill "
                 "with payments: remove the payment in the accounting software first. Nothing "
                 "was sent.")


def not_admin(admins: frozenset[str]) -> str:
    who = ", ".join(f"<@{u}>" for u in sorted(admins)[:10]) or "nobody is named yet"
    return f"Only billbot admins can undo a payment or delete a bill ({who}); nothing changed."


def window_text(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g} hour{'s' if hours != 1 else ''}"


def undoable_intent(session: Session, binding: Binding, bill_id: str) -> PaymentIntent | None:
    """The last payment billbot recorded for the bill through the async API, if not undone."""
    return session.exec(
        select(PaymentIntent).join(BillTrack, col(BillTrack.id) == col(
            PaymentIntent.bill_track_id))
        .where(col(BillTrack.company_id) == binding.company_id,
               col(BillTrack.connection_id) == binding.connection_id,
               col(BillTrack.bill_id) == bill_id, col(PaymentIntent.state) == "succeeded",
               col(PaymentIntent.undone_at).is_(None), col(PaymentIntent.codat_api) == "async",
               col(PaymentIntent.remote_payment_id).is_not(None))
        .order_by(col(PaymentIntent.finished_at).desc()).limit(1)
        .execution_options(populate_existing=True)).first()


def undo_problem(intent: PaymentIntent | None, *, now: datetime,
                 window: timedelta) -> str | None:
    """Why the payment may not be undone now, or None."""
    if intent is None:
        return NO_PAYMENT
    if intent.group_id is not None:  # deleting it would unpay its supplier's other bills too
        return ("This bill was paid by one payment together with other bills (a pay run's "
                "one payment per supplier, or batch payment); billbot does not undo it, as that "
                "would undo theirs too. Delete it in the accounting software if it must go. "
                "Nothing changed.")
    if intent.finished_at is None or now - intent.finished_at > window:
        return (f"A payment can be undone only within {window_text(window)} of being "
                "recorded; this one is older. Delete it in the accounting software if it must "
                "go. Nothing changed.")
    return None


def delete_problem(session: Session, binding: Binding, bill: Bill, *, now: datetime,
                   window: timedelta) -> str | None:
    """Why the bill may not be deleted now (payments, the window), or None."""
    intents = session.exec(
        select(PaymentIntent.state, PaymentIntent.undone_at).join(
            BillTrack, col(BillTrack.id) == col(PaymentIntent.bill_track_id))
        .where(col(BillTrack.company_id) == binding.company_id,
               col(BillTrack.connection_id) == binding.connection_id,
               col(BillTrack.bill_id) == bill.id)).all()
    if any(state in OPEN_INTENT_STATES for state, _ in intents):
        return BEING_PAID
    if any(state == "succeeded" and undone is None for state, undone in intents):
        return PAID_HERE
    if bill.status not in (BillStatus.OPEN, BillStatus.DRAFT) or (
            bill.amount_due is not None and bill.total_amount is not None
            and bill.amount_due != bill.total_amount):
        return PAID_IN_BOOKS
    created = created_at(session, binding, bill.id)
    if created is not None and now - created > window:
        return (f"A bill created in billbot can be deleted here only within "
                f"{window_text(window)} of its creation; delete this one in the accounting "
                "software. Nothing was sent.")
    return None


def created_at(session: Session, binding: Binding, bill_id: str) -> datetime | None:
    return session.exec(select(CreatedBill.created_at).where(
        col(CreatedBill.company_id) == binding.company_id,
        col(CreatedBill.connection_id) == binding.connection_id,
        col(CreatedBill.bill_id) == bill_id)).first()


# --- the request row --------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    undo: BillUndo
    mine: bool  # this request works on it (new, or taken over from one that stopped)
    message: str = ""


def claim(session: Session, *, kind: str, binding: Binding, bill_id: str, target_id: str,
          intent_id: uuid.UUID | None, actor: str, reason: str, request_id: str | None,
          bill_version: dict[str, Any], now: datetime, lease_for: timedelta,
          owner: str) -> Claim:
    """Claim the delete of `target_id` before anything is sent: the first request wins; a
    later one finds it (done, or in hand) unless the one in hand stopped (lease run out),
    which it then takes over, resuming where the row says."""
    inserted = insert_if_absent(session, BillUndo, {
        "id": uuid.uuid4(), "kind": kind, "company_id": binding.company_id,
        "connection_id": binding.connection_id, "bill_id": bill_id, "target_id": target_id,
        "intent_id": intent_id, "actor": actor, "reason": reason, "state": "claimed",
        "bill_version": bill_version, "request_id": request_id, "requested_at": now,
        "locked_until": now + lease_for, "lease_owner": owner, "team_id": binding.team_id})
    live = _live(session, kind, binding, target_id)
    if inserted:
        return Claim(live, mine=True)
    if live.state == "succeeded":
        done = "undone" if kind == PAYMENT else "deleted"
        return Claim(live, mine=False, message=f"<@{live.actor}> already {done} it: "
                                               f"“{live.reason}”. Nothing else changed.")
    taken = session.exec(
        update(BillUndo)
        .where(col(BillUndo.id) == live.id, col(BillUndo.state).in_(OPEN_UNDO_STATES),
               (col(BillUndo.locked_until).is_(None)) | (col(BillUndo.locked_until) <= now))
        .values(locked_until=now + lease_for, lease_owner=owner)).rowcount == 1
    if taken:
        return Claim(_live(session, kind, binding, target_id), mine=True)
    doing = "undoing this payment" if kind == PAYMENT else "deleting this bill"
    return Claim(live, mine=False, message=f"<@{live.actor}> is already {doing}; its outcome "
                                           "shows on the row. Nothing else was sent.")


def _live(session: Session, kind: str, binding: Binding, target_id: str) -> BillUndo:
    return session.exec(
        select(BillUndo).where(col(BillUndo.kind) == kind,
                               col(BillUndo.company_id) == binding.company_id,
                               col(BillUndo.connection_id) == binding.connection_id,
                               col(BillUndo.target_id) == target_id,
                               col(BillUndo.state) != "failed")
        .execution_options(populate_existing=True)).one()


def _held(undo_id: uuid.UUID, owner: str) -> tuple[Any, ...]:
    return (col(BillUndo.id) == undo_id, col(BillUndo.lease_owner) == owner,
            col(BillUndo.state).in_(OPEN_UNDO_STATES))


def mark_sent(session: Session, undo_id: uuid.UUID, *, owner: str, now: datetime) -> bool:
    """Committed before the delete leaves: from now on it may have reached Codat."""
    row = session.get(BillUndo, undo_id)
    return session.exec(update(BillUndo).where(*_held(undo_id, owner)).values(
        state="sent", sent_at=row.sent_at if row and row.sent_at else now)).rowcount == 1


def record_key(session: Session, undo_id: uuid.UUID, *, owner: str, key: str) -> None:
    session.exec(update(BillUndo).where(*_held(undo_id, owner)).values(push_operation_key=key))


def mark_unknown(session: Session, undo_id: uuid.UUID, *, owner: str, error: str) -> None:
    """Its outcome is not known yet: the lease is let go, so the next submit looks again."""
    session.exec(update(BillUndo).where(*_held(undo_id, owner)).values(
        state="unknown", last_error=error[:500], locked_until=None, lease_owner=None))


def finish_failed(session: Session, undo_id: uuid.UUID, *, owner: str, now: datetime,
                  reason: str) -> bool:
    """Nothing was deleted: the row says why, and a new request may be made."""
    undo = session.get(BillUndo, undo_id)
    done = session.exec(update(BillUndo).where(*_held(undo_id, owner)).values(
        state="failed", last_error=reason[:2000], finished_at=now, locked_until=None,
        lease_owner=None)).rowcount == 1
    if done and undo is not None:
        _audit(session, undo, FAILED_ACTIONS[undo.kind], now, error=reason)
    return done


def finish_succeeded(session: Session, undo_id: uuid.UUID, *, owner: str, now: datetime,
                     how: str) -> bool:
    """The delete is in the books: the intent stops counting as paid (its round's paid amount
    goes back down, so the round's approvals still match the bill), or the bill leaves the
    open-bills cache. Audited once, with the admin's reason."""
    undo = session.get(BillUndo, undo_id)
    if undo is None or session.exec(update(BillUndo).where(*_held(undo_id, owner)).values(
            state="succeeded", finished_at=now, locked_until=None,
            lease_owner=None)).rowcount != 1:
        return False
    detail: dict[str, Any] = {"how": how}
    if undo.kind == PAYMENT and undo.intent_id is not None:
        intent = session.get(PaymentIntent, undo.intent_id)
        undone = session.exec(update(PaymentIntent).where(
            col(PaymentIntent.id) == undo.intent_id, col(PaymentIntent.undone_at).is_(None))
            .values(undone_at=now)).rowcount == 1
        if intent is not None and undone:
            track = session.get(BillTrack, intent.bill_track_id)
            if track is not None and track.round == intent.round:
                paid = max(Decimal(0), track.paid_in_round - intent.amount)
                session.exec(update(BillTrack).where(col(BillTrack.id) == track.id)
                             .values(paid_in_round=paid, updated_at=now))
            detail.update(amount=format(intent.amount, "f"), currency=intent.currency,
                          payer_id=intent.payer_id)
    if undo.kind == BILL:
        session.exec(delete(CachedBill).where(
            col(CachedBill.company_id) == undo.company_id,
            col(CachedBill.connection_id) == undo.connection_id,
            col(CachedBill.bill_id) == undo.bill_id))
    _audit(session, undo, ACTIONS[undo.kind], now, **detail)
    return True


def _audit(session: Session, undo: BillUndo, action: str, at: datetime, **detail: Any) -> None:
    record_audit(session, at=at, actor=undo.actor, action=action, company_id=undo.company_id,
                 connection_id=undo.connection_id, bill_id=undo.bill_id,
                 bill_version=undo.bill_version, request_id=undo.request_id,
                 detail={"reason": undo.reason, "undo_id": str(undo.id),
                         "intent_id": str(undo.intent_id) if undo.intent_id else None,
                         "target_id": undo.target_id,
                         "push_operation_key": undo.push_operation_key, **detail})


def keys_in_hand(session: Session, *, since: datetime) -> set[str]:
    """Push operation keys billbot holds for writes sent from `since` (payments, deletes)."""
    intents = session.exec(select(PaymentIntent.push_operation_key).where(
        col(PaymentIntent.push_operation_key).is_not(None),
        col(PaymentIntent.first_sent_at) >= since)).all()
    undos = session.exec(select(BillUndo.push_operation_key).where(
        col(BillUndo.push_operation_key).is_not(None), col(BillUndo.sent_at) >= since)).all()
    return {k for k in [*intents, *undos] if k}


# --- what a row shows -------------------------------------------------------------------


@dataclass(frozen=True)
class RowUndo:
    """A row's Undo payment / Delete bill facts: which button, and the last request's line."""

    can_undo: bool = False
    can_delete: bool = False
    last: BillUndo | None = None


def row_facts(session: Session, binding: Binding, bills: list[Bill], *, now: datetime,
              window: timedelta) -> dict[str, RowUndo]:
    """For an async binding's rows (others never show the buttons): read in a few queries."""
    if binding.codat_api != "async" or not bills:
        return {}
    ids = list({b.id for b in bills})
    scope = (col(BillTrack.company_id) == binding.company_id,
             col(BillTrack.connection_id) == binding.connection_id,
             col(BillTrack.bill_id).in_(ids))
    intents: dict[str, list[PaymentIntent]] = {}
    for intent, bill_id in session.exec(
            select(PaymentIntent, BillTrack.bill_id).join(
                BillTrack, col(BillTrack.id) == col(PaymentIntent.bill_track_id)).where(*scope)):
        intents.setdefault(bill_id, []).append(intent)
    created = dict(session.exec(select(CreatedBill.bill_id, CreatedBill.created_at).where(
        col(CreatedBill.company_id) == binding.company_id,
        col(CreatedBill.connection_id) == binding.connection_id,
        col(CreatedBill.bill_id).in_(ids))).all())
    last: dict[str, BillUndo] = {}
    for row in session.exec(select(BillUndo).where(
            col(BillUndo.company_id) == binding.company_id,
            col(BillUndo.connection_id) == binding.connection_id,
            col(BillUndo.bill_id).in_(ids)).order_by(col(BillUndo.requested_at))):
        last[row.bill_id] = row
    facts: dict[str, RowUndo] = {}
    for bill in bills:
        mine = intents.get(bill.id, [])
        paid = [i for i in mine if i.state == "succeeded" and i.undone_at is None]
        latest = max(paid, key=lambda i: i.finished_at or i.created_at, default=None)
        can_undo = (latest is not None and latest.codat_api == "async"
                    and latest.remote_payment_id is not None
                    and undo_problem(latest, now=now, window=window) is None)
        deleted = bill.id in last and last[bill.id].kind == BILL \
            and last[bill.id].state != "failed"
        made = created.get(bill.id)
        can_delete = (not paid and not deleted
                      and not any(i.state in OPEN_INTENT_STATES for i in mine)
                      and bill.status in (BillStatus.OPEN, BillStatus.DRAFT)
                      and bill.amount_due == bill.total_amount
                      and (made is None or now - made <= window))
        facts[bill.id] = RowUndo(can_undo=can_undo, can_delete=can_delete,
                                 last=last.get(bill.id))
    return facts


__all__ = ["BILL", "PAYMENT", "Claim", "RowUndo", "claim", "delete_problem", "finish_failed",
           "finish_succeeded", "mark_sent", "mark_unknown", "not_admin", "record_key",
           "row_facts", "undo_problem", "undoable_intent"]
