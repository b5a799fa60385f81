"""Which bills a pay run offers, and why the others are not in it: the single payment's rules
(`payability.why_not_payable`, `payment_accounts`, `date_problem`) applied bill by bill."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from billbot.codat.models import BankAccountOption, Bill
from billbot.domain.policy import PolicySettings, Role

from .bill_status import BillApprovalState
from .payability import payment_accounts, why_not_payable

# A run offers at most this many bills (the form's checkbox groups stay within Slack's 100
# blocks a view); the rest are offered by the next run, most urgent first.
MAX_RUN_BILLS = 500


@dataclass(frozen=True)
class NotOffered:
    bill: Bill
    reason: str


@dataclass(frozen=True)
class Plan:
    offered: list[Bill]  # by currency, then supplier, then due date
    not_offered: list[NotOffered]
    accounts: dict[str, list[BankAccountOption]]  # per currency offered
    more: int  # payable bills left for the next run


def supplier_of(bill: Bill) -> str:
    return bill.supplier_ref.supplier_name or bill.supplier_ref.id


def plan_run(bills: Sequence[Bill], states: Mapping[str, BillApprovalState], *,
             user_id: str, roles: frozenset[Role], policy: PolicySettings,
             options: list[BankAccountOption], base_currency: str | None) -> Plan:
    """Approved bills this payer may pay now; approved ones they may not, with the reason.
    Bills still awaiting approval (or rejected) are not a pay run's business: not listed."""
    offered: list[Bill] = []
    not_offered: list[NotOffered] = []
    accounts: dict[str, list[BankAccountOption]] = {}
    for bill in sorted(bills, key=lambda b: b.due_date):
        state = states.get(bill.id)
        if state is None or not state.is_approved or state.lapsed:
            continue
        reason = why_not_payable(bill, state, user_id=user_id, policy=policy, roles=roles)
        if state.held is not None:  # the question is shown; who asked is in the bill's thread
            reason = f"on hold: “{state.held.question}”"
        currency = bill.currency.upper()
        if reason is None and currency not in accounts:
            accounts[currency] = payment_accounts(options, bill, base_currency)
        if reason is None and not accounts[currency]:
            reason = (f"There is no active bank account in {currency} or the company's base "
                      "currency to pay it from.")
        if reason:
            not_offered.append(NotOffered(bill, reason))
        else:
            offered.append(bill)
    more = max(0, len(offered) - MAX_RUN_BILLS)
    offered = offered[:MAX_RUN_BILLS]  # the most urgent
    offered.sort(key=lambda b: (b.currency.upper(), supplier_of(b).casefold(), b.due_date,
                                b.reference or b.id))
    used = {b.currency.upper() for b in offered}
    return Plan(offered, not_offered, {c: a for c, a in accounts.items() if c in used}, more)


def issued_after(bill_issue: date, paid_on: date) -> str | None:
    """A bill issued after the run's date is not payable on it (Codat refuses it)."""
    if bill_issue > paid_on:
        return (f"Issued {bill_issue.isoformat()}, after the run's date "
                f"{paid_on.isoformat()}; it cannot be paid on that date.")
    return None


__all__ = ["MAX_RUN_BILLS", "NotOffered", "Plan", "issued_after", "plan_run", "supplier_of"]
