"""What billbot knows about a bill's approval and payments, as plain read-only values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from billbot.domain.policy_eval import Chain, Match
from billbot.storage.tables import OPEN_INTENT_STATES, PaymentIntent


class Outcome(StrEnum):
    """How a click ended (compares equal to its string value)."""

    RECORDED = "recorded"
    ALREADY_DONE = "already_done"
    REFUSED = "refused"


@dataclass(frozen=True)
class Rejection:
    by: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Hold:
    """A question that stops approval and payment until its author or an admin releases it."""

    by: str
    question: str
    at: datetime


def held_refusal(hold: Hold, what: str) -> str:
    """What an Approve or Pay on a held bill is told (`what`: "approved", "paid")."""
    return (f"<@{hold.by}> put this bill on hold: “{hold.question}”. It cannot be {what} until "
            "they or a billbot admin release it (answer in the bill's thread); nothing was "
            "recorded.")


@dataclass(frozen=True)
class PaymentView:
    intent_id: uuid.UUID
    state: str  # created | calling | unknown | succeeded | failed
    amount: Decimal
    currency: str
    payer_id: str
    account_name: str | None
    payment_date: date
    at: datetime  # when it finished, or when it was started while still open
    reason: str | None  # Codat's reason (or billbot's) when it failed
    currency_rate: Decimal | None = None  # a foreign-currency payment's rate
    base_currency: str | None = None
    codat_api: str = "sync"  # async: in progress means "recording" (a push operation)
    credit_amount: Decimal = Decimal(0)  # of `amount`, what a credit note covered (async)

    @property
    def in_progress(self) -> bool:
        return self.state in OPEN_INTENT_STATES

    @classmethod
    def of(cls, intent: PaymentIntent) -> PaymentView:
        return cls(
            intent_id=intent.id, state=intent.state, amount=intent.amount,
            currency=intent.currency, payer_id=intent.payer_id, account_name=intent.account_name,
            payment_date=intent.payment_date, at=intent.finished_at or intent.created_at,
            reason=intent.last_error if intent.state == "failed" else None,
            currency_rate=intent.rate, base_currency=intent.base_currency,
            codat_api=intent.codat_api, credit_amount=intent.credit_amount or Decimal(0),
        )


@dataclass(frozen=True)
class BillApprovalState:
    """A bill's current approval round, as a row of the digest shows it.

    `lapsed`: the bill changed in the accounting software since the round's approvals (or
    rejection) were given, so they no longer count and are not listed.
    """

    bill_id: str
    round: int
    approvers: tuple[str, ...]
    needed: int
    rejected: Rejection | None
    paid_in_round: Decimal
    payments: tuple[PaymentView, ...]  # billbot's payments of this bill, oldest first
    lapsed: bool = False
    held: Hold | None = None
    # Delegates who clicked an approval for an approver away (`approvers` names the latter).
    acted_by: tuple[str, ...] = ()
    # The approval policy applied: the rule that decides (and why), its chain's progress.
    match: Match | None = None
    chain: Chain | None = None
    policy_version: int | None = None

    @property
    def approved_by_anyone(self) -> tuple[str, ...]:
        """Everyone an approval of this round involves: separation of duties counts them all."""
        return self.approvers + tuple(u for u in self.acted_by if u not in self.approvers)

    @property
    def is_approved(self) -> bool:
        if self.chain is not None:
            return self.rejected is None and self.chain.met
        return self.rejected is None and len(self.approvers) >= self.needed

    @property
    def last_payment(self) -> PaymentView | None:
        return self.payments[-1] if self.payments else None

    @property
    def payment_in_progress(self) -> bool:
        return any(p.in_progress for p in self.payments)


@dataclass(frozen=True)
class ApprovalResult:
    outcome: Outcome
    message: str
    state: BillApprovalState


__all__ = ["ApprovalResult", "BillApprovalState", "Hold", "Outcome", "PaymentView", "Rejection",
           "held_refusal"]
