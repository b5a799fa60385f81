"""A stand-in for the two Codat calls payments make, with scripted faults.

It keeps Codat's idempotency semantics (a key's first answer is replayed; a different body
under the same key is a 422) and lets a test say what happens to each payment call:
"ok", "lost" (applied, then the answer is lost: OutcomeUnknown), "unknown" (not applied,
OutcomeUnknown), "not_sent", or a final 400 with a reason.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from billbot.codat.errors import CodatApiError, CodatNotFound, CodatNotSent, CodatOutcomeUnknown
from billbot.codat.models import (
    Bill,
    BillPayment,
    BillPaymentPrototype,
    BillStatus,
    ErrorMessage,
)


@dataclass
class PaymentCall:
    bill_id: str
    key: str
    body: dict[str, Any]


@dataclass
class FakeCodat:
    bills: dict[str, Bill] = field(default_factory=dict)
    script: list[str] = field(default_factory=list)  # one action per payment call, then "ok"
    calls: list[PaymentCall] = field(default_factory=list)
    applied: list[PaymentCall] = field(default_factory=list)
    bill_reads: int = 0
    unreadable: bool = False
    _answers: dict[str, BillPayment] = field(default_factory=dict)
    _refusals: dict[str, CodatApiError] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, bill: Bill) -> Bill:
        self.bills[bill.id] = bill
        return bill

    async def get_bill(self, company_id: str, connection_id: str, bill_id: str) -> Bill:
        self.bill_reads += 1
        if self.unreadable:
            raise CodatNotSent("connect error")
        if bill_id not in self.bills:
            raise CodatNotFound(404, ErrorMessage(statusCode=404, error="No bill"))
        return self.bills[bill_id]

    async def create_bill_payment(self, company_id: str, connection_id: str, bill_id: str,
                                  payment: BillPaymentPrototype, *,
                                  idempotency_key: str) -> BillPayment:
        call = PaymentCall(bill_id, idempotency_key, payment.to_api())
        self.calls.append(call)
        if idempotency_key in self._refusals:
            raise self._refusals[idempotency_key]
        action = self.script.pop(0) if self.script else "ok"
        if action == "not_sent":
            raise CodatNotSent("connection refused")
        if action == "unknown":
            raise CodatOutcomeUnknown("read timeout", status_code=None)
        if action.startswith("400:"):
            raise CodatApiError(400, ErrorMessage(statusCode=400, error=action[4:]))
        answer = self._answers.get(idempotency_key)
        if answer is None:
            due = self.bills[bill_id].amount_due
            if due is None or payment.amount > due:  # Codat refuses (and caches) overpayment
                error = CodatApiError(400, ErrorMessage(statusCode=400, error="Amount too high"))
                self._refusals[idempotency_key] = error
                raise error
            answer = self._apply(call, payment)
        elif answer.amount != payment.amount:
            raise CodatApiError(422, ErrorMessage(statusCode=422, error="key reused"))
        if action == "lost":
            raise CodatOutcomeUnknown("response lost after the payment was applied")
        return answer

    def pay_directly(self, bill_id: str, amount: Decimal) -> None:
        """Someone records a payment in the accounting software, outside billbot."""
        self._reduce(bill_id, amount)

    def _apply(self, call: PaymentCall, payment: BillPaymentPrototype) -> BillPayment:
        self.applied.append(call)
        self._reduce(call.bill_id, payment.amount)
        answer = BillPayment(id=f"pay-{next(self._ids)}", amount=payment.amount,
                             date=payment.date, accountRef=payment.account_ref)
        self._answers[call.key] = answer
        return answer

    def _reduce(self, bill_id: str, amount: Decimal) -> None:
        bill = self.bills[bill_id]
        assert bill.amount_due is not None
        due = bill.amount_due - amount
        self.bills[bill_id] = touched(bill, amount_due=due,
                                      status=BillStatus.PAID if due == 0
                                      else BillStatus.PARTIALLY_PAID)


def touched(bill: Bill, **changes: Any) -> Bill:
    """`bill` with `changes`, modified a minute after its last change (as the platform would
    stamp any change, a payment included)."""
    modified = bill.source_modified_date
    if modified is not None:
        changes["source_modified_date"] = modified + timedelta(minutes=1)
    return bill.model_copy(update=changes)
