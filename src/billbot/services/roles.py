"""Effective roles: the environment lists with admins' overrides (role_grant) on top. Grants
belong to the workspace they were made in (billbot.tenancy): in OAuth mode, where no role
variables apply, a workspace's roles are its grants alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from billbot import tenancy
from billbot.domain.policy import (
    Decision,
    PolicySettings,
    Role,
    allow,
    apply_grants,
    can_administer,
)
from billbot.storage import delegations
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.tables import RoleGrant
from billbot.storage.upsert import insert_if_absent

from .policy_state import groups_for
from .tracks import baseline_of, load_track


@dataclass(frozen=True)
class GrantView:
    user_id: str
    role: Role
    present: bool
    changed_by: str
    changed_at: datetime


def grants_of(session: Session, user_id: str) -> dict[Role, bool]:
    rows = session.exec(select(RoleGrant).where(RoleGrant.user_id == user_id,
                                                RoleGrant.team_id == tenancy.team_key())).all()
    return {Role(row.role): row.present for row in rows}


# The roles a delegate may use for an absent person; administering is never handed over.
DELEGABLE = frozenset({Role.APPROVER, Role.PAYER})


def roles_of(session: Session, policy: PolicySettings, user_id: str, *,
             at: datetime | None = None) -> frozenset[Role]:
    """What the user may do now: env ∪ granted − revoked; given `at`, plus the approver and
    payer roles of the people they cover then (`/bills away`)."""
    own = apply_grants(policy.env_roles(user_id), grants_of(session, user_id))
    if policy.rules is not None and Role.APPROVER not in own and any(
            user_id in people for people in groups_for(session, policy).values()):
        own |= {Role.APPROVER}  # a member of a user group the rules name
    if at is None:
        return own
    covered: set[Role] = set()
    for absent in delegations.absentees_covered_by(session, user_id, at):
        covered |= roles_of(session, policy, absent) & DELEGABLE
    return own | covered


def acting_for(session: Session, policy: PolicySettings, user_id: str, role: Role,
               at: datetime) -> list[str]:
    """The absent people whose `role` `user_id` may use at `at` (none when it is their own)."""
    if role not in DELEGABLE or role in roles_of(session, policy, user_id):
        return []
    return [absent for absent in delegations.absentees_covered_by(session, user_id, at)
            if role in roles_of(session, policy, absent)]


def members(session: Session, policy: PolicySettings, role: Role) -> frozenset[str]:
    """Everyone who holds `role` now."""
    people = set(policy.env_members(role))
    rows = session.exec(select(RoleGrant).where(RoleGrant.role == role.value,
                                                RoleGrant.team_id == tenancy.team_key())).all()
    for row in rows:
        if row.present:
            people.add(row.user_id)
        else:
            people.discard(row.user_id)
    return frozenset(people)


def list_grants(session: Session) -> list[GrantView]:
    rows = session.exec(select(RoleGrant).where(RoleGrant.team_id == tenancy.team_key())
                        .order_by(col(RoleGrant.user_id), col(RoleGrant.role))).all()
    return [GrantView(r.user_id, Role(r.role), r.present, r.changed_by, r.changed_at)
            for r in rows]


def set_role(
    session: Session,
    policy: PolicySettings,
    *,
    user_id: str,
    role: Role,
    present: bool,
    actor: str,
    request_id: str | None,
    at: datetime,
) -> Decision:
    """An admin grants (present=True) or revokes (False) a role; audited either way."""
    decision = can_administer(roles_of(session, policy, actor))
    if not decision:
        record_refusal(session, actor=actor, action="set_role", request_id=request_id, at=at,
                       reason=decision.reason)
        return decision
    before = role in roles_of(session, policy, user_id)
    values = {"user_id": user_id, "role": role.value, "present": present,
              "changed_by": actor, "changed_at": at}
    if not insert_if_absent(session, RoleGrant, values):
        session.exec(
            update(RoleGrant)
            .where(col(RoleGrant.user_id) == user_id, col(RoleGrant.role) == role.value,
                   col(RoleGrant.team_id) == tenancy.team_key())
            .values(present=present, changed_by=actor, changed_at=at)
        )
    record_audit(
        session, at=at, actor=actor, action="role.granted" if present else "role.revoked",
        request_id=request_id,
        detail={"user_id": user_id, "role": role.value, "had_role_before": before},
    )
    return allow()


def grant_installer(session: Session, *, user_id: str, at: datetime) -> bool:
    """OAuth mode: the person who installed billbot becomes the workspace's (the acting
    workspace's) first admin. A workspace that has an admin already keeps its admins as they
    are: re-installing grants nobody anything. True when granted; audited."""
    if members(session, PolicySettings(), Role.ADMIN):
        return False
    values = {"user_id": user_id, "role": Role.ADMIN.value, "present": True,
              "changed_by": user_id, "changed_at": at}
    if not insert_if_absent(session, RoleGrant, values):
        session.exec(
            update(RoleGrant)
            .where(col(RoleGrant.user_id) == user_id, col(RoleGrant.role) == Role.ADMIN.value,
                   col(RoleGrant.team_id) == tenancy.team_key())
            .values(present=True, changed_by=user_id, changed_at=at))
    record_audit(session, at=at, actor=user_id, action="role.granted", request_id=None,
                 detail={"user_id": user_id, "role": Role.ADMIN.value, "had_role_before": False,
                         "reason": "installed billbot"})
    return True


def record_refusal(
    session: Session,
    *,
    actor: str,
    action: str,
    request_id: str | None,
    at: datetime,
    reason: str | None = None,
    company_id: str | None = None,
    connection_id: str | None = None,
    bill_id: str | None = None,
    bill_version: Mapping[str, Any] | None = None,
) -> None:
    """Audit an authorization refusal (the click changed nothing else).

    Without the version the caller read, the entry carries the last version billbot recorded
    for the bill (none when nobody has acted on it yet): a refusal is decided before Codat
    is asked, so an outsider's click costs no Codat call.
    """
    detail: dict[str, str] = {"attempted": action}
    if reason:
        detail["reason"] = reason
    if bill_version is None and company_id and connection_id and bill_id:
        track = load_track(session, BillRef(company_id, connection_id, bill_id))
        bill_version = baseline_of(track).to_json() if track is not None else None
    record_audit(session, at=at, actor=actor, action="access.refused", company_id=company_id,
                 connection_id=connection_id, bill_id=bill_id, bill_version=bill_version,
                 request_id=request_id, detail=detail)


__all__ = ["DELEGABLE", "GrantView", "acting_for", "grant_installer", "grants_of", "list_grants",
           "members",
           "record_refusal", "roles_of", "set_role"]
