"""What a bill's row shows besides the bill itself: approvals, rejection, payments.
A plain view model so the Block Kit builders depend on neither storage nor services
(slackapp/rows.py reads it from the services).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from billbot.money import both_amounts


class PaymentState(StrEnum):
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class PaymentSummary:
    state: PaymentState
    amount: Decimal
    currency: str
    payer_id: str
    at: datetime | None = None
    reason: str | None = None  # why it failed, in Codat's words
    currency_rate: Decimal | None = None  # a foreign-currency payment's rate
    base_currency: str | None = None

    @property
    def shown(self) -> str:
        """The amount as the row shows it: both amounts for a foreign-currency payment."""
        return both_amounts(self.amount, self.currency, self.currency_rate, self.base_currency)


@dataclass(frozen=True)
class RowState:
    approvers: tuple[str, ...] = ()
    needed: int = 1
    rejected_by: str | None = None
    reject_reason: str | None = None
    paid_in_round: Decimal = Decimal(0)
    last_payment: PaymentSummary | None = None
    payments: tuple[PaymentSummary, ...] = field(default_factory=tuple)
    held_by: str | None = None  # a hold with a question stops Approve and Pay
    hold_question: str | None = None
    editable: bool = False  # created in billbot: the row offers Edit (slackapp/edit_flow.py)

    @property
    def approved(self) -> bool:
        return self.rejected_by is None and len(self.approvers) >= self.needed

    @property
    def payment_in_progress(self) -> bool:
        return self.last_payment is not None and self.last_payment.state is PaymentState.IN_PROGRESS
