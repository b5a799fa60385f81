"""Delegation (`/bills away`, `/bills back`, `/bills away list|end`): stored, ended and
audited here; the roles a delegate gains are read by `roles.roles_of(..., at=)`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from billbot.domain.delegation import away_problem, period_bounds
from billbot.domain.policy import PolicySettings, can_administer
from billbot.storage import delegations
from billbot.storage.audit import record_audit
from billbot.storage.away_tables import Delegation

from .roles import DELEGABLE, record_refusal, roles_of


@dataclass(frozen=True)
class Answer:
    ok: bool
    text: str


@dataclass(frozen=True)
class AwayView:
    absent_id: str
    delegate_id: str
    first_day: date
    last_day: date


def _view(row: Delegation) -> AwayView:
    return AwayView(row.absent_id, row.delegate_id, row.first_day, row.last_day)


def set_away(session: Session, policy: PolicySettings, *, absent_id: str, delegate_id: str,
             first_day: date, last_day: date, tz: ZoneInfo, today: date,
             request_id: str | None, at: datetime) -> Answer:
    """The absent person names their delegate for a period; it replaces their earlier ones."""
    problem = away_problem(absent_id, delegate_id, first_day, last_day, today=today)
    if problem is None and not roles_of(session, policy, absent_id) & DELEGABLE:
        problem = "You are neither an approver nor a payer, so there is nothing to delegate."
    if problem:
        return Answer(False, problem)
    replaced = [r.id for r in delegations.open_of(session, absent_id, at) if r.id is not None]
    delegations.end(session, replaced, actor=absent_id, at=at)
    starts_at, ends_at = period_bounds(first_day, last_day, tz)
    row = delegations.add(session, absent_id=absent_id, delegate_id=delegate_id,
                          first_day=first_day, last_day=last_day, starts_at=starts_at,
                          ends_at=ends_at, actor=absent_id, at=at)
    record_audit(session, at=at, actor=absent_id, action="delegation.set", request_id=request_id,
                 detail={"user_id": delegate_id, "first_day": first_day.isoformat(),
                         "last_day": last_day.isoformat(), "delegation_id": row.id,
                         "replaced": replaced})
    roles = sorted(r.value for r in roles_of(session, policy, absent_id) & DELEGABLE)
    return Answer(True, f"From {first_day.isoformat()} to {last_day.isoformat()} (both days "
                        f"included) <@{delegate_id}> acts for you as {' and '.join(roles)}; "
                        "reminders go to them. `/bills back` ends it early.")


def come_back(session: Session, *, user_id: str, request_id: str | None, at: datetime) -> Answer:
    ended = _end_all(session, absent_id=user_id, actor=user_id, request_id=request_id, at=at)
    if not ended:
        return Answer(False, "You have no delegation running or planned; nothing changed.")
    who = ", ".join(f"<@{v.delegate_id}>" for v in ended)
    return Answer(True, f"Welcome back: {who} no longer acts for you.")


def end_for(session: Session, policy: PolicySettings, *, absent_id: str, actor: str,
            request_id: str | None, at: datetime) -> Answer:
    """An admin ends someone's delegations (running and planned)."""
    decision = can_administer(roles_of(session, policy, actor))
    if not decision:
        record_refusal(session, actor=actor, action="away_end", request_id=request_id, at=at,
                       reason=decision.reason)
        return Answer(False, "Only billbot admins can end someone else's delegation.")
    ended = _end_all(session, absent_id=absent_id, actor=actor, request_id=request_id, at=at)
    if not ended:
        return Answer(False, f"<@{absent_id}> has no delegation running or planned.")
    who = ", ".join(f"<@{v.delegate_id}>" for v in ended)
    return Answer(True, f"Ended: {who} no longer acts for <@{absent_id}>.")


def list_open(session: Session, policy: PolicySettings, *, actor: str, request_id: str | None,
              at: datetime) -> Answer:
    """For admins: every delegation running now or planned."""
    decision = can_administer(roles_of(session, policy, actor))
    if not decision:
        record_refusal(session, actor=actor, action="away_list", request_id=request_id, at=at,
                       reason=decision.reason)
        return Answer(False, "Only billbot admins can list delegations.")
    rows = [_view(r) for r in delegations.all_open(session, at)]
    if not rows:
        return Answer(True, "Nobody is away: no delegation is running or planned.")
    lines = [f"• <@{v.absent_id}> → <@{v.delegate_id}>, {v.first_day.isoformat()} to "
             f"{v.last_day.isoformat()}" for v in rows]
    return Answer(True, "*Delegations running or planned*\n" + "\n".join(lines))


def _end_all(session: Session, *, absent_id: str, actor: str, request_id: str | None,
             at: datetime) -> list[AwayView]:
    rows = delegations.open_of(session, absent_id, at)
    ids = [r.id for r in rows if r.id is not None]
    if not ids or not delegations.end(session, ids, actor=actor, at=at):
        return []
    record_audit(session, at=at, actor=actor, action="delegation.ended", request_id=request_id,
                 detail={"user_id": absent_id, "delegation_ids": ids,
                         "delegates": [r.delegate_id for r in rows]})
    return [_view(r) for r in rows]


__all__ = ["Answer", "AwayView", "come_back", "end_for", "list_open", "set_away"]
