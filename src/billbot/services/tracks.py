"""The bill_track row: a bill's approval round and the version it was approved at.

Concurrency without row locks: every change to a track is a conditional UPDATE on the round
the caller read (`WHERE id = ? AND round = ? ...`) and a row count check. On PostgreSQL the
UPDATE also makes a concurrent writer of the same track wait until this transaction ends, so
what follows (counting approvals) sees the other's committed work; SQLite's BEGIN IMMEDIATE
serializes writers anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from billbot.domain.policy import PolicySettings
from billbot.domain.versions import BillVersion, approval_still_valid
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.tables import Approval, BillTrack, PaymentIntent
from billbot.storage.upsert import insert_if_absent

from .bill_status import BillApprovalState, Hold, PaymentView, Rejection
from .policy_state import evaluate, facts_of, groups_for

MAX_PAYMENTS_SHOWN = 20


def baseline_of(track: BillTrack) -> BillVersion:
    return BillVersion(
        total_amount=track.baseline_total,
        amount_due=track.baseline_amount_due,
        due_date=track.baseline_due_date,
        currency=track.baseline_currency,
        supplier_id=track.baseline_supplier_id,
        source_modified_date=track.baseline_source_modified,
    )


def _baseline_values(version: BillVersion) -> dict[str, Any]:
    return {
        "baseline_total": version.total_amount,
        "baseline_amount_due": version.amount_due,
        "baseline_due_date": version.due_date,
        "baseline_currency": version.currency,
        "baseline_supplier_id": version.supplier_id,
        "baseline_source_modified": version.source_modified_date,
    }


def load_track(session: Session, ref: BillRef) -> BillTrack | None:
    """The track as committed now (never a stale copy from this session's identity map)."""
    return session.exec(
        select(BillTrack)
        .where(BillTrack.company_id == ref.company_id,
               BillTrack.connection_id == ref.connection_id,
               BillTrack.bill_id == ref.bill_id)
        .execution_options(populate_existing=True)
    ).first()


def ensure_track(session: Session, ref: BillRef, current: BillVersion, at: datetime) -> BillTrack:
    """The bill's track, created at round 1 with `current` as baseline if it has none yet."""
    insert_if_absent(session, BillTrack, {
        "company_id": ref.company_id, "connection_id": ref.connection_id,
        "bill_id": ref.bill_id, "round": 1, "state": "pending",
        "paid_in_round": Decimal(0), "created_at": at, "updated_at": at,
        **_baseline_values(current),
    })
    track = load_track(session, ref)
    assert track is not None  # inserted above or by a concurrent writer
    return track


def needed_approvals(policy: PolicySettings, version: BillVersion) -> int:
    amount = version.amount_due if version.amount_due is not None else version.total_amount
    return policy.required_approvals(amount)


def is_current(track: BillTrack, current: BillVersion,
               open_payment: Decimal | None = None) -> bool:
    """The round's approvals still cover the bill.

    While a payment is in flight, Codat may already show it (amount due reduced) before
    billbot has recorded it, so that reading counts as current too.
    """
    baseline = baseline_of(track)
    if approval_still_valid(baseline, track.paid_in_round, current):
        return True
    return open_payment is not None and approval_still_valid(
        baseline, track.paid_in_round + open_payment, current)


def predates_own_payment(session: Session, track: BillTrack, current: BillVersion) -> bool:
    """`current` is the bill as it was before one of this round's recorded payments: a read
    from Codat that a concurrent payment through billbot has overtaken, not an edit."""
    paid = [intent.amount for intent in session.exec(
        select(PaymentIntent)
        .where(PaymentIntent.bill_track_id == track.id, PaymentIntent.round == track.round,
               PaymentIntent.state == "succeeded", col(PaymentIntent.undone_at).is_(None))
        .order_by(col(PaymentIntent.finished_at))
    ).all()]
    baseline = baseline_of(track)
    before = Decimal(0)
    for amount in paid:
        if approval_still_valid(baseline, before, current):
            return True
        before += amount
    return False


def round_decisions(session: Session, track: BillTrack) -> list[Approval]:
    return list(session.exec(
        select(Approval)
        .where(Approval.bill_track_id == track.id, Approval.round == track.round)
        .order_by(col(Approval.at), col(Approval.id))
    ).all())


def approvers_of(decisions: Iterable[Approval]) -> tuple[str, ...]:
    return tuple(d.user_id for d in decisions if d.decision == "approve")


def open_intent(session: Session, track: BillTrack) -> PaymentIntent | None:
    if track.open_intent_id is None:
        return None
    return session.get(PaymentIntent, track.open_intent_id)


def touch(session: Session, track: BillTrack, at: datetime) -> bool:
    """Claim the track for this transaction if it is still at the round read, idle."""
    result = session.exec(
        update(BillTrack)
        .where(col(BillTrack.id) == track.id, col(BillTrack.round) == track.round,
               col(BillTrack.open_intent_id).is_(None))
        .values(updated_at=at)
    )
    return bool(result.rowcount == 1)


def rebase(
    session: Session,
    track: BillTrack,
    current: BillVersion,
    *,
    ref: BillRef,
    actor: str,
    request_id: str | None,
    at: datetime,
) -> bool:
    """Close a round whose bill changed and open the next one against `current`. Audited."""
    previous = round_decisions(session, track)
    rejected = track.state == "rejected"
    result = session.exec(
        update(BillTrack)
        .where(col(BillTrack.id) == track.id, col(BillTrack.round) == track.round,
               col(BillTrack.open_intent_id).is_(None))
        # A rejection stands through a change in the books: only its author or an admin
        # lifts it. Approvals are of one version, so they lapse.
        .values(round=track.round + 1, state="rejected" if rejected else "pending",
                paid_in_round=Decimal(0), updated_at=at, **_baseline_values(current))
    )
    if result.rowcount != 1:
        return False
    record_audit(
        session, at=at, actor=actor, action="approval.lapsed", bill=ref,
        bill_version=current.to_json(), request_id=request_id,
        detail={
            "closed_round": track.round, "new_round": track.round + 1,
            "approvals_voided": list(approvers_of(previous)),
            "rejection_kept": track.rejected_by if rejected else None,
            "approved_version": baseline_of(track).to_json(),
            "paid_in_closed_round": format(track.paid_in_round, "f"),
        },
    )
    return True


def build_state(
    *,
    bill_id: str,
    track: BillTrack | None,
    current: BillVersion,
    decisions: Sequence[Approval],
    intents: Sequence[PaymentIntent],
    policy: PolicySettings,
    groups: Mapping[str, frozenset[str]] | None = None,
) -> BillApprovalState:
    # A payment an admin undid (deleted in Codat) is not a payment of the bill any more.
    kept = [i for i in intents if i.undone_at is None]
    payments = tuple(PaymentView.of(i) for i in kept[-MAX_PAYMENTS_SHOWN:])
    groups = groups or {}

    def chain_of(counted: Sequence[Approval], baseline: BillVersion | None) -> dict[str, Any]:
        match, chain = evaluate(policy, facts_of(current, baseline), counted, groups)
        return {"needed": chain.needed if match.rule is not None else 1, "match": match,
                "chain": chain, "policy_version": policy.version}

    if track is None:
        return BillApprovalState(bill_id=bill_id, round=0, approvers=(), rejected=None,
                                 paid_in_round=Decimal(0), payments=payments,
                                 **chain_of((), None))
    in_flight = next((p.amount for p in payments if p.in_progress), None)
    rejected = None
    if track.state == "rejected" and track.rejected_by and track.rejected_at:
        rejected = Rejection(track.rejected_by, track.reject_reason or "", track.rejected_at)
    held = hold_of(track)
    if not is_current(track, current, in_flight):
        return BillApprovalState(bill_id=bill_id, round=track.round, approvers=(),
                                 rejected=rejected, paid_in_round=Decimal(0), payments=payments,
                                 lapsed=True, held=held,
                                 **chain_of((), None))
    return BillApprovalState(
        bill_id=bill_id, round=track.round, approvers=approvers_of(decisions),
        acted_by=tuple(d.acted_by for d in decisions if d.decision == "approve" and d.acted_by),
        rejected=rejected, paid_in_round=track.paid_in_round, payments=payments, held=held,
        **chain_of(decisions, baseline_of(track)),
    )


def hold_of(track: BillTrack | None) -> Hold | None:
    """The hold standing on the bill, if any."""
    if track is None or not track.held_by or track.held_at is None:
        return None
    return Hold(track.held_by, track.hold_question or "", track.held_at)


def state_for_track(session: Session, *, ref: BillRef, track: BillTrack | None,
                    current: BillVersion, policy: PolicySettings) -> BillApprovalState:
    decisions = round_decisions(session, track) if track else []
    intents: list[PaymentIntent] = []
    if track is not None:
        intents = list(session.exec(
            select(PaymentIntent).where(PaymentIntent.bill_track_id == track.id)
            .order_by(col(PaymentIntent.created_at), col(PaymentIntent.id))
            .execution_options(populate_existing=True)
        ).all())
    return build_state(bill_id=ref.bill_id, track=track, current=current, decisions=decisions,
                       intents=intents, policy=policy, groups=groups_for(session, policy))
