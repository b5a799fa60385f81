"""Who a bill waits on now: the approvers who have not approved it yet while it awaits
approval, the payers who may pay it once approved. Personal copies (DM cards, App Home's
"Waiting for you") show a bill to exactly these people; the server checks every click again."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings, Role, can_pay

from .bill_status import BillApprovalState
from .payability import bill_problem


class Wait(StrEnum):
    APPROVE = "approve"
    PAY = "pay"


def waits_on(bill: Bill, state: BillApprovalState, *, approvers: Collection[str],
             payers: Collection[str], policy: PolicySettings) -> dict[str, Wait]:
    """Each person the bill waits on, and for what (nobody for a rejected, held or settled
    bill: a held one waits on its question's answer, in the bill's thread)."""
    if not bill.status.payable or state.rejected is not None or state.held is not None:
        return {}
    if bill.amount_due is not None and bill.amount_due <= 0:
        return {}
    if not state.is_approved:
        return {u: Wait.APPROVE for u in sorted(asked_to_approve(state, approvers))}
    if bill_problem(bill) is not None or state.payment_in_progress:
        return {}
    return {u: Wait.PAY for u in sorted(payers)
            if can_pay(u, {Role.PAYER}, policy, state.approved_by_anyone)}


def asked_to_approve(state: BillApprovalState, approvers: Collection[str]) -> frozenset[str]:
    """Who is asked to approve now: the current step's people who have not approved yet
    (under the old single rule: every approver who has not); nobody when no rule applies."""
    chain = state.chain
    asked = chain.asked_next() if chain is not None else None
    if asked is None:
        return frozenset(u for u in approvers if u not in state.approvers)
    return asked


__all__ = ["Wait", "asked_to_approve", "waits_on"]
