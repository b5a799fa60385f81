"""The async API's steps of a payment intent (beside `intents.py`'s): the push operation's
key committed the moment Codat names it, and the keys other intents hold (never ours)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from billbot.storage.tables import BillTrack, PaymentIntent

from .intents import Lease, _audit, _held


def record_push_key(session: Session, lease: Lease, *, key: str, now: datetime,
                    how: str) -> Lease:
    """Commit the push operation's key (once: a key already recorded is kept)."""
    if lease.intent.push_operation_key == key:
        return lease
    result = session.exec(
        update(PaymentIntent)
        .where(*_held(lease), col(PaymentIntent.push_operation_key).is_(None))
        .values(push_operation_key=key)
    )
    held = lease.with_intent(push_operation_key=key)
    if result.rowcount == 1:
        _audit(session, held, "payment.pushed", now, push_operation_key=key, how=how,
               payment_reference=held.intent.payment_reference)
    return held


def keys_of_others(session: Session, lease: Lease, *, since: datetime,
                   skew: timedelta) -> set[str]:
    """Push operation keys other intents hold, sent around or after `since`."""
    rows = session.exec(
        select(PaymentIntent.push_operation_key)
        .where(col(PaymentIntent.id) != lease.intent.id,
               col(PaymentIntent.push_operation_key).is_not(None),
               col(PaymentIntent.first_sent_at) >= since - skew)
    ).all()
    return {key for key in rows if key}


def members_of(session: Session, lease: Lease) -> list[tuple[str, PaymentIntent]]:
    """A group lead's other bills (bill id, intent), each a line of the lead's one payment;
    empty for an intent paying one bill. Ordered, so every send has the same body."""
    if lease.intent.group_id != lease.intent.id:
        return []
    rows = session.exec(
        select(BillTrack.bill_id, PaymentIntent)
        .join(BillTrack, col(BillTrack.id) == col(PaymentIntent.bill_track_id))
        .where(col(PaymentIntent.group_id) == lease.intent.id,
               col(PaymentIntent.id) != lease.intent.id)
        .order_by(col(PaymentIntent.created_at), col(BillTrack.bill_id))
    ).all()
    return [(bill_id, intent) for bill_id, intent in rows]


__all__ = ["keys_of_others", "members_of", "record_push_key"]
