"""The approval policy and one bill's match, in words for Slack (`/bills policy`,
`/bills policy check <bill>`)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from .approval_rules import ApprovalPolicy, Conditions, Rule, Step
from .policy_eval import BillFacts, Match


def who(approver_id: str) -> str:
    return f"<!subteam^{approver_id}>" if approver_id.startswith("S") else f"<@{approver_id}>"


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _list(items: Iterable[str]) -> str:
    return ", ".join(sorted(items))


def conditions_words(when: Conditions, *, legacy: bool = False) -> str:
    what = "the amount due" if legacy else "the base-currency amount"
    parts = []
    if when.amount_over is not None:
        parts.append(f"{what} is above {_amount(when.amount_over)}")
    if when.amount_up_to is not None:
        parts.append(f"{what} is at most {_amount(when.amount_up_to)}")
    if when.currencies is not None:
        parts.append(f"the currency is {_list(when.currencies)}")
    if when.suppliers is not None:
        parts.append(f"the supplier is {_list(when.suppliers)}")
    if when.accounts is not None:
        parts.append(f"a line is on account {_list(when.accounts)}")
    return " and ".join(parts) if parts else "any bill"


def step_words(number: int, step: Step, *, legacy: bool = False) -> str:
    if legacy:
        need = "any one approver" if step.need == 1 else f"{step.need} different approvers"
        return f"step {number}: {need}"
    need = "all" if step.need == "all" else str(step.need)
    return f"step {number}: {need} of {', '.join(who(a) for a in step.approvers)}"


def rule_words(index: int, rule: Rule) -> str:
    head = f"{index}. *{rule.name}* — when {conditions_words(rule.when, legacy=rule.role_approvers)}"
    if rule.auto_approve:
        return f"{head}: approved by the policy itself"
    steps = "; then ".join(step_words(n, s, legacy=rule.role_approvers)
                           for n, s in enumerate(rule.steps, start=1))
    return f"{head}: {steps}"


def policy_words(policy: ApprovalPolicy) -> list[str]:
    lines = ["The first rule whose conditions all hold decides:"]
    lines.extend(rule_words(i, r) for i, r in enumerate(policy.rules, start=1))
    lines.append("A bill no rule matches cannot be approved.")
    if policy.payers is not None:
        payers = []
        for p in policy.payers:
            limits = ", ".join(f"{c} {_amount(a)}" for c, a in sorted(p.limits.items()))
            payers.append(f"{who(p.user)}" + (f" (at most {limits} a payment)" if limits else ""))
        lines.append("Payers: " + ", ".join(payers))
    return lines


def match_words(match: Match, facts: BillFacts, base_currency: str | None = None) -> list[str]:
    """Which rule applies and why: the conditions met, the base amount and the rate used."""
    lines: list[str] = []
    total = _amount(facts.total) if facts.total is not None else "unknown"
    base = f" {base_currency}" if base_currency else ""
    if facts.rate is None:
        lines.append(f"Amount: {facts.currency} {total}; no exchange rate in the books, so it "
                     "counts as above every `amount_over` and within no `amount_up_to`.")
    elif match.base_amount is not None:
        lines.append(f"Base-currency amount: {_amount(match.base_amount)}{base} "
                     f"({facts.currency} {total} × rate {facts.rate}).")
    if match.rule is None:
        lines.append("No rule applies, so this bill cannot be approved.")
        return lines
    lines.append(f"Rule *{match.rule.name}* applies: " + "; ".join(match.reasons) + ".")
    return lines


__all__ = ["conditions_words", "match_words", "policy_words", "rule_words", "step_words", "who"]
