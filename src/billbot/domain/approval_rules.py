"""The approval policy as data: ordered rules (conditions, steps or auto-approval) and payer
limits, as `BILLBOT_POLICY_FILE` states them or as the database keeps them.

Pure values; `policy_file` reads YAML into them, `policy_eval` applies them to a bill. The JSON
form (`to_json`/`from_json`) is what a `policy_version` row stores.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

# Slack user ids (U…, W… for Enterprise Grid) and user group ids (S…).
USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
GROUP_ID = re.compile(r"^S[A-Z0-9]+$")

# The name of the one rule made from BILLBOT_APPROVERS / BILLBOT_DUAL_APPROVAL_OVER.
LEGACY_RULE = "Approvers"
LEGACY_DUAL_RULE = "Approvers (two above the limit)"


def is_group(approver_id: str) -> bool:
    return bool(GROUP_ID.match(approver_id))


@dataclass(frozen=True)
class Conditions:
    """Every condition given must hold; None: not a condition of the rule."""

    amount_over: Decimal | None = None
    amount_up_to: Decimal | None = None
    currencies: frozenset[str] | None = None  # upper case
    suppliers: frozenset[str] | None = None  # supplier names or Codat supplier ids
    accounts: frozenset[str] | None = None  # expense account ids


@dataclass(frozen=True)
class Step:
    approvers: tuple[str, ...]
    need: int | Literal["all"] = 1


@dataclass(frozen=True)
class Rule:
    name: str
    when: Conditions = field(default_factory=Conditions)
    steps: tuple[Step, ...] = ()
    auto_approve: bool = False
    # The database policy's rule stands for everyone with the approver role (env ∪ granted):
    # its steps name nobody; `policy_eval` is given the role's members.
    role_approvers: bool = False


@dataclass(frozen=True)
class PayerLimit:
    user: str
    limits: Mapping[str, Decimal]  # currency (upper) → the most one payment may be; {}: none


@dataclass(frozen=True)
class ApprovalPolicy:
    rules: tuple[Rule, ...]
    payers: tuple[PayerLimit, ...] | None = None  # None: BILLBOT_PAYERS / the payer role

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)


def legacy_policy(dual_approval_over: Decimal | None) -> ApprovalPolicy:
    """The one-rule policy of the old variables: any one approver; two above the limit (the
    limit compares the amount due in the bill's currency, as it always has)."""
    if dual_approval_over is None:
        return ApprovalPolicy(rules=(Rule(LEGACY_RULE, steps=(Step((), 1),),
                                          role_approvers=True),))
    return ApprovalPolicy(rules=(
        Rule(LEGACY_DUAL_RULE, when=Conditions(amount_over=dual_approval_over),
             steps=(Step((), 2),), role_approvers=True),
        Rule(LEGACY_RULE, steps=(Step((), 1),), role_approvers=True),
    ))


def is_legacy(policy: ApprovalPolicy) -> bool:
    return all(r.role_approvers for r in policy.rules)


def payer_limits_for(policy: ApprovalPolicy | None,
                     user_id: str) -> Mapping[str, Decimal] | None:
    """A payer's limits per currency ({} for a payer listed without limits); None when the
    policy has no `payers` section or does not list the user (no limits apply)."""
    if policy is None or policy.payers is None:
        return None
    entry = next((p for p in policy.payers if p.user == user_id), None)
    return None if entry is None else entry.limits


def named_payers(policy: ApprovalPolicy | None) -> frozenset[str] | None:
    """The payers a `payers` section names, or None when the policy has none."""
    if policy is None or policy.payers is None:
        return None
    return frozenset(p.user for p in policy.payers)


def people_named(rule: Rule) -> frozenset[str]:
    """Every id a rule's steps name (user and group ids)."""
    return frozenset(a for step in rule.steps for a in step.approvers)


# --- JSON form (the policy_version row) ------------------------------------------------------


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _set(value: Any) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def to_json(policy: ApprovalPolicy) -> dict[str, Any]:
    rules = []
    for r in policy.rules:
        w = r.when
        rules.append({
            "name": r.name, "auto_approve": r.auto_approve, "role_approvers": r.role_approvers,
            "when": {"amount_over": _num(w.amount_over), "amount_up_to": _num(w.amount_up_to),
                     "currency": sorted(w.currencies) if w.currencies is not None else None,
                     "supplier": sorted(w.suppliers) if w.suppliers is not None else None,
                     "account": sorted(w.accounts) if w.accounts is not None else None},
            "steps": [{"approvers": list(s.approvers), "need": s.need} for s in r.steps],
        })
    payers = None if policy.payers is None else [
        {"user": p.user, "limit": {c: format(a, "f") for c, a in sorted(p.limits.items())}}
        for p in policy.payers]
    return {"rules": rules, "payers": payers}


def from_json(data: Mapping[str, Any]) -> ApprovalPolicy:
    rules = []
    for r in data["rules"]:
        w = r.get("when") or {}
        rules.append(Rule(
            name=r["name"], auto_approve=bool(r.get("auto_approve")),
            role_approvers=bool(r.get("role_approvers")),
            when=Conditions(amount_over=_dec(w.get("amount_over")),
                            amount_up_to=_dec(w.get("amount_up_to")),
                            currencies=_set(w.get("currency")), suppliers=_set(w.get("supplier")),
                            accounts=_set(w.get("account"))),
            steps=tuple(Step(tuple(s["approvers"]), s["need"]) for s in r.get("steps") or ()),
        ))
    raw_payers = data.get("payers")
    payers = None if raw_payers is None else tuple(
        PayerLimit(p["user"], {c: Decimal(a) for c, a in (p.get("limit") or {}).items()})
        for p in raw_payers)
    return ApprovalPolicy(rules=tuple(rules), payers=payers)


__all__ = ["GROUP_ID", "LEGACY_DUAL_RULE", "LEGACY_RULE", "USER_ID", "ApprovalPolicy",
           "Conditions", "PayerLimit", "Rule", "Step", "from_json", "is_group", "is_legacy",
           "legacy_policy", "named_payers", "payer_limits_for", "people_named", "to_json"]
