"""A bill's approval chain on its row: rule, steps, asked next; no rule; a missing rate."""

from __future__ import annotations

from decimal import Decimal

from billbot.domain.approval_rules import Conditions, Rule, Step, legacy_policy
from billbot.domain.policy_eval import BillFacts, Decided, chain_progress, match_rule, resolver
from billbot.domain.policy_file import parse_policy
from billbot.slackapp.policy_lines import chain_lines

POLICY = parse_policy("""
rules:
  - {name: Big, when: {amount_over: 100}, steps: [{approvers: [U1, S1]}, {approvers: [U2]}]}
""")


def facts(rate: str | None, total: str = "50") -> BillFacts:
    return BillFacts(total=Decimal(total), amount_due=Decimal(total), currency="USD",
                     rate=Decimal(rate) if rate else None, supplier_id="s", supplier_name=None,
                     accounts=frozenset())


def test_a_missing_rate_is_said_and_the_bill_counts_as_above_every_limit() -> None:
    match = match_rule(POLICY, facts(None))
    chain = chain_progress(match.rule, [], resolver({}))
    lines = chain_lines(match, chain, currency="USD")
    assert lines[0].startswith(":warning: No USD exchange rate in the books")
    assert "Rule “Big”" in lines[1] and lines[-1] == "Asked next: <@U1>"


def test_steps_and_who_is_asked_next() -> None:
    match = match_rule(POLICY, facts("3"))
    chain = chain_progress(match.rule, [Decided("U1")], resolver({"S1": frozenset({"U9"})}))
    lines = chain_lines(match, chain, currency="USD")
    assert lines[1] == ":white_check_mark: Step 1 (1 of <@U1>, <!subteam^S1>): 1/1 · <@U1>"
    assert lines[2] == ":arrow_right: Step 2 (1 of <@U2>): 0/1"
    assert lines[3] == "Asked next: <@U2>"


def test_no_rule_names_the_admins() -> None:
    match = match_rule(POLICY, facts("1"))
    lines = chain_lines(match, chain_progress(None, [], resolver({})), currency="USD",
                        admins=["UADA"])
    assert lines == (":no_entry: No approval rule applies to this bill, so it cannot be "
                     "approved; ask <@UADA>",)


def test_the_old_single_rule_adds_nothing() -> None:
    match = match_rule(legacy_policy(None), facts("1"))
    assert chain_lines(match, chain_progress(match.rule, [], resolver({})), currency="USD") == ()
    rule = Rule("Auto", when=Conditions(), steps=(Step(("U1",)),))
    assert chain_lines(None, chain_progress(rule, [], resolver({})), currency="USD") == ()
