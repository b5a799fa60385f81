"""Approve all: which of the bills shown an approver may approve now (the confirmation), and
approving each confirmed bill on its own through `approvals.approve`, so every bill gets the
same checks as its own Approve button (role, dual approval with different people, rejection,
a payment in progress, a bill settled by billbot's payment, and whatever the service checks
besides) and its own audit entry.

The confirmation names each bill with a short key and the version token of the figures it
showed; a bill whose figures changed between the confirmation and the submission is refused
(and audited), so nobody approves figures they did not see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from billbot.codat.models import Bill
from billbot.domain.copies import current_figures, version_token
from billbot.domain.policy import PolicySettings

from . import approvals
from .bill_status import ApprovalResult, BillApprovalState, Outcome
from .bindings import Binding
from .roles import record_refusal

ACTION = "approve"  # the audit's action: each bulk approval is an approval like any other
KEY_CHARS = 10
TOKEN_CHARS = 8
# Bills one confirmation can carry (its signed context must fit Slack's 3,000-character
# private_metadata); more are left for a second press of Approve all.
MAX_CONFIRMED = 80


@dataclass(frozen=True)
class BulkLine:
    """One bill of the confirmation: `reason` says why it will not be approved, or None."""

    bill: Bill
    reason: str | None = None


def bill_key(bill_id: str) -> str:
    return hashlib.sha256(bill_id.encode()).hexdigest()[:KEY_CHARS]


def confirmed_token(bill: Bill) -> str:
    """The bill's key and the figures the confirmation showed, in 18 characters."""
    return bill_key(bill.id) + version_token(bill)[:TOKEN_CHARS]


def split_tokens(text: str | None) -> dict[str, str]:
    """{bill key: version token} from the confirmation's carried list."""
    pairs = (t.strip() for t in (text or "").split(","))
    return {t[:KEY_CHARS]: t[KEY_CHARS:] for t in pairs if len(t) == KEY_CHARS + TOKEN_CHARS}


def skip_reason(bill: Bill, state: BillApprovalState, user_id: str) -> str | None:
    """Why Approve all leaves this bill out for this approver, or None to approve it."""
    if not bill.status.payable:
        return f"it is {bill.status.value}: nothing to approve"
    if state.payment_in_progress:
        return "a payment of it is in progress"
    if state.held is not None:
        return f"<@{state.held.by}> put it on hold (see its row)"
    if state.rejected is not None:
        return f"<@{state.rejected.by}> rejected it; it waits for that to be withdrawn"
    if user_id in state.approvers:
        return "you have already approved it"
    if state.is_approved:
        return "it is already approved"
    return None


def preview(session: Session, *, bills: Sequence[Bill], binding: Binding, user_id: str,
            policy: PolicySettings) -> list[BulkLine]:
    """Every bill shown, with why it will not be approved (read only; nothing recorded)."""
    states = approvals.states_of(session, bills=bills, binding=binding, policy=policy)
    return [BulkLine(bill, skip_reason(bill, states[bill.id], user_id)) for bill in bills]


def totals(bills: Iterable[Bill]) -> tuple[dict[str, Decimal], int]:
    """Amount due per currency, and how many bills have no known amount due."""
    sums: dict[str, Decimal] = {}
    unknown = 0
    for bill in bills:
        if bill.amount_due is None:
            unknown += 1
            continue
        currency = bill.currency.upper()
        sums[currency] = sums.get(currency, Decimal(0)) + bill.amount_due
    return sums, unknown


def changed_since_confirmed(bill: Bill) -> str:
    return (f"it changed in the books after the list was shown (it now reads: "
            f"{current_figures(bill)}); approve it on its row")


def approve_confirmed(session: Session, *, bill: Bill, token: str, binding: Binding,
                      user_id: str, request_id: str | None, policy: PolicySettings,
                      at: datetime) -> ApprovalResult:
    """Approve one confirmed bill, unless its figures differ from what the confirmation
    showed (refused and audited)."""
    if version_token(bill)[:TOKEN_CHARS] != token:
        reason = changed_since_confirmed(bill)
        record_refusal(session, actor=user_id, action=ACTION, request_id=request_id, at=at,
                       reason="the bill changed after Approve all listed it",
                       company_id=binding.company_id, connection_id=binding.connection_id,
                       bill_id=bill.id)
        state = approvals.state_of(session, bill=bill, binding=binding, policy=policy)
        return ApprovalResult(Outcome.REFUSED, reason, state)
    return approvals.approve(session, bill=bill, binding=binding, user_id=user_id,
                             request_id=request_id, policy=policy, at=at)


__all__ = ["MAX_CONFIRMED", "BulkLine", "approve_confirmed", "bill_key", "confirmed_token",
           "preview", "skip_reason", "split_tokens", "totals"]
