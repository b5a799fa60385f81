"""Whether a bill may be paid, and from which accounts: the rules the Pay button, the pay
modal's inline checks and `payments.start_payment` share, each written once here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billbot.codat.models import AccountStatus, BankAccountOption, Bill
from billbot.domain.policy import PolicySettings, Role, can_pay
from billbot.domain.policy_clicks import step_words
from billbot.domain.policy_eval import Chain, Match
from billbot.money import format_money, minor_units

from .bill_status import BillApprovalState, held_refusal

PAYMENT_IN_PROGRESS = "A payment of this bill is already in progress; nothing new was started."


def bill_problem(bill: Bill) -> str | None:
    """Why the bill itself cannot be paid from Slack (its status, an unknown amount due)."""
    if not bill.status.payable:
        return f"The bill is {bill.status.value}; only open or part-paid bills can be paid."
    if bill.amount_due is None:
        return "The bill's amount due is unknown, so it cannot be paid from Slack."
    return None


def amount_problem(amount: Decimal, *, due: Decimal | None, currency: str) -> str | None:
    """Why `amount` cannot be paid against `due` (None: the amount due is not known here)."""
    if not amount.is_finite() or amount <= 0:
        return "The amount must be more than zero."
    if due is not None and amount > due:
        return f"The amount is more than the {format_money(due, currency)} still due."
    if amount != amount.quantize(Decimal(1).scaleb(-minor_units(currency))):
        return f"{currency} amounts have at most {minor_units(currency)} decimals."
    return None


def latest_payment_date(today: date) -> date:
    """One year after today (28 February when today is the 29th)."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


def date_problem(paid_on: date, *, issued_on: date | None, today: date) -> str | None:
    """Why `paid_on` cannot be a payment date: before the bill's issue date, or more than a
    year ahead (Codat refuses the first; the second is a typo far more often than a plan)."""
    if issued_on is not None and paid_on < issued_on:
        return (f"The payment date is before the bill's issue date ({issued_on.isoformat()}); "
                "pick that day or later.")
    latest = latest_payment_date(today)
    if paid_on > latest:
        return f"The payment date is more than a year ahead; pick {latest.isoformat()} or earlier."
    return None


def payment_problem(bill: Bill, amount: Decimal) -> str | None:
    """Why `amount` cannot be paid on this bill now, or None."""
    return bill_problem(bill) or amount_problem(amount, due=bill.amount_due, currency=bill.currency)


def chain_refusal(policy: PolicySettings, match: Match, chain: Chain, approvals: int) -> str:
    """Why an approval chain does not let the bill be paid yet."""
    if policy.rules is None:
        return f"The bill needs {chain.needed} approvals and has {approvals}."
    if match.rule is None:
        return "No rule of the approval policy applies to this bill, so it cannot be paid."
    assert chain.current is not None
    return (f"The bill waits for {step_words(chain.current)} of rule “{match.rule.name}” "
            "before it can be paid.")


def why_not_payable(bill: Bill, state: BillApprovalState, *, user_id: str, policy: PolicySettings,
                    roles: frozenset[Role]) -> str | None:
    """Why this payer cannot pay this bill now (start_payment checks it all again)."""
    problem = bill_problem(bill)
    if problem:
        return problem
    if state.held is not None:
        return held_refusal(state.held, "paid")
    if state.rejected is not None:
        return (f"The bill was rejected by <@{state.rejected.by}>; it cannot be paid until they "
                "withdraw the rejection or an admin overrides it.")
    if state.lapsed:
        return ("The bill changed in the accounting software since it was approved, so it "
                "must be approved again before it can be paid.")
    if not state.is_approved:
        if policy.rules is not None and state.match is not None and state.chain is not None:
            return chain_refusal(policy, state.match, state.chain, len(state.approvers))
        return f"The bill needs {state.needed} approval(s) before it can be paid."
    if state.payment_in_progress:
        return PAYMENT_IN_PROGRESS
    decision = can_pay(user_id, roles, policy, state.approved_by_anyone)
    return None if decision else decision.reason


def payment_accounts(options: list[BankAccountOption], bill: Bill,
                     base_currency: str | None) -> list[BankAccountOption]:
    """Active accounts (credit accounts included) in the bill's or the base currency."""
    allowed = {bill.currency.upper()} | ({base_currency.upper()} if base_currency else set())
    return [a for a in options if a.status is AccountStatus.ACTIVE
            and (a.currency or "").upper() in allowed]


__all__ = ["PAYMENT_IN_PROGRESS", "amount_problem", "bill_problem", "chain_refusal", "date_problem",
           "latest_payment_date", "payment_accounts",
           "payment_problem", "why_not_payable"]
