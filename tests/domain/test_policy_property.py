"""Property: under random policies, bills and click orders, a bill is approved exactly when the
first matching rule's chain is met by distinct eligible people in order.

The engine (match_rule, chain_progress, approval_click) is checked against a plain model
written here: the first rule whose conditions hold, then a pointer walking the steps that
moves on once a step has `need` distinct people it names, each person counting once.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billbot.domain.approval_rules import ApprovalPolicy, Conditions, Rule, Step
from billbot.domain.policy_clicks import approval_click
from billbot.domain.policy_eval import BillFacts, Decided, chain_progress, match_rule, resolver

PEOPLE = ["U1", "U2", "U3", "U4", "U5", "U6"]
GROUPS = {"S1": frozenset({"U2", "U3"}), "S2": frozenset({"U5", "U6", "U1"})}
CURRENCIES = ["GBP", "USD", "EUR"]
SUPPLIERS = ["Acme Ltd", "Power Co"]

amounts = st.integers(min_value=0, max_value=5000).map(Decimal)


@st.composite
def steps(draw: st.DrawFn) -> Step:
    ids = draw(st.lists(st.sampled_from(PEOPLE + list(GROUPS)), min_size=1, max_size=3,
                        unique=True))
    need = draw(st.one_of(st.just("all"), st.integers(min_value=1, max_value=len(ids))))
    return Step(tuple(ids), need)  # type: ignore[arg-type]


@st.composite
def rules(draw: st.DrawFn, name: str) -> Rule:
    when = Conditions(
        amount_over=draw(st.none() | amounts), amount_up_to=draw(st.none() | amounts),
        currencies=draw(st.none() | st.frozensets(st.sampled_from(CURRENCIES), min_size=1)),
        suppliers=draw(st.none() | st.frozensets(st.sampled_from(SUPPLIERS), min_size=1)))
    if draw(st.integers(0, 5)) == 0:
        return Rule(name, when=when, auto_approve=True)
    return Rule(name, when=when, steps=tuple(draw(st.lists(steps(), min_size=1, max_size=3))))


@st.composite
def policies(draw: st.DrawFn) -> ApprovalPolicy:
    count = draw(st.integers(1, 3))
    return ApprovalPolicy(rules=tuple(draw(rules(f"R{i}")) for i in range(count)))


@st.composite
def bills(draw: st.DrawFn) -> BillFacts:
    currency = draw(st.sampled_from(CURRENCIES))
    rate = Decimal(1) if currency == "GBP" else draw(
        st.none() | st.sampled_from([Decimal("0.5"), Decimal("1.25")]))
    return BillFacts(total=draw(amounts), amount_due=None, currency=currency, rate=rate,
                     supplier_id="sup", supplier_name=draw(st.sampled_from(SUPPLIERS)),
                     accounts=frozenset())


def model_rule(policy: ApprovalPolicy, bill: BillFacts) -> Rule | None:
    base = None if bill.rate is None or bill.total is None else bill.total * bill.rate
    for rule in policy.rules:
        w = rule.when
        if w.amount_over is not None and base is not None and not base > w.amount_over:
            continue
        if w.amount_up_to is not None and (base is None or base > w.amount_up_to):
            continue
        if w.currencies is not None and bill.currency not in w.currencies:
            continue
        if w.suppliers is not None and bill.supplier_name not in w.suppliers:
            continue
        return rule
    return None


def model_people(step: Step) -> set[str]:
    return {p for a in step.approvers for p in (GROUPS.get(a) or {a})}


def model_approved(rule: Rule | None, clicks: list[str]) -> bool:
    if rule is None:
        return False
    if rule.auto_approve:
        return True
    at, counted, done = 0, set[str](), set[str]()
    for person in clicks:
        if at == len(rule.steps):
            break
        step = rule.steps[at]
        people = model_people(step)
        need = len(people) if step.need == "all" else step.need
        if person in people and person not in done:
            counted.add(person)
            done.add(person)
        if len(counted) >= max(need, 1):
            at, counted = at + 1, set()
    return at == len(rule.steps)


@settings(max_examples=400, deadline=None)
@given(policies(), bills(), st.lists(st.sampled_from(PEOPLE), max_size=12))
def test_approved_exactly_when_the_first_matching_rules_chain_is_met_in_order(
        policy: ApprovalPolicy, bill: BillFacts, clicks: list[str]) -> None:
    rule = match_rule(policy, bill).rule
    assert rule == model_rule(policy, bill)
    resolve = resolver(GROUPS)
    decided: list[Decided] = []
    accepted: list[str] = []
    for person in clicks:
        chain = chain_progress(rule, decided, resolve)
        answer = approval_click(chain, person, (), ["UADMIN"])
        if answer.principal is not None:
            current = chain.current
            assert current is not None and current.people is not None
            assert answer.principal in current.people  # only the current step's people act
            decided.append(Decided(answer.principal))
            accepted.append(person)
        else:
            assert answer.message  # the clicker is told why; nothing recorded
    chain = chain_progress(rule, decided, resolve)
    assert len(accepted) == len(set(accepted))  # one person counts once
    assert chain.met == model_approved(rule, clicks)
