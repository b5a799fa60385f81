"""Approve and reject a bill, and read its approval state (one bill or a whole digest).

Every decision is taken from the database and the FRESH Codat bill the caller just read:
- only approvers decide; every refusal is audited;
- a person's second approval is `already_done` and records nothing (unique key);
- two approvers clicking at once both count; with dual approval they must differ;
- if the bill changed since the round's decisions, the round is closed ("approval lapsed")
  and a new one opened against the new version before anything is recorded;
- a rejection needs a reason and starts a new round in state `rejected`, so approvals given
  before it no longer count; it stands (Approve is refused, naming who rejected and why) until
  the person who rejected withdraws it or an admin overrides it with a reason; either opens a
  new round, so approvals are given afresh.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from billbot.codat.models import Bill
from billbot.domain.policy import (
    Decision,
    PolicySettings,
    Role,
    allow,
    can_approve,
    can_lift_rejection,
    can_reject,
    deny,
)
from billbot.domain.policy_clicks import approval_click, step_words
from billbot.domain.versions import BillVersion
from billbot.storage import delegations
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.tables import Approval, BillTrack, PaymentIntent
from billbot.storage.upsert import insert_if_absent

from . import tracks
from .acting import acting_as, approval_principal, people_who_paid
from .bill_status import ApprovalResult, BillApprovalState, Outcome, Rejection, held_refusal
from .bindings import Binding
from .final_payment import approval_blocker
from .policy_state import evaluate, facts_of, groups_for, named_in_rule
from .roles import members, record_refusal, roles_of

logger = logging.getLogger("billbot.approvals")

# Conditional updates that lose to a concurrent writer are retried this many times.
_ATTEMPTS = 8

PAID_CANNOT_APPROVE = ("You paid this bill (or someone paid it for you), so someone else has "
                       "to approve it.")
WAITS_FOR_PAYMENT = ("A payment of this bill is in progress; approvals and rejections wait "
                       "until it has finished.")


def _ref(binding: Binding, bill: Bill) -> BillRef:
    return BillRef(binding.company_id, binding.connection_id, bill.id)


@dataclass(frozen=True)
class _Click:
    """Who decided what about which bill version, for results and refusals."""

    ref: BillRef
    current: BillVersion
    user_id: str
    action: str
    request_id: str | None
    at: datetime
    policy: PolicySettings

    def refuse(self, session: Session, reason: str) -> ApprovalResult:
        record_refusal(session, actor=self.user_id, action=self.action,
                       request_id=self.request_id, at=self.at, reason=reason,
                       company_id=self.ref.company_id, connection_id=self.ref.connection_id,
                       bill_id=self.ref.bill_id, bill_version=self.current.to_json())
        return self.result(session, Outcome.REFUSED, reason)

    def result(self, session: Session, outcome: Outcome, message: str) -> ApprovalResult:
        track = tracks.load_track(session, self.ref)
        state = tracks.state_for_track(session, ref=self.ref, track=track,
                                       current=self.current, policy=self.policy)
        return ApprovalResult(outcome, message, state)


def _current_track(session: Session, ref: BillRef, current: BillVersion, *, user_id: str,
                   request_id: str | None, at: datetime) -> BillTrack | None:
    """The track at a round whose baseline is `current` and which this transaction has
    claimed; None while a payment is in progress."""
    track = tracks.ensure_track(session, ref, current, at)
    for _ in range(_ATTEMPTS):
        if track.open_intent_id is not None:
            return None
        if not tracks.is_current(track, current):
            tracks.rebase(session, track, current, ref=ref, actor=user_id,
                          request_id=request_id, at=at)
        elif tracks.touch(session, track, at):
            return track
        reloaded = tracks.load_track(session, ref)
        assert reloaded is not None
        track = reloaded
    raise RuntimeError(f"bill {ref.bill_id}: could not settle its approval round")


def approve(
    session: Session,
    *,
    bill: Bill,
    binding: Binding,
    user_id: str,
    request_id: str | None,
    policy: PolicySettings,
    at: datetime,
) -> ApprovalResult:
    ref = _ref(binding, bill)
    current = BillVersion.of(bill)
    click = _Click(ref, current, user_id, "approve", request_id, at, policy)
    by_rules = policy.rules is not None
    acting = None if by_rules else acting_as(session, policy, user_id, Role.APPROVER, at)
    if acting is None and not by_rules:
        return click.refuse(session, can_approve(roles_of(session, policy, user_id)).reason)
    blocker = approval_blocker(session, ref, bill)  # nothing is approved after the final payment
    if blocker is not None:
        return click.refuse(session, blocker)
    track = _current_track(session, ref, current, user_id=user_id, request_id=request_id, at=at)
    if track is None:
        return click.refuse(session, WAITS_FOR_PAYMENT)
    # Read again now that this transaction holds the track: a hold committed meanwhile counts.
    held = tracks.hold_of(tracks.load_track(session, ref))
    if held is not None:
        return click.refuse(session, held_refusal(held, "approved"))
    if track.state == "rejected":
        return click.refuse(session, rejected_message(track, user_id))
    decisions = tracks.round_decisions(session, track)
    groups = groups_for(session, policy)
    facts = facts_of(current, tracks.baseline_of(track))
    if acting is not None:
        principal, already = approval_principal(acting, decisions)
        if principal is None:
            return click.result(session, Outcome.ALREADY_DONE, already)
    else:
        _, chain = evaluate(policy, facts, decisions, groups)
        answer = approval_click(chain, user_id, delegations.absentees_covered_by(
            session, user_id, at), sorted(members(session, policy, Role.ADMIN)))
        if answer.principal is None:
            if answer.already:
                return click.result(session, Outcome.ALREADY_DONE, answer.message)
            return click.refuse(session, answer.message)
        principal = answer.principal
    if policy.payer_cannot_approve and {user_id, principal} & people_who_paid(session, track):
        return click.refuse(session, PAID_CANNOT_APPROVE)
    acted_by = user_id if principal != user_id else None
    inserted = insert_if_absent(session, Approval, {
        "bill_track_id": track.id, "round": track.round, "user_id": principal,
        "decision": "approve", "reason": None, "bill_version": current.to_json(),
        "request_id": request_id, "at": at, "acted_by": acted_by,
    })
    if not inserted:
        return click.result(session, Outcome.ALREADY_DONE, "You have already approved this bill."
                            if acted_by is None else f"<@{principal}> has already approved it.")
    decisions = tracks.round_decisions(session, track)
    approvers = tracks.approvers_of(decisions)
    match, chain = evaluate(policy, facts, decisions, groups)
    needed = chain.needed
    session.exec(
        update(BillTrack).where(col(BillTrack.id) == track.id)
        .values(state="approved" if chain.met else "pending", rejected_by=None,
                reject_reason=None, rejected_at=None, updated_at=at)
    )
    step = next((s.number for s in chain.steps if principal in s.counted), None)
    record_audit(session, at=at, actor=user_id, action="approval.recorded", bill=ref,
                 bill_version=current.to_json(), request_id=request_id,
                 detail={"round": track.round, "approvals": list(approvers), "needed": needed,
                         "reference": bill.reference,
                         "rule": match.rule.name if match.rule else None, "step": step,
                         "policy_version": policy.version,
                         **({"on_behalf_of": principal} if acted_by else {})})
    if chain.met:
        message = "Approved."
    elif by_rules and chain.current is not None:
        message = f"Approval recorded; the bill now waits for {step_words(chain.current)}."
    else:
        message = f"Approval recorded: {len(approvers)} of {needed} needed."
    if acted_by:
        message += f" (on behalf of <@{principal}>)"
    return click.result(session, Outcome.RECORDED, message)


def reject(
    session: Session,
    *,
    bill: Bill,
    binding: Binding,
    user_id: str,
    reason: str | None,
    request_id: str | None,
    policy: PolicySettings,
    at: datetime,
) -> ApprovalResult:
    ref = _ref(binding, bill)
    current = BillVersion.of(bill)
    click = _Click(ref, current, user_id, "reject", request_id, at, policy)
    # A delegate rejects in their own name (they can withdraw it); the audit says for whom.
    acting = acting_as(session, policy, user_id, Role.APPROVER, at)
    decision = can_reject(roles_of(session, policy, user_id, at=at), reason)
    if decision and policy.rules is not None:
        decision = _named_in_rule(session, policy, bill, user_id, at)
    if not decision:
        return click.refuse(session, decision.reason)
    assert reason is not None
    reason = reason.strip()
    track = _current_track(session, ref, current, user_id=user_id, request_id=request_id, at=at)
    if track is None:
        return click.refuse(session, WAITS_FOR_PAYMENT)
    voided: tuple[str, ...] = ()
    if track.state != "rejected":
        # A rejection closes the round: approvals given before it stop counting.
        voided = tracks.approvers_of(tracks.round_decisions(session, track))
        session.exec(
            update(BillTrack).where(col(BillTrack.id) == track.id)
            .values(round=track.round + 1, state="rejected", rejected_by=user_id,
                    reject_reason=reason, rejected_at=at, updated_at=at)
        )
        track.round += 1
    inserted = insert_if_absent(session, Approval, {
        "bill_track_id": track.id, "round": track.round, "user_id": user_id,
        "decision": "reject", "reason": reason, "bill_version": current.to_json(),
        "request_id": request_id, "at": at,
    })
    if not inserted:
        return click.result(session, Outcome.ALREADY_DONE, "You have already rejected this bill.")
    record_audit(session, at=at, actor=user_id, action="rejection.recorded", bill=ref,
                 bill_version=current.to_json(), request_id=request_id,
                 detail={"round": track.round, "reason": reason,
                         "approvals_voided": list(voided), "reference": bill.reference,
                         **({"on_behalf_of": acting.on_behalf[0]}
                            if acting is not None and acting.on_behalf else {})})
    return click.result(session, Outcome.RECORDED, "Rejected.")


def _named_in_rule(session: Session, policy: PolicySettings, bill: Bill, user_id: str,
                   at: datetime) -> Decision:
    """Under rules, Reject is open to anyone the bill's rule names (or who covers them)."""
    groups = groups_for(session, policy)
    match, _ = evaluate(policy, facts_of(BillVersion.of(bill)), (), groups)
    named = named_in_rule(match, groups)
    if user_id in named or named & set(delegations.absentees_covered_by(session, user_id, at)):
        return allow()
    if match.rule is None:
        return deny("No rule of the approval policy applies to this bill, so nobody is named "
                    "to reject it; nothing was recorded.")
    return deny(f"Only the people rule “{match.rule.name}” names can reject this bill; nothing "
                "was recorded.")


def rejected_message(track: BillTrack, user_id: str) -> str:
    """What an Approve on a rejected bill is told: who rejected it, why, and what lifts it."""
    why = f"“{track.reject_reason or ''}”"
    if track.rejected_by == user_id:
        return (f"You rejected this bill ({why}). Press Withdraw rejection first if it may be "
                "approved after all; nothing was recorded.")
    return (f"<@{track.rejected_by}> rejected this bill: {why}. It can be approved once they "
            "withdraw the rejection or a billbot admin overrides it; nothing was recorded.")


def rejection_of(session: Session, *, binding: Binding, bill_id: str) -> Rejection | None:
    """The rejection that stands on a bill, from the database alone (no Codat read)."""
    track = tracks.load_track(session, BillRef(binding.company_id, binding.connection_id, bill_id))
    if track is None or track.state != "rejected" or not track.rejected_by:
        return None
    return Rejection(track.rejected_by, track.reject_reason or "", track.rejected_at or track.updated_at)


def lift_rejection(
    session: Session,
    *,
    bill: Bill,
    binding: Binding,
    user_id: str,
    reason: str | None,
    request_id: str | None,
    policy: PolicySettings,
    at: datetime,
) -> ApprovalResult:
    """Withdraw one's own rejection, or (an admin, with a reason) override someone else's.

    Either opens a new round in state `pending`: the bill is approved afresh."""
    ref = _ref(binding, bill)
    current = BillVersion.of(bill)
    click = _Click(ref, current, user_id, "withdraw_rejection", request_id, at, policy)
    track = _current_track(session, ref, current, user_id=user_id, request_id=request_id, at=at)
    if track is None:
        return click.refuse(session, WAITS_FOR_PAYMENT)
    if track.state != "rejected" or not track.rejected_by:
        return click.result(session, Outcome.ALREADY_DONE,
                            "This bill is not rejected any more; nothing changed.")
    decision = can_lift_rejection(user_id, roles_of(session, policy, user_id), track.rejected_by,
                                  reason)
    if not decision:
        return click.refuse(session, decision.reason)
    withdrawn = decision.reason == "withdraw"
    # Read before the update: the ORM update refreshes `track` in the session.
    lifted = {"round": track.round + 1, "rejected_by": track.rejected_by,
              "reject_reason": track.reject_reason,
              "reason": None if withdrawn else (reason or "").strip(), "reference": bill.reference}
    session.exec(
        update(BillTrack).where(col(BillTrack.id) == track.id)
        .values(round=track.round + 1, state="pending", rejected_by=None, reject_reason=None,
                rejected_at=None, updated_at=at)
    )
    record_audit(session, at=at, actor=user_id,
                 action="rejection.withdrawn" if withdrawn else "rejection.overridden", bill=ref,
                 bill_version=current.to_json(), request_id=request_id,
                 detail=lifted)
    return click.result(session, Outcome.RECORDED,
                        "Rejection withdrawn." if withdrawn else "Rejection overridden.")


def state_of(session: Session, *, bill: Bill, binding: Binding,
             policy: PolicySettings) -> BillApprovalState:
    ref = _ref(binding, bill)
    return tracks.state_for_track(session, ref=ref, track=tracks.load_track(session, ref),
                                  current=BillVersion.of(bill), policy=policy)


# Up to this many bills are looked up by id; beyond it the whole company's tracks are read
# (still three queries, whatever the number of bills).
_BY_ID_LIMIT = 500


def states_of(session: Session, *, bills: Sequence[Bill], binding: Binding,
              policy: PolicySettings) -> dict[str, BillApprovalState]:
    """The state of every bill of a digest, in three queries (tracks, decisions, payments)."""
    wanted = {b.id for b in bills}
    scope = (BillTrack.company_id == binding.company_id,
             BillTrack.connection_id == binding.connection_id)
    by_id = (col(BillTrack.bill_id).in_(wanted),) if len(wanted) <= _BY_ID_LIMIT else ()
    track_rows = session.exec(select(BillTrack).where(*scope, *by_id)).all()
    track_by_bill = {t.bill_id: t for t in track_rows if t.bill_id in wanted}

    decisions: dict[int, list[Approval]] = defaultdict(list)
    decision_rows = session.exec(
        select(Approval).join(BillTrack, col(Approval.bill_track_id) == col(BillTrack.id))
        .where(*scope, *by_id, col(Approval.round) == col(BillTrack.round))
        .order_by(col(Approval.at), col(Approval.id))
    ).all()
    for decision in decision_rows:
        decisions[decision.bill_track_id].append(decision)

    intents: dict[int, list[PaymentIntent]] = defaultdict(list)
    intent_rows = session.exec(
        select(PaymentIntent)
        .join(BillTrack, col(PaymentIntent.bill_track_id) == col(BillTrack.id))
        .where(*scope, *by_id)
        .order_by(col(PaymentIntent.created_at), col(PaymentIntent.id))
    ).all()
    for intent in intent_rows:
        intents[intent.bill_track_id].append(intent)

    states: dict[str, BillApprovalState] = {}
    groups = groups_for(session, policy)
    for bill in bills:
        track = track_by_bill.get(bill.id)
        key = track.id if track is not None and track.id is not None else -1
        states[bill.id] = tracks.build_state(
            bill_id=bill.id, track=track, current=BillVersion.of(bill),
            decisions=decisions.get(key, []), intents=intents.get(key, []), policy=policy,
            groups=groups)
    return states


__all__ = ["ApprovalResult", "BillApprovalState", "Outcome", "approve", "lift_rejection",
           "reject", "rejected_message", "rejection_of", "state_of", "states_of"]
