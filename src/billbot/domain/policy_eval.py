"""Apply an `ApprovalPolicy` to a bill: which rule decides (and why), and how far the bill's
recorded approvals take its chain of steps.

Counting: steps are filled in order; each step takes, oldest first, the approvals of people
it names who have not counted for an earlier step. A person is everyone an approval involves
(the approver and a delegate who clicked for them), so one person never counts twice and a
delegate never fills two steps of one chain. The same counting serves live clicks and a new
policy version applied to approvals recorded under an older one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billbot.codat.models import Bill

from .approval_rules import ApprovalPolicy, Rule, Step, is_group


@dataclass(frozen=True)
class BillFacts:
    """What the rules' conditions look at."""

    total: Decimal | None
    amount_due: Decimal | None
    currency: str
    rate: Decimal | None  # base-currency units per unit of the bill's currency
    supplier_id: str
    supplier_name: str | None
    accounts: frozenset[str]

    @classmethod
    def of(cls, bill: Bill) -> BillFacts:
        accounts = frozenset(line.account_ref.id for line in bill.line_items or ()
                             if line.account_ref is not None)
        return cls(total=bill.total_amount, amount_due=bill.amount_due,
                   currency=bill.currency.upper(), rate=bill.currency_rate,
                   supplier_id=bill.supplier_ref.id, supplier_name=bill.supplier_ref.supplier_name,
                   accounts=accounts)

    @property
    def base_amount(self) -> Decimal | None:
        """totalAmount × currencyRate; None when either is missing."""
        if self.total is None or self.rate is None:
            return None
        return (self.total * self.rate).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Match:
    """The rule that decides (None: no rule matches) and the conditions it met, in words."""

    rule: Rule | None
    reasons: tuple[str, ...]
    base_amount: Decimal | None
    rate: Decimal | None
    rate_missing: bool


def _legacy_amount(facts: BillFacts) -> Decimal | None:
    # The old dual-approval limit compared the amount due in the bill's own currency.
    return facts.amount_due if facts.amount_due is not None else facts.total


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def conditions_met(rule: Rule, facts: BillFacts) -> tuple[str, ...] | None:
    """The conditions of `rule` the bill meets, in words; None when one does not hold."""
    w, met = rule.when, []
    amount = _legacy_amount(facts) if rule.role_approvers else facts.base_amount
    what = "amount due" if rule.role_approvers else "base-currency amount"
    if w.amount_over is not None:
        # Unknown amount (a foreign bill with no rate): above every amount_over.
        if amount is not None and amount <= w.amount_over:
            return None
        met.append(f"{what} {_money(amount)} is above {_money(w.amount_over)}" if amount
                   is not None else f"{what} unknown (no rate), so above {_money(w.amount_over)}")
    if w.amount_up_to is not None:
        if amount is None or amount > w.amount_up_to:
            return None
        met.append(f"{what} {_money(amount)} is at most {_money(w.amount_up_to)}")
    if w.currencies is not None:
        if facts.currency not in w.currencies:
            return None
        met.append(f"currency {facts.currency} is one of {', '.join(sorted(w.currencies))}")
    if w.suppliers is not None:
        names = {facts.supplier_id} | ({facts.supplier_name} if facts.supplier_name else set())
        hit = sorted(names & w.suppliers)
        if not hit:
            return None
        met.append(f"supplier is {hit[0]}")
    if w.accounts is not None:
        hit = sorted(facts.accounts & w.accounts)
        if not hit:
            return None
        met.append(f"a line is on account {hit[0]}")
    return tuple(met) or ("the rule has no conditions",)


def match_rule(policy: ApprovalPolicy, facts: BillFacts) -> Match:
    """The first rule whose conditions all hold."""
    missing = facts.rate is None
    for rule in policy.rules:
        reasons = conditions_met(rule, facts)
        if reasons is not None:
            return Match(rule, reasons, facts.base_amount, facts.rate, missing)
    return Match(None, (), facts.base_amount, facts.rate, missing)


# Approvers of a step resolved to people, group ids expanded. (A rule made from the approver
# role names nobody: any approver counts for it, as approvals always counted before policies.)
Resolver = Callable[[Step], frozenset[str]]


def resolver(groups: Mapping[str, frozenset[str]]) -> Resolver:
    """Resolve a file rule's steps with the members of each user group (unknown: nobody)."""
    def people(step: Step) -> frozenset[str]:
        found: set[str] = set()
        for a in step.approvers:
            found |= groups.get(a, frozenset()) if is_group(a) else {a}
        return frozenset(found)
    return people


@dataclass(frozen=True)
class Decided:
    """One recorded approval: in whose name, and the delegate who clicked (if any)."""

    user_id: str
    acted_by: str | None = None

    @property
    def people(self) -> frozenset[str]:
        return frozenset({self.user_id} | ({self.acted_by} if self.acted_by else set()))


@dataclass(frozen=True)
class StepProgress:
    number: int  # 1-based
    step: Step
    people: frozenset[str] | None  # None: anyone with the approver role
    need: int
    counted: tuple[str, ...]  # in whose name the counted approvals were given

    @property
    def complete(self) -> bool:
        return len(self.counted) >= self.need


@dataclass(frozen=True)
class Chain:
    """How far a bill's approvals take its rule's steps."""

    rule: Rule | None
    steps: tuple[StepProgress, ...]
    involved: frozenset[str] = frozenset()  # everyone the recorded approvals involve

    @property
    def auto(self) -> bool:
        return self.rule is not None and self.rule.auto_approve

    @property
    def met(self) -> bool:
        if self.rule is None:
            return False
        return self.auto or all(s.complete for s in self.steps)

    @property
    def current(self) -> StepProgress | None:
        """The first step not complete (None when the chain is met or no rule applies)."""
        return next((s for s in self.steps if not s.complete), None)

    @property
    def counted(self) -> tuple[str, ...]:
        return tuple(u for s in self.steps for u in s.counted)

    @property
    def needed(self) -> int:
        return sum(s.need for s in self.steps)

    def asked_next(self) -> frozenset[str] | None:
        """Who the bill waits on to approve now (not who approved already); None: anyone
        with the approver role."""
        step = self.current
        if step is None:
            return frozenset()
        return None if step.people is None else step.people - self.involved

    def step_of(self, user_id: str) -> StepProgress | None:
        """The first not-complete step naming `user_id`."""
        return next((s for s in self.steps if not s.complete and s.people is not None
                     and user_id in s.people), None)


def _need(step: Step, people: frozenset[str] | None) -> int:
    if step.need != "all":
        return step.need
    # "all" of a group nobody is in can never be met, rather than met by nobody.
    return max(1, len(people)) if people is not None else 1


def chain_progress(rule: Rule | None, decided: Sequence[Decided], resolve: Resolver) -> Chain:
    """Fill the rule's steps in order with the recorded approvals (oldest first)."""
    if rule is None:
        return Chain(None, (), frozenset(p for d in decided for p in d.people))
    used: set[str] = set()
    steps: list[StepProgress] = []
    for number, step in enumerate(rule.steps, start=1):
        people = None if rule.role_approvers else resolve(step)
        need = _need(step, people)
        counted: list[str] = []
        for d in decided:
            if len(counted) >= need:
                break
            if d.people & used or (people is not None and d.user_id not in people):
                continue
            counted.append(d.user_id)
            used |= d.people
        steps.append(StepProgress(number, step, people, need, tuple(counted)))
    involved = frozenset(p for d in decided for p in d.people)
    return Chain(rule, tuple(steps), involved)


def describe_step(progress: StepProgress, names: Callable[[str], str]) -> str:
    """“1 of <@A>, <@B>” / “all of <@C>” (group ids shown as groups)."""
    if progress.people is None:
        whom = "the approvers"
    else:
        whom = ", ".join(names(a) for a in progress.step.approvers)
    need = "all" if progress.step.need == "all" else str(progress.need)
    return f"{need} of {whom}"


__all__ = ["BillFacts", "Chain", "Decided", "Match", "Resolver", "StepProgress",
           "chain_progress", "conditions_met", "describe_step", "match_rule", "resolver"]
