"""Hold a bill with a question, and release it.

A hold lives on the bill's track (`bill_track.held_by`), so the rules are conditional
updates of that one row:
- approvers and admins hold; the author or an admin releases; every refusal is audited;
- one hold per bill at a time: the hold is set only `WHERE held_by IS NULL`;
- a bill whose payment is in progress is not held (`WHERE open_intent_id IS NULL`): the
  payment was decided before the question, and its outcome is shown on the row;
- while it is held, `approvals.approve` and `payments.start_payment` refuse (their claim of the
  track checks it again), so bulk approval and pay runs built on them refuse it too;
- a hold survives changes in the books and new approval rounds: only a release lifts it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings, Role
from billbot.domain.versions import BillVersion
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.tables import BillTrack

from . import tracks
from .bill_status import ApprovalResult, Outcome
from .bindings import Binding
from .roles import record_refusal, roles_of

# A question is one message's worth: long enough to ask, short enough to show on a row.
QUESTION_MIN_CHARS = 5
QUESTION_MAX_CHARS = 500

NOT_ALLOWED = "Only approvers and billbot admins can put a bill on hold, so nothing was recorded."
PAYING = ("A payment of this bill is in progress, so it cannot be put on hold; its outcome "
          "will show on the row.")


def question_problem(question: str | None) -> str | None:
    """Why a typed question cannot be the hold's question, or None."""
    text = (question or "").strip()
    if len(text) < QUESTION_MIN_CHARS:
        return f"Ask the question (at least {QUESTION_MIN_CHARS} characters)."
    if len(text) > QUESTION_MAX_CHARS:
        return f"Keep the question to {QUESTION_MAX_CHARS} characters."
    return None


def may_hold(user_roles: frozenset[Role]) -> bool:
    return Role.APPROVER in user_roles or Role.ADMIN in user_roles


def _result(session: Session, ref: BillRef, bill: Bill, policy: PolicySettings,
            outcome: Outcome, message: str) -> ApprovalResult:
    state = tracks.state_for_track(session, ref=ref, track=tracks.load_track(session, ref),
                                   current=BillVersion.of(bill), policy=policy)
    return ApprovalResult(outcome, message, state)


def _refuse(session: Session, ref: BillRef, bill: Bill, policy: PolicySettings, *, user_id: str,
            action: str, request_id: str | None, at: datetime, reason: str) -> ApprovalResult:
    record_refusal(session, actor=user_id, action=action, request_id=request_id, at=at,
                   reason=reason, company_id=ref.company_id, connection_id=ref.connection_id,
                   bill_id=ref.bill_id, bill_version=BillVersion.of(bill).to_json())
    return _result(session, ref, bill, policy, Outcome.REFUSED, reason)


def hold(session: Session, *, bill: Bill, binding: Binding, user_id: str, question: str,
         request_id: str | None, policy: PolicySettings, at: datetime) -> ApprovalResult:
    ref = BillRef(binding.company_id, binding.connection_id, bill.id)

    def refuse(reason: str) -> ApprovalResult:
        return _refuse(session, ref, bill, policy, user_id=user_id, action="hold",
                       request_id=request_id, at=at, reason=reason)

    if not may_hold(roles_of(session, policy, user_id)):
        return refuse(NOT_ALLOWED)
    problem = question_problem(question)
    if problem:
        return refuse(problem)
    if not bill.status.payable:
        return refuse(f"The bill is {bill.status.value}; there is nothing left to hold.")
    question = question.strip()
    track = tracks.ensure_track(session, ref, BillVersion.of(bill), at)
    placed = session.exec(
        update(BillTrack)
        .where(col(BillTrack.id) == track.id, col(BillTrack.held_by).is_(None),
               col(BillTrack.open_intent_id).is_(None))
        .values(held_by=user_id, hold_question=question, held_at=at, updated_at=at)
    )
    if placed.rowcount != 1:
        now = tracks.load_track(session, ref)
        standing = tracks.hold_of(now)
        if standing is not None:
            mine = "You have" if standing.by == user_id else f"<@{standing.by}> has"
            return _result(session, ref, bill, policy, Outcome.ALREADY_DONE,
                           f"{mine} already put this bill on hold: “{standing.question}”.")
        return refuse(PAYING)
    record_audit(session, at=at, actor=user_id, action="hold.placed", bill=ref,
                 bill_version=BillVersion.of(bill).to_json(), request_id=request_id,
                 detail={"question": question, "reference": bill.reference})
    return _result(session, ref, bill, policy, Outcome.RECORDED, "Put on hold.")


def release(session: Session, *, bill: Bill, binding: Binding, user_id: str,
            request_id: str | None, policy: PolicySettings, at: datetime) -> ApprovalResult:
    """Lift the hold: its author, or an admin (audited as such)."""
    ref = BillRef(binding.company_id, binding.connection_id, bill.id)
    track = tracks.load_track(session, ref)
    standing = tracks.hold_of(track)
    if track is None or standing is None:
        return _result(session, ref, bill, policy, Outcome.ALREADY_DONE,
                       "This bill is not on hold any more; nothing changed.")
    is_admin = Role.ADMIN in roles_of(session, policy, user_id)
    if standing.by != user_id and not is_admin:
        return _refuse(session, ref, bill, policy, user_id=user_id, action="release",
                       request_id=request_id, at=at,
                       reason=f"Only <@{standing.by}>, who put it on hold, or a billbot admin "
                              "can release this bill; nothing changed.")
    lifted = session.exec(
        update(BillTrack)
        .where(col(BillTrack.id) == track.id, col(BillTrack.held_by) == standing.by,
               col(BillTrack.held_at) == standing.at)
        .values(held_by=None, hold_question=None, held_at=None, updated_at=at)
    )
    if lifted.rowcount != 1:
        return _result(session, ref, bill, policy, Outcome.ALREADY_DONE,
                       "This bill is not on hold any more; nothing changed.")
    record_audit(session, at=at, actor=user_id, action="hold.released", bill=ref,
                 bill_version=BillVersion.of(bill).to_json(), request_id=request_id,
                 detail={"held_by": standing.by, "question": standing.question,
                         "by_admin": standing.by != user_id, "reference": bill.reference})
    return _result(session, ref, bill, policy, Outcome.RECORDED, "Released.")


def hold_standing(session: Session, *, binding: Binding, bill_id: str) -> tuple[str, str] | None:
    """(author, question) of the hold on a bill, from the database alone (no Codat read)."""
    standing = tracks.hold_of(tracks.load_track(
        session, BillRef(binding.company_id, binding.connection_id, bill_id)))
    return None if standing is None else (standing.by, standing.question)


__all__ = ["NOT_ALLOWED", "PAYING", "QUESTION_MAX_CHARS", "QUESTION_MIN_CHARS", "hold",
           "hold_standing", "may_hold", "question_problem", "release"]
