"""The policy written back as policy-file YAML (`/bills policy edit`): the file's reader reads
the same policy from it, and the rule of the old variables names the approver role's members."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billbot.domain.approval_rules import (
    LEGACY_DUAL_RULE,
    LEGACY_RULE,
    ApprovalPolicy,
    Conditions,
    PayerLimit,
    Rule,
    Step,
    legacy_policy,
)
from billbot.domain.policy_file import parse_policy
from billbot.domain.policy_yaml import policy_yaml

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


def test_the_contract_sample_reads_back_as_the_same_policy() -> None:
    policy = parse_policy(SAMPLE)
    text = policy_yaml(policy)
    assert parse_policy(text) == policy
    assert "name: Large bills" in text and "need: all" in text
    assert "limit: {GBP: 10000}" in text and "  - {user: U06EEEE}\n" in text


def test_the_old_variables_rule_lists_the_approver_roles_members() -> None:
    text = policy_yaml(legacy_policy(Decimal("1000.50")), ["U0BEN", "U0ANN"])
    read = parse_policy(text)
    assert [r.name for r in read.rules] == [LEGACY_DUAL_RULE, LEGACY_RULE]
    dual, single = read.rules
    assert dual.when == Conditions(amount_over=Decimal("1000.5"))
    assert dual.steps == (Step(("U0ANN", "U0BEN"), 2),)
    assert single.steps == (Step(("U0ANN", "U0BEN"), 1),) and not single.role_approvers
    assert read.payers is None and "payers" not in text


# Names as people type them: quotes, colons, YAML words, digits, accents, emoji.
names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
                min_size=1, max_size=30).map(str.strip).filter(bool)
amounts = st.decimals(min_value=0, max_value=Decimal("99999999999.99"), places=2,
                      allow_nan=False, allow_infinity=False)
people = st.lists(st.sampled_from(["U01", "W02", "U03", "S04", "S05"]), min_size=1,
                  max_size=4, unique=True)


@st.composite
def steps(draw: st.DrawFn) -> Step:
    ids = draw(people)
    need = draw(st.one_of(st.just("all"), st.integers(min_value=1, max_value=len(ids))))
    return Step(tuple(ids), need)  # type: ignore[arg-type]


@st.composite
def rules(draw: st.DrawFn, name: str) -> Rule:
    over = draw(st.none() | amounts)
    up_to = draw(st.none() | amounts)
    if over is not None and up_to is not None and up_to <= over:
        up_to = None
    when = Conditions(
        amount_over=over, amount_up_to=up_to,
        currencies=draw(st.none() | st.frozensets(st.sampled_from(["GBP", "USD"]), min_size=1)),
        suppliers=draw(st.none() | st.frozensets(names, min_size=1, max_size=3)),
        accounts=draw(st.none() | st.frozensets(names, min_size=1, max_size=2)))
    if draw(st.booleans()):
        return Rule(name, when=when, auto_approve=True)
    return Rule(name, when=when, steps=tuple(draw(st.lists(steps(), min_size=1, max_size=3))))


@st.composite
def policies(draw: st.DrawFn) -> ApprovalPolicy:
    rule_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    payers = draw(st.none() | st.lists(st.builds(
        PayerLimit, st.sampled_from(["U01", "U02", "W03"]),
        st.dictionaries(st.sampled_from(["GBP", "EUR"]), amounts, max_size=2)),
        max_size=3, unique_by=lambda p: p.user))
    return ApprovalPolicy(rules=tuple(draw(rules(n)) for n in rule_names),
                          payers=None if payers is None else tuple(payers))


@settings(max_examples=200, deadline=None)
@given(policies())
def test_any_policy_reads_back_as_itself(policy: ApprovalPolicy) -> None:
    assert parse_policy(policy_yaml(policy)) == policy
