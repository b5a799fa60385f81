"""Who may approve, reject, pay and administer, and how many approvals a bill needs.

Plain data in, a `Decision` (allowed or not, with a reason a person can read) out. Roles come
from the environment lists (`PolicySettings`) with admin overrides applied on top
(`apply_grants`): effective = env ∪ granted − revoked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from .approval_rules import ApprovalPolicy, legacy_policy


class Role(StrEnum):
    APPROVER = "approver"
    PAYER = "payer"
    ADMIN = "admin"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def allow(reason: str = "allowed") -> Decision:
    return Decision(True, reason)


def deny(reason: str) -> Decision:
    return Decision(False, reason)


@dataclass(frozen=True)
class PolicySettings:
    """The approval policy from configuration (BILLBOT_APPROVERS, BILLBOT_PAYERS, ...)."""

    approvers: frozenset[str] = field(default_factory=frozenset)
    payers: frozenset[str] = field(default_factory=frozenset)  # nobody pays unless named
    admins: frozenset[str] = field(default_factory=frozenset)
    dual_approval_over: Decimal | None = None
    payer_cannot_approve: bool = True  # separation of duties unless switched off
    # Rules naming their approvers (BILLBOT_POLICY_FILE, or changed in Slack); None: the one
    # rule made from the variables above. `approvers` then lists every user the rules name.
    rules: ApprovalPolicy | None = field(default=None, compare=False)
    version: int | None = None  # the policy_version in force, for the audit
    in_file: bool = False  # the policy is kept in BILLBOT_POLICY_FILE: Slack cannot change it
    team_id: str | None = None  # the workspace whose user groups the rules name

    @property
    def approval_policy(self) -> ApprovalPolicy:
        return self.rules if self.rules is not None else legacy_policy(self.dual_approval_over)

    def __post_init__(self) -> None:
        # Accept any iterable of ids from callers but keep the frozen, hashable form.
        object.__setattr__(self, "approvers", frozenset(self.approvers))
        object.__setattr__(self, "admins", frozenset(self.admins))
        object.__setattr__(self, "payers", frozenset(self.payers))
        if self.dual_approval_over is not None and self.dual_approval_over < 0:
            raise ValueError("dual_approval_over must not be negative")

    def env_roles(self, user_id: str) -> frozenset[Role]:
        """The roles the environment lists give a user, before admin overrides."""
        roles = set()
        if user_id in self.approvers:
            roles.add(Role.APPROVER)
        if user_id in self.payers:
            roles.add(Role.PAYER)
        if user_id in self.admins:
            roles.add(Role.ADMIN)
        return frozenset(roles)

    def env_members(self, role: Role) -> frozenset[str]:
        if role is Role.APPROVER:
            return self.approvers
        if role is Role.PAYER:
            return self.payers
        return self.admins

    def required_approvals(self, amount_due: Decimal | None) -> Literal[1, 2]:
        """2 when the amount is above the dual-approval threshold (or unknown while one is set)."""
        if self.dual_approval_over is None:
            return 1
        if amount_due is None or amount_due > self.dual_approval_over:
            return 2
        return 1


def apply_grants(env_roles: Iterable[Role], grants: Mapping[Role, bool]) -> frozenset[Role]:
    """Environment roles with admin overrides: a present grant adds, a revoked one removes."""
    roles = set(env_roles)
    for role, present in grants.items():
        if present:
            roles.add(role)
        else:
            roles.discard(role)
    return frozenset(roles)


def can_approve(roles: Collection[Role]) -> Decision:
    if Role.APPROVER in roles:
        return allow()
    return deny("Only approvers can approve or reject bills. Ask a billbot admin for the role.")


# A reason (rejection, override) must say something: this many characters once trimmed.
MIN_REASON_CHARS = 10


def reason_problem(reason: str | None) -> str | None:
    """Why a typed reason is not enough, or None when it says something."""
    if reason is None or len(reason.strip()) < MIN_REASON_CHARS:
        return f"Say why in at least {MIN_REASON_CHARS} characters."
    return None


def can_reject(roles: Collection[Role], reason: str | None) -> Decision:
    decision = can_approve(roles)
    if not decision:
        return decision
    problem = reason_problem(reason)
    return deny(problem) if problem else allow()


def can_lift_rejection(user_id: str, roles: Collection[Role], rejected_by: str,
                       reason: str | None) -> Decision:
    """The person who rejected withdraws (reason "withdraw"); an admin overrides someone
    else's rejection, with a reason (reason "override"); nobody else lifts it."""
    if user_id == rejected_by:
        return allow("withdraw")
    if Role.ADMIN not in roles:
        return deny(f"Only <@{rejected_by}>, who rejected this bill, can withdraw the rejection, "
                    "or a billbot admin override it.")
    problem = reason_problem(reason)
    return deny(problem) if problem else allow("override")


def can_pay(
    user_id: str,
    roles: Collection[Role],
    policy: PolicySettings,
    round_approvers: Collection[str],
) -> Decision:
    """A payer may pay; with payer_cannot_approve, not a bill they approved in this round."""
    if Role.PAYER not in roles:
        return deny("Only payers can pay bills. Ask a billbot admin for the role.")
    if policy.payer_cannot_approve and user_id in round_approvers:
        return deny("You approved this bill, so someone else has to pay it.")
    return allow()


def can_administer(roles: Collection[Role]) -> Decision:
    if Role.ADMIN in roles:
        return allow()
    return deny("Only billbot admins can manage roles and channel bindings.")


__all__ = [
    "Decision",
    "PolicySettings",
    "Role",
    "allow",
    "apply_grants",
    "can_administer",
    "can_approve",
    "can_lift_rejection",
    "can_pay",
    "can_reject",
    "deny",
    "reason_problem",
]
