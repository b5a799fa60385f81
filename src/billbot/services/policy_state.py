"""The approval policy applied to one bill's recorded approvals: the rule that decides it and
how far its chain has come. Every state read (rows, Pay, reminders, App Home) goes through
`evaluate`, so a new policy version applies to every unpaid bill at once, counting the
approvals already recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlmodel import Session, select

from billbot.domain.approval_rules import is_group
from billbot.domain.policy import PolicySettings
from billbot.domain.policy_eval import (
    BillFacts,
    Chain,
    Decided,
    Match,
    chain_progress,
    match_rule,
    resolver,
)
from billbot.domain.versions import BillVersion
from billbot.storage.tables import Approval


def group_ids(policy: PolicySettings) -> frozenset[str]:
    return frozenset(a for r in policy.approval_policy.rules for s in r.steps
                     for a in s.approvers if is_group(a))


def groups_for(session: Session, policy: PolicySettings) -> dict[str, frozenset[str]]:
    """The members of every user group the policy names, as billbot's cache holds them."""
    wanted = group_ids(policy)
    if not wanted:
        return {}
    from billbot.storage.usergroup_tables import UsergroupMembers

    rows = session.exec(select(UsergroupMembers)).all()
    found: dict[str, frozenset[str]] = {}
    for row in rows:
        # Group ids are unique across Slack; the workspace narrows it when billbot knows it.
        if row.group_id in wanted and (policy.team_id is None or row.team_id == policy.team_id):
            found[row.group_id] = found.get(row.group_id, frozenset()) | frozenset(row.user_ids)
    return found


def facts_of(version: BillVersion, baseline: BillVersion | None = None) -> BillFacts:
    """The bill's facts; with the round's baseline, its amounts as approved (billbot's own
    partial payments do not move a bill to another rule)."""
    facts = version.facts or BillFacts(
        total=version.total_amount, amount_due=version.amount_due, currency=version.currency,
        rate=None, supplier_id=version.supplier_id, supplier_name=None, accounts=frozenset())
    if baseline is None:
        return facts
    return replace(facts, total=baseline.total_amount, amount_due=baseline.amount_due)


def decided_of(decisions: Sequence[Approval]) -> list[Decided]:
    return [Decided(d.user_id, d.acted_by) for d in decisions if d.decision == "approve"]


def evaluate(policy: PolicySettings, facts: BillFacts, decisions: Sequence[Approval],
             groups: Mapping[str, frozenset[str]]) -> tuple[Match, Chain]:
    match = match_rule(policy.approval_policy, facts)
    return match, chain_progress(match.rule, decided_of(decisions), resolver(groups))


def named_in_rule(match: Match, groups: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """Everyone the bill's rule names (group members included): who may reject it."""
    if match.rule is None:
        return frozenset()
    people: set[str] = set()
    for step in match.rule.steps:
        people |= resolver(groups)(step)
    return frozenset(people)


__all__ = ["decided_of", "evaluate", "facts_of", "group_ids", "groups_for", "named_in_rule"]
