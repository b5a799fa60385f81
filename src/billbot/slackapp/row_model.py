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
    recording: bool = False  # through the async API: Codat has it, the books confirm later
    credit_amount: Decimal = Decimal(0)  # of `amount`, taken off by a credit note (async)

    @property
    def shown(self) -> str:
        """The amount as the row shows it: both amounts for a foreign-currency payment."""
        return both_amounts(self.amount, self.currency, self.currency_rate, self.base_currency)

    @property
    def cash(self) -> Decimal:
        """What left the bank account: the amount less any credit note's part."""
        return self.amount - self.credit_amount

    @property
    def cash_shown(self) -> str:
        return both_amounts(self.cash, self.currency, self.currency_rate, self.base_currency)


@dataclass(frozen=True)
class UndoView:
    """The bill's last Undo payment / Delete bill request (async API)."""

    kind: str  # payment | bill
    state: str  # claimed | sent | unknown | succeeded | failed
    by: str
    reason: str
    error: str | None = None


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
    # Under an approval policy with named approvers: its chain in words (policy_lines) and
    # whether the chain is met; None/() under the old single rule.
    chain_lines: tuple[str, ...] = ()
    chain_met: bool | None = None
    warnings: tuple[str, ...] = ()  # the controls the bill met (services/controls.py)
    credit_notes: bool = False  # async API: an approved, payable row offers Apply credit note
    # Async API, shown to everyone, usable by admins (slackapp/undo_flow.py checks).
    can_undo: bool = False
    can_delete: bool = False
    undo: UndoView | None = None

    @property
    def deleted(self) -> bool:
        return self.undo is not None and self.undo.kind == "bill" \
            and self.undo.state == "succeeded"

    @property
    def approved(self) -> bool:
        if self.chain_met is not None:
            return self.rejected_by is None and self.chain_met
        return self.rejected_by is None and len(self.approvers) >= self.needed

    @property
    def payment_in_progress(self) -> bool:
        return self.last_payment is not None and self.last_payment.state is PaymentState.IN_PROGRESS
