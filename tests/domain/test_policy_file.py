"""BILLBOT_POLICY_FILE: what a good file reads as, and every problem that stops one."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billbot.domain.approval_rules import (
    Conditions,
    Step,
    from_json,
    named_payers,
    payer_limits_for,
    to_json,
)
from billbot.domain.policy_file import PolicyFileError, parse_policy

SAMPLE = """
rules:
  - name: Large bills
    when:
      amount_over: 2000
      amount_up_to: 50000
      currency: [USD, eur]
      supplier: ["Acme Ltd"]
      account: [acc-exp-1]
    steps:
      - approvers: [U01AAAA, U02BBBB, S03GROUP]
        need: 1
      - approvers: [U04CCCC]
        need: all
  - name: Utilities
    when: {supplier: ["Power Co"], amount_up_to: 200}
    auto_approve: true
payers:
  - user: U05DDDD
    limit: {GBP: 10000}
  - user: U06EEEE
"""


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyFileError) as caught:
        parse_policy(text)
    return caught.value.problems


def test_the_contract_sample_reads_as_written() -> None:
    policy = parse_policy(SAMPLE)
    large, utilities = policy.rules
    assert large.name == "Large bills"
    assert large.when == Conditions(
        amount_over=Decimal(2000), amount_up_to=Decimal(50000),
        currencies=frozenset({"USD", "EUR"}), suppliers=frozenset({"Acme Ltd"}),
        accounts=frozenset({"acc-exp-1"}))
    assert large.steps == (Step(("U01AAAA", "U02BBBB", "S03GROUP"), 1), Step(("U04CCCC",), "all"))
    assert utilities.auto_approve and utilities.steps == ()
    assert payer_limits_for(policy, "U05DDDD") == {"GBP": Decimal(10000)}
    assert payer_limits_for(policy, "U06EEEE") == {}
    assert payer_limits_for(policy, "U07NONE") is None
    assert named_payers(policy) == frozenset({"U05DDDD", "U06EEEE"})
    assert from_json(to_json(policy)) == policy


def test_need_defaults_to_one_and_a_policy_without_payers_names_none() -> None:
    policy = parse_policy("rules: [{name: A, steps: [{approvers: [U1, U2]}]}]")
    assert policy.rules[0].steps == (Step(("U1", "U2"), 1),)
    assert policy.payers is None and payer_limits_for(policy, "U1") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("rules: [{name: A, steps: [{approvers: [U1]}], colour: red}]",
     "rule “A”: unknown key `colour`"),
    ("rules: [{name: A, when: {amount_above: 5}, steps: [{approvers: [U1]}]}]",
     "rule “A” `when`: unknown key `amount_above`"),
    ("rules: [{name: A, steps: [{approvers: [U1], need: 1, who: x}]}]",
     "rule “A” step 1: unknown key `who`"),
    ("rules: [{name: A, steps: [{approvers: [U1]}]}]\nextra: 1",
     "policy file: unknown key `extra`"),
    ("rules: [{name: A, steps: [{approvers: [U1, U2], need: 3}]}]",
     "rule “A” step 1: `need` is 3 but the step names only 2 approver(s)"),
    ("rules: [{name: A, when: {currency: [GBP]}}]",
     "rule “A”: has neither `steps` nor `auto_approve: true`"),
    ("rules: [{name: A, auto_approve: false}]",
     "rule “A”: has neither `steps` nor `auto_approve: true`"),
    ("rules: [{name: A, auto_approve: true}, {name: A, auto_approve: true}]",
     "rule “A”: two rules are named “A”; names must be unique"),
    ("rules: [{name: A, steps: [{approvers: [alice]}]}]",
     "rule “A” step 1: 'alice' is not a Slack user id (U…/W…) or user group id (S…)"),
    ("rules: [{name: A, steps: [{approvers: [C0CHANNEL]}]}]",
     "rule “A” step 1: 'C0CHANNEL' is not a Slack user id"),
    ("rules: [{steps: [{approvers: [U1]}]}]", "rule 1: `name` is required"),
    ("rules: [{name: A, steps: [{approvers: [U1], need: 0}]}]", "`need` must be a whole number"),
    ("rules: [{name: A, steps: [{approvers: [U1], need: some}]}]", "`need` must be a whole"),
    ("rules: [{name: A, when: {amount_over: lots}, auto_approve: true}]",
     "rule “A”: `amount_over` must be a number"),
    ("rules: [{name: A, when: {amount_over: 10, amount_up_to: 5}, auto_approve: true}]",
     "rule “A”: `amount_up_to` (5) must be above `amount_over` (10)"),
    ("rules: [{name: A, steps: [{approvers: []}]}]", "rule “A” step 1: `approvers` must be"),
    ("rules: [{name: A, steps: [{approvers: [U1, U1]}]}]", "rule “A” step 1: U1 is listed twice"),
    ("rules: [{name: A, auto_approve: yes please}]", "rule “A”: `auto_approve` must be true"),
    ("rules: [{name: A, auto_approve: true, steps: [{approvers: [U1]}]}]",
     "rule “A”: has both `steps` and `auto_approve`"),
    ("rules: []", "`rules` must be a non-empty list"),
    ("just text", "the file must be a mapping"),
    ("rules: [", "not valid YAML"),
    ("rules: [{name: A, auto_approve: true}]\npayers: [{user: bob}]",
     "payer bob: `user` must be a Slack user id"),
    ("rules: [{name: A, auto_approve: true}]\npayers: [{user: U1, limit: {POUNDS: 5}}]",
     "payer U1: 'POUNDS' is not a currency code"),
    ("rules: [{name: A, auto_approve: true}]\npayers: [{user: U1, limit: {GBP: -5}}]",
     "payer U1: `limit GBP` must be a number of zero or more"),
    ("rules: [{name: A, auto_approve: true}]\npayers: [{user: U1, max: 5}]",
     "payer U1: unknown key `max`"),
])
def test_a_file_that_cannot_work_names_the_rule_and_the_problem(text: str,
                                                                expected: str) -> None:
    found = problems(text)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems("rules: [{name: A, colour: red}, {name: A, steps: [{approvers: [x]}]}]")
    assert len(found) == 4, found
