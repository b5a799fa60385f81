"""Which rule decides a bill, and how its approvals fill the rule's steps."""

from __future__ import annotations

from decimal import Decimal

from billbot.domain.approval_rules import (
    LEGACY_DUAL_RULE,
    LEGACY_RULE,
    Conditions,
    Rule,
    Step,
    legacy_policy,
)
from billbot.domain.policy_eval import (
    BillFacts,
    Decided,
    chain_progress,
    conditions_met,
    match_rule,
    resolver,
)
from billbot.domain.policy_file import parse_policy


def facts(total: str = "100", *, currency: str = "GBP", rate: str | None = "1",
          supplier: str = "sup-1", name: str | None = "Acme Ltd",
          accounts: tuple[str, ...] = ("acc-1",), due: str | None = None) -> BillFacts:
    return BillFacts(total=Decimal(total), amount_due=Decimal(due or total), currency=currency,
                     rate=Decimal(rate) if rate is not None else None, supplier_id=supplier,
                     supplier_name=name, accounts=frozenset(accounts))


def rule(**when: object) -> Rule:
    return Rule("R", when=Conditions(**when), steps=(Step(("U1",)),))  # type: ignore[arg-type]


class TestConditions:
    def test_amount_is_compared_in_the_base_currency(self) -> None:
        usd = facts("1000", currency="USD", rate="0.8")  # 800 in base
        assert conditions_met(rule(amount_over=Decimal(799)), usd) is not None
        assert conditions_met(rule(amount_over=Decimal(800)), usd) is None
        assert conditions_met(rule(amount_up_to=Decimal(800)), usd) is not None
        assert conditions_met(rule(amount_up_to=Decimal("799.99")), usd) is None

    def test_a_foreign_bill_without_rate_is_above_every_over_and_within_no_up_to(self) -> None:
        unknown = facts("1", currency="USD", rate=None)
        assert conditions_met(rule(amount_over=Decimal(10 ** 9)), unknown) is not None
        assert conditions_met(rule(amount_up_to=Decimal(10 ** 9)), unknown) is None
        assert match_rule(parse_policy("rules: [{name: A, auto_approve: true}]"),
                          unknown).rate_missing

    def test_currency_supplier_by_name_or_id_and_any_lines_account(self) -> None:
        bill = facts(currency="EUR", accounts=("acc-1", "acc-2"))
        assert conditions_met(rule(currencies=frozenset({"EUR", "USD"})), bill) is not None
        assert conditions_met(rule(currencies=frozenset({"GBP"})), bill) is None
        assert conditions_met(rule(suppliers=frozenset({"Acme Ltd"})), bill) is not None
        assert conditions_met(rule(suppliers=frozenset({"sup-1"})), bill) is not None
        assert conditions_met(rule(suppliers=frozenset({"Other"})), bill) is None
        assert conditions_met(rule(accounts=frozenset({"acc-2"})), bill) is not None
        assert conditions_met(rule(accounts=frozenset({"acc-9"})), bill) is None

    def test_every_condition_given_must_hold(self) -> None:
        both = rule(currencies=frozenset({"GBP"}), amount_over=Decimal(500))
        assert conditions_met(both, facts("600")) is not None
        assert conditions_met(both, facts("400")) is None

    def test_the_first_matching_rule_decides_and_says_why(self) -> None:
        policy = parse_policy("""
rules:
  - {name: Big, when: {amount_over: 1000}, steps: [{approvers: [U1]}]}
  - {name: Power, when: {supplier: [Power Co]}, auto_approve: true}
  - {name: Rest, steps: [{approvers: [U2]}]}
""")
        big = match_rule(policy, facts("5000", name="Power Co"))
        assert big.rule is not None and big.rule.name == "Big"
        assert big.reasons == ("base-currency amount 5,000.00 is above 1,000.00",)
        power = match_rule(policy, facts("50", name="Power Co"))
        assert power.rule is not None and power.rule.name == "Power"
        rest = match_rule(policy, facts("50"))
        assert rest.rule is not None and rest.reasons == ("the rule has no conditions",)

    def test_no_rule_matched(self) -> None:
        policy = parse_policy("rules: [{name: Big, when: {amount_over: 10}, auto_approve: true}]")
        assert match_rule(policy, facts("5")).rule is None


class TestLegacyRule:
    def test_one_approver_without_a_limit(self) -> None:
        policy = legacy_policy(None)
        match = match_rule(policy, facts("999999"))
        assert match.rule is not None and match.rule.name == LEGACY_RULE
        chain = chain_progress(match.rule, [Decided("ANYONE")], resolver({}))
        assert chain.steps[0].people is None and chain.met

    def test_two_above_the_limit_in_the_bills_own_currency(self) -> None:
        policy = legacy_policy(Decimal(1000))
        # The old limit compared the amount due in the bill's currency, not the base amount.
        usd = facts("1200", currency="USD", rate="0.5")
        match = match_rule(policy, usd)
        assert match.rule is not None and match.rule.name == LEGACY_DUAL_RULE
        assert match_rule(policy, facts("1000")).rule.name == LEGACY_RULE  # type: ignore[union-attr]
        chain = chain_progress(match.rule, [Decided("A")], resolver({}))
        assert not chain.met and chain.needed == 2
        assert chain_progress(match.rule, [Decided("A"), Decided("B")], resolver({})).met


TWO_STEPS = Rule("Two", steps=(Step(("U1", "U2", "S1")), Step(("U3", "U4"), "all")))
GROUPS = resolver({"S1": frozenset({"U5", "U6"})})


class TestSteps:
    def test_steps_fill_in_order(self) -> None:
        chain = chain_progress(TWO_STEPS, [], GROUPS)
        assert chain.current is not None and chain.current.number == 1
        assert chain.asked_next() == frozenset({"U1", "U2", "U5", "U6"})
        chain = chain_progress(TWO_STEPS, [Decided("U5")], GROUPS)  # a group member
        assert chain.current is not None and chain.current.number == 2
        assert chain.asked_next() == frozenset({"U3", "U4"})
        chain = chain_progress(TWO_STEPS, [Decided("U5"), Decided("U3")], GROUPS)
        assert not chain.met and chain.asked_next() == frozenset({"U4"})
        assert chain_progress(TWO_STEPS, [Decided("U5"), Decided("U3"), Decided("U4")],
                              GROUPS).met

    def test_need_n_counts_distinct_people_named_in_the_step(self) -> None:
        rule = Rule("N", steps=(Step(("U1", "U2", "U3"), 2),))
        assert not chain_progress(rule, [Decided("U1"), Decided("U9")], GROUPS).met
        assert chain_progress(rule, [Decided("U1"), Decided("U3")], GROUPS).met

    def test_one_person_counts_once_even_if_named_in_two_steps(self) -> None:
        rule = Rule("Same", steps=(Step(("U1", "U2")), Step(("U1", "U3"))))
        chain = chain_progress(rule, [Decided("U1")], GROUPS)
        assert chain.current is not None and chain.current.number == 2
        assert chain.asked_next() == frozenset({"U3"})
        assert chain_progress(rule, [Decided("U1"), Decided("U3")], GROUPS).met

    def test_a_delegate_never_fills_two_steps(self) -> None:
        rule = Rule("Deleg", steps=(Step(("U1",)), Step(("U2", "U3"))))
        # U2 approved for U1 (away) at step 1, so U2's own approval cannot fill step 2.
        chain = chain_progress(rule, [Decided("U1", acted_by="U2"), Decided("U2")], GROUPS)
        assert not chain.met and chain.steps[1].counted == ()
        assert chain_progress(rule, [Decided("U1", acted_by="U2"), Decided("U3")], GROUPS).met

    def test_all_of_an_empty_group_can_never_be_met(self) -> None:
        rule = Rule("Empty", steps=(Step(("S9",), "all"),))
        chain = chain_progress(rule, [], GROUPS)
        assert chain.steps[0].need == 1 and not chain.met

    def test_all_of_a_group_means_every_member(self) -> None:
        rule = Rule("G", steps=(Step(("S1",), "all"),))
        assert not chain_progress(rule, [Decided("U5")], GROUPS).met
        assert chain_progress(rule, [Decided("U5"), Decided("U6")], GROUPS).met

    def test_approvals_recorded_earlier_count_under_a_new_rule_whatever_their_order(self) -> None:
        # Recorded under an older policy: U3 first, then U1; the new rule wants U1 then U3.
        rule = Rule("New", steps=(Step(("U1",)), Step(("U3",))))
        assert chain_progress(rule, [Decided("U3"), Decided("U1")], GROUPS).met

    def test_auto_approval_and_no_rule(self) -> None:
        auto = Rule("Auto", auto_approve=True)
        assert chain_progress(auto, [], GROUPS).met
        none = chain_progress(None, [Decided("U1")], GROUPS)
        assert not none.met and none.current is None
