"""An `ApprovalPolicy` written back as policy-file YAML (the format `policy_file` reads), for
the `/bills policy edit` form: what `parse_policy` reads from this text is the policy again.

The rule made from the old variables names no one (its step means "anyone with the approver
role"); the file format has no such step, so it is written with the role's members listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import yaml

from .approval_rules import ApprovalPolicy, Conditions, Rule

# Digits a float holds exactly through str(): amounts longer than this stay quoted strings.
_FLOAT_DIGITS = 15


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as the contract's sample writes them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _number(value: Decimal) -> int | float | str:
    if value == value.to_integral_value():
        return int(value)
    digits = len(value.as_tuple().digits)
    return float(value) if digits <= _FLOAT_DIGITS else format(value, "f")


def _when(when: Conditions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if when.amount_over is not None:
        out["amount_over"] = _number(when.amount_over)
    if when.amount_up_to is not None:
        out["amount_up_to"] = _number(when.amount_up_to)
    for key, values in (("currency", when.currencies), ("supplier", when.suppliers),
                        ("account", when.accounts)):
        if values is not None:
            out[key] = sorted(values)
    return out


def _rule(rule: Rule, role_approvers: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": rule.name}
    when = _when(rule.when)
    if when:
        out["when"] = when
    if rule.auto_approve:
        out["auto_approve"] = True
        return out
    steps = []
    for step in rule.steps:
        people = role_approvers if rule.role_approvers else list(step.approvers)
        steps.append({"approvers": people, "need": step.need})
    out["steps"] = steps
    return out


def policy_yaml(policy: ApprovalPolicy, role_approvers: Iterable[str] = ()) -> str:
    """The policy as a policy file's text; `role_approvers` stand in a role rule's steps."""
    people = sorted(role_approvers)
    data: dict[str, Any] = {"rules": [_rule(r, people) for r in policy.rules]}
    if policy.payers is not None:
        data["payers"] = [
            {"user": p.user, "limit": {c: _number(a) for c, a in sorted(p.limits.items())}}
            if p.limits else {"user": p.user} for p in policy.payers]
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                          default_flow_style=None, width=100)
    return text


__all__ = ["policy_yaml"]
