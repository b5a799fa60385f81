"""The payment intent's state transitions, each one short transaction, each one audited.

    created ──claim──▶ calling ──201──────────────▶ succeeded
       ▲                  │  ├──final 4xx─────────▶ failed
       └──not sent────────┤  └──outcome unknown──▶ unknown ──(same key again)──▶ calling
                          └──(recovery, replay window over: decided from amountDue)

`created` means the request has certainly never reached Codat (`first_sent_at` is NULL);
`calling` and `unknown` mean it may have. A worker holds an intent through a lease
(`lease_owner`, `locked_until`): every transition but the final ones is conditional on it.
Final transitions are conditional on the intent still being open, so whoever learns the
outcome first records it exactly once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, event, func, or_, update
from sqlmodel import Session, col, select

from billbot import metrics
from billbot.money import format_money, quantize
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.tables import OPEN_INTENT_STATES, BillTrack, PaymentIntent

from .payment_groups import is_batch

# Actor of the transitions billbot makes on its own (retries, recovery).
SYSTEM_ACTOR = "billbot"


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"


@dataclass(frozen=True)
class PaymentOutcome:
    """What to show: the payer's message, and where the bill's row is."""

    intent_id: uuid.UUID
    status: PaymentStatus
    message: str
    reason: str | None  # why it failed (Codat's reason where it gave one)
    bill: BillRef
    amount: Decimal
    currency: str
    payer_id: str
    account_name: str | None
    channel_id: str | None
    message_ts: str | None
    remote_payment_id: str | None
    view_id: str | None = None  # the payer's pay modal, if it was recorded
    currency_rate: Decimal | None = None  # a foreign-currency payment's rate
    base_currency: str | None = None
    team_id: str = ""  # the workspace it was made in (OAuth mode); '' in single-workspace mode


@dataclass(frozen=True)
class Lease:
    """An intent as its current holder saw it, and the token that proves the holding."""

    intent: PaymentIntent
    bill: BillRef
    token: str

    @property
    def maybe_sent(self) -> bool:
        return self.intent.first_sent_at is not None

    def with_intent(self, **changes: Any) -> Lease:
        copy = self.intent.model_copy(update=changes)
        return replace(self, intent=copy)


def _bill_of(session: Session, intent: PaymentIntent) -> BillRef:
    track = session.get(BillTrack, intent.bill_track_id)
    assert track is not None  # foreign key
    return BillRef(track.company_id, track.connection_id, track.bill_id)


def _fresh(session: Session, intent_id: uuid.UUID) -> PaymentIntent | None:
    return session.exec(
        select(PaymentIntent).where(PaymentIntent.id == intent_id)
        .execution_options(populate_existing=True)
    ).first()


def outcome_of(session: Session, intent_id: uuid.UUID) -> PaymentOutcome:
    intent = _fresh(session, intent_id)
    if intent is None:
        raise LookupError(f"no payment intent {intent_id}")
    return _outcome(intent, _bill_of(session, intent))


def _outcome(intent: PaymentIntent, bill: BillRef) -> PaymentOutcome:
    money = format_money(intent.amount, intent.currency)
    if intent.state == "succeeded":
        status, message = PaymentStatus.SUCCEEDED, f"Paid {money}; the payment is in Codat."
    elif intent.state == "failed":
        status = PaymentStatus.FAILED
        message = f"The payment of {money} was not made: {intent.last_error}"
    elif intent.codat_api == "async":
        status = PaymentStatus.PENDING
        message = (f"Recording… the payment of {money} is with Codat and waits for the books to "
                   "confirm it. billbot keeps checking and updates this bill's row; do not pay "
                   "it another way meanwhile.")
    else:
        status = PaymentStatus.PENDING
        message = (f"The payment of {money} is not confirmed yet. billbot keeps checking and "
                   "updates this bill's row; do not pay it another way meanwhile.")
    return PaymentOutcome(
        intent_id=intent.id, status=status, message=message,
        reason=intent.last_error if intent.state == "failed" else None, bill=bill,
        amount=intent.amount, currency=intent.currency, payer_id=intent.payer_id,
        account_name=intent.account_name, channel_id=intent.channel_id,
        message_ts=intent.message_ts, remote_payment_id=intent.remote_payment_id,
        view_id=intent.view_id, currency_rate=intent.rate, base_currency=intent.base_currency,
        team_id=intent.team_id,
    )


def _sendable() -> Any:
    """Not a group's member: a member is never leased, so never sent on its own (its bill
    is paid by the lead's one payment and finishes with the lead)."""
    return or_(col(PaymentIntent.group_id).is_(None),
               col(PaymentIntent.group_id) == col(PaymentIntent.id))


def claim(session: Session, intent_id: uuid.UUID, *, now: datetime,
          lease_for: timedelta) -> Lease | None:
    """Take the intent if it is open and nobody holds a live lease on it."""
    token = str(uuid.uuid4())
    result = session.exec(
        update(PaymentIntent)
        .where(col(PaymentIntent.id) == intent_id, _sendable(),
               col(PaymentIntent.state).in_(OPEN_INTENT_STATES),
               or_(col(PaymentIntent.locked_until).is_(None),
                   col(PaymentIntent.locked_until) <= now))
        .values(lease_owner=token, locked_until=now + lease_for)
    )
    if result.rowcount != 1:
        return None
    intent = _fresh(session, intent_id)
    assert intent is not None
    return Lease(intent, _bill_of(session, intent), token)


def expired_leases(session: Session, *, now: datetime, limit: int,
                   unclaimed_grace: timedelta = timedelta(0)) -> list[uuid.UUID]:
    """Open intents nobody is working on: the holder's lease ran out, or nobody claimed it
    within `unclaimed_grace` of its creation (the process that created it claims it next, so
    a younger unclaimed intent is left to it rather than taken over mid-click)."""
    return list(session.exec(
        select(PaymentIntent.id)
        .where(col(PaymentIntent.state).in_(OPEN_INTENT_STATES), _sendable(),
               or_(and_(col(PaymentIntent.locked_until).is_(None),
                        col(PaymentIntent.created_at) <= now - unclaimed_grace),
                   col(PaymentIntent.locked_until) <= now))
        .order_by(col(PaymentIntent.created_at))
        .limit(limit)
    ).all())


def unshown_outcomes(session: Session, *, finished_before: datetime,
                     limit: int) -> list[PaymentOutcome]:
    """Final outcomes Slack was never shown (the process died first), oldest first.

    Only those finished before `finished_before`: a live worker shows its own outcome right
    after finishing, and recovery should not race it.
    """
    rows = session.exec(
        select(PaymentIntent)
        .where(col(PaymentIntent.state).in_(("succeeded", "failed")),
               col(PaymentIntent.outcome_shown_at).is_(None),
               col(PaymentIntent.finished_at) <= finished_before)
        .order_by(col(PaymentIntent.finished_at))
        .limit(limit)
    ).all()
    return [_outcome(intent, _bill_of(session, intent)) for intent in rows]


def mark_shown(session: Session, intent_id: uuid.UUID, *, now: datetime) -> None:
    """The outcome reached Slack (set after showing: at least once, never lost)."""
    session.exec(update(PaymentIntent)
                 .where(col(PaymentIntent.id) == intent_id,
                        col(PaymentIntent.state).in_(("succeeded", "failed")),
                        col(PaymentIntent.outcome_shown_at).is_(None))
                 .values(outcome_shown_at=now))


def _held(lease: Lease) -> tuple[Any, ...]:
    return (col(PaymentIntent.id) == lease.intent.id,
            col(PaymentIntent.lease_owner) == lease.token,
            col(PaymentIntent.state).in_(OPEN_INTENT_STATES))


def _audit(session: Session, lease: Lease, action: str, at: datetime,
           **detail: Any) -> None:
    intent = lease.intent
    record_audit(session, at=at, actor=SYSTEM_ACTOR, action=action, bill=lease.bill,
                 bill_version=intent.bill_version, request_id=intent.request_id,
                 detail={"intent_id": str(intent.id), "payer_id": intent.payer_id,
                         "amount": format(intent.amount, "f"), "currency": intent.currency,
                         "attempts": intent.attempts, **detail})


def mark_calling(session: Session, lease: Lease, *, now: datetime, lease_for: timedelta,
                 recovery: bool) -> Lease | None:
    """About to send: from here on the request may reach Codat. None if the lease was lost."""
    first_sent_at = lease.intent.first_sent_at or now
    attempts = lease.intent.attempts + 1
    result = session.exec(
        update(PaymentIntent).where(*_held(lease))
        .values(state="calling", attempts=attempts, first_sent_at=first_sent_at,
                locked_until=now + lease_for)
    )
    if result.rowcount != 1:
        return None
    held = lease.with_intent(state="calling", attempts=attempts, first_sent_at=first_sent_at)
    # `resumed`: the previous attempt's holder vanished mid-call (its outcome never recorded).
    _audit(session, held, "payment.calling", now, recovery=recovery,
           resumed=lease.intent.state == "calling", idempotency_key=held.intent.idempotency_key)
    return held


def mark_unknown(session: Session, lease: Lease, *, now: datetime, error: str) -> Lease:
    """The request may have been acted on: stay open, same key next time."""
    result = session.exec(update(PaymentIntent).where(*_held(lease))
                          .values(state="unknown", last_error=error))
    held = lease.with_intent(state="unknown", last_error=error)
    if result.rowcount == 1:  # else the lease was lost: the next step notices
        _audit(session, held, "payment.unknown", now, error=error)
        _count_once_committed(session, "unknown")
    return held


def mark_not_sent(session: Session, lease: Lease, *, now: datetime, error: str,
                  sent_before: bool) -> Lease:
    """The request never left. Back to `created` (never reached Codat) unless an earlier
    attempt (`sent_before`) may have landed, in which case it stays `unknown`."""
    values: dict[str, Any] = (
        {"state": "unknown", "last_error": error} if sent_before
        else {"state": "created", "first_sent_at": None, "last_error": error}
    )
    result = session.exec(update(PaymentIntent).where(*_held(lease)).values(**values))
    held = lease.with_intent(**values)
    if result.rowcount == 1:
        _audit(session, held, "payment.not_sent", now, error=error, state=values["state"])
    return held


def release(session: Session, lease: Lease, *, retry_at: datetime) -> None:
    """Let go; recovery may pick the intent up again from `retry_at`."""
    session.exec(update(PaymentIntent).where(*_held(lease))
                 .values(lease_owner=None, locked_until=retry_at))


def finish_succeeded(session: Session, lease: Lease, *, now: datetime,
                     remote_payment_id: str | None, how: str) -> PaymentOutcome:
    """Record the payment once; it counts towards the round's paid amount."""
    intent = lease.intent
    result = session.exec(
        update(PaymentIntent)
        .where(col(PaymentIntent.id) == intent.id,
               col(PaymentIntent.state).in_(OPEN_INTENT_STATES))
        .values(state="succeeded", remote_payment_id=remote_payment_id, finished_at=now,
                locked_until=None, lease_owner=None)
    )
    if result.rowcount == 1:
        paid = _book(session, intent, now)
        group = _finish_members(session, lease, now, state="succeeded",
                                remote_payment_id=remote_payment_id, how=how)
        credit = {} if intent.credit_amount is None else {
            "credit_amount": _money(intent.credit_amount, intent.currency),
            "credit_note_number": intent.credit_note_number}  # the thread's entry says so
        _audit(session, lease, "payment.succeeded", now, remote_payment_id=remote_payment_id,
               how=how, paid_in_round=format(paid, "f"), **credit, **group)
        if intent.credit_note_id is not None and intent.credit_amount is not None:
            record_audit(session, at=now, actor=intent.payer_id, action="credit_note.allocated",
                         bill=lease.bill, bill_version=intent.bill_version,
                         request_id=intent.request_id, detail={
                             "intent_id": str(intent.id), "credit_note_id": intent.credit_note_id,
                             "credit_note_number": intent.credit_note_number,
                             "credit_amount": _money(intent.credit_amount, intent.currency),
                             "cash_amount": _money(intent.cash_amount, intent.currency),
                             "account_id": intent.account_id, "currency": intent.currency,
                             "remote_payment_id": remote_payment_id})
        _count_once_committed(session, "succeeded")
    return outcome_of(session, intent.id)


def finish_failed(session: Session, lease: Lease, *, now: datetime, reason: str,
                  **detail: Any) -> PaymentOutcome:
    """Close the intent as not paid and free the bill for a new attempt (with a new key).

    Only while holding the lease: a worker that lost it must not fail an intent another
    worker may be sending right now.
    """
    intent = lease.intent
    result = session.exec(
        update(PaymentIntent)
        .where(*_held(lease))
        .values(state="failed", last_error=reason, finished_at=now, locked_until=None,
                lease_owner=None)
    )
    if result.rowcount == 1:
        session.exec(
            update(BillTrack)
            .where(col(BillTrack.id) == intent.bill_track_id,
                   col(BillTrack.open_intent_id) == intent.id)
            .values(open_intent_id=None, updated_at=now)
        )
        group = _finish_members(session, lease, now, state="failed", reason=reason)
        _audit(session, lease, "payment.failed", now, reason=reason, **detail, **group)
        _count_once_committed(session, "failed")
    return outcome_of(session, intent.id)


def _book(session: Session, intent: PaymentIntent, now: datetime) -> Decimal:
    """The bill's track: the payment counts towards the round, the bill is free again."""
    track = session.exec(select(BillTrack).where(BillTrack.id == intent.bill_track_id)
                         .execution_options(populate_existing=True)).one()
    paid = track.paid_in_round + (intent.amount if track.round == intent.round else 0)
    session.exec(update(BillTrack).where(col(BillTrack.id) == track.id,
                                         col(BillTrack.open_intent_id) == intent.id)
                 .values(paid_in_round=paid, open_intent_id=None, updated_at=now))
    return paid


def _finish_members(session: Session, lead: Lease, now: datetime, *, state: str,
                    remote_payment_id: str | None = None, how: str | None = None,
                    reason: str | None = None) -> dict[str, Any]:
    """A group's lead just finished: every open member finishes the same way, in the same
    transaction (one payment paid them all, or none). The audit detail naming the group."""
    if lead.intent.group_id != lead.intent.id:
        return {}
    members = list(session.exec(select(PaymentIntent).where(
        col(PaymentIntent.group_id) == lead.intent.id, col(PaymentIntent.id) != lead.intent.id)
        .execution_options(populate_existing=True)).all())
    batch = is_batch([lead.intent, *members])  # several suppliers: a batch payment
    group = {"group_id": str(lead.intent.id), "group_bills": len(members) + 1,
             "group_reference": lead.intent.payment_reference, "batch": batch}
    with_others = ("one batch payment with other suppliers' bills" if batch
                   else "one payment with its supplier's other bills")
    for member in members:
        done = session.exec(update(PaymentIntent).where(
            col(PaymentIntent.id) == member.id, col(PaymentIntent.state).in_(OPEN_INTENT_STATES))
            .values(state=state, remote_payment_id=remote_payment_id, finished_at=now,
                    last_error=reason, locked_until=None, lease_owner=None))
        if done.rowcount != 1:
            continue
        held = Lease(member, _bill_of(session, member), "")
        if state == "succeeded":
            paid = _book(session, member, now)
            _audit(session, held, "payment.succeeded", now, remote_payment_id=remote_payment_id,
                   how=f"{how} ({with_others})",
                   paid_in_round=format(paid, "f"), **group)
        else:
            session.exec(update(BillTrack).where(col(BillTrack.id) == member.bill_track_id,
                                                 col(BillTrack.open_intent_id) == member.id)
                         .values(open_intent_id=None, updated_at=now))
            _audit(session, held, "payment.failed", now, reason=reason, **group)
        _count_once_committed(session, state)
    return group


def _money(amount: Decimal, currency: str) -> str:
    return format(quantize(amount, currency), "f")


def open_count(session: Session) -> int:
    """Intents not finished (for /metrics)."""
    return int(session.exec(select(func.count()).select_from(PaymentIntent)
                            .where(col(PaymentIntent.state).in_(OPEN_INTENT_STATES))).one())


def _count_once_committed(session: Session, outcome: str) -> None:
    """billbot_payments_total moves with the transaction that records the outcome, never
    for one that rolls back."""
    event.listen(session, "after_commit", lambda _s: metrics.payment(outcome), once=True)
