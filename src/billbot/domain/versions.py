"""The version of a bill an approval covers, and whether that approval still holds.

An approval lapses when the bill changes in the accounting software: its total, due date,
currency or supplier, or an amount due that billbot's own payments do not explain.
`sourceModifiedDate` is kept for the record but does not decide anything: recording a
payment bumps it, and billbot's own partial payments must not void the approval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from billbot.codat.models import Bill

from .policy_eval import BillFacts


@dataclass(frozen=True)
class BillVersion:
    total_amount: Decimal | None
    amount_due: Decimal | None
    due_date: date
    currency: str
    supplier_id: str
    source_modified_date: datetime | None = None
    # What the approval policy's conditions look at (rate, supplier name, lines' accounts), as
    # read with this version; not part of what an approval covers.
    facts: BillFacts | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, bill: Bill) -> BillVersion:
        return cls(
            total_amount=bill.total_amount,
            amount_due=bill.amount_due,
            due_date=bill.due_date,
            currency=bill.currency.upper(),
            supplier_id=bill.supplier_ref.id,
            source_modified_date=bill.source_modified_date,
            facts=BillFacts.of(bill),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-safe snapshot (money as exact strings) for approvals, intents and the audit."""
        return {
            "totalAmount": _text(self.total_amount),
            "amountDue": _text(self.amount_due),
            "dueDate": self.due_date.isoformat(),
            "currency": self.currency,
            "supplierId": self.supplier_id,
            "sourceModifiedDate": (
                self.source_modified_date.isoformat() if self.source_modified_date else None
            ),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BillVersion:
        modified = data.get("sourceModifiedDate")
        return cls(
            total_amount=_money(data.get("totalAmount")),
            amount_due=_money(data.get("amountDue")),
            due_date=date.fromisoformat(data["dueDate"]),
            currency=data["currency"],
            supplier_id=data["supplierId"],
            source_modified_date=datetime.fromisoformat(modified) if modified else None,
        )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def same_terms(baseline: BillVersion, current: BillVersion) -> bool:
    """Total, due date, currency and supplier unchanged (amount due is judged separately)."""
    return (
        baseline.total_amount == current.total_amount
        and baseline.due_date == current.due_date
        and baseline.currency.upper() == current.currency.upper()
        and baseline.supplier_id == current.supplier_id
    )


def approval_still_valid(
    baseline: BillVersion, paid_in_round: Decimal, current: BillVersion
) -> bool:
    """True while the bill is the one approved, less billbot's own recorded payments."""
    if not same_terms(baseline, current):
        return False
    if baseline.amount_due is None or current.amount_due is None:
        return baseline.amount_due is None and current.amount_due is None and not paid_in_round
    return current.amount_due == baseline.amount_due - paid_in_round


__all__ = ["BillVersion", "approval_still_valid", "same_terms"]
