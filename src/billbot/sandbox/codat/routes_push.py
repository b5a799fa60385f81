"""The async API's writes as push operations, and reading those operations back.

Every write answers 200 with a PushOperation (plus `data` on creates and updates): Pending
when its body passed the shape checks, Failed at once with `validation.errors` when not.
The books change only when the operation settles (see `push.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billbot.sandbox.codat.errors import ApiError
from billbot.sandbox.codat.ledger import Json, Ledger
from billbot.sandbox.codat.options import model
from billbot.sandbox.codat.pipeline import Call, Reply
from billbot.sandbox.codat.push import PushRecord, fail_on_arrival, new_operation
from billbot.sandbox.codat.query import FieldKind
from billbot.sandbox.codat.routes_data import paged
from billbot.sandbox.codat.rules_payments import (
    apply_payment,
    check_schema,
    check_shape,
    delete_payment,
)
from billbot.sandbox.codat.state import PaymentRecord

PUSH_FIELDS = {"pushOperationKey": FieldKind.STRING, "dataType": FieldKind.STRING,
               "status": FieldKind.STRING, "requestedOnUtc": FieldKind.DATE,
               "completedOnUtc": FieldKind.DATE, "dataConnectionKey": FieldKind.STRING,
               "statusCode": FieldKind.NUMBER}


def ledger_of(call: Call) -> Ledger:
    return call.state.ledger(call.params["companyId"], call.params["connectionId"])


def platform_of(call: Call) -> str:
    connection = call.state.connection(call.params["companyId"], call.params["connectionId"])
    return str(connection["platformName"])


def _timeout(call: Call) -> int | None:
    raw = call.query.get("timeoutInMinutes")
    if raw is None:
        return None
    try:
        minutes = int(raw)
    except ValueError:
        raise ApiError(400, "timeoutInMinutes must be an integer.") from None
    if minutes < 1:
        raise ApiError(400, "timeoutInMinutes must be at least 1.")
    return minutes


def start_push(call: Call, data_type: str, build: Callable[[], Callable[[], list[Json]]],
               data: Any = None) -> Reply:
    """Create a push operation for this request.

    `build` checks the body's shape (raising a 400 ApiError) and returns what applies the
    write when the operation settles. A shape error makes the operation Failed at once.
    """
    state = call.state
    company_id, connection_id = call.params["companyId"], call.params["connectionId"]
    ledger_of(call)  # 404 / 403 for an unknown or unlinked connection
    now = state.now()
    operation = new_operation(key=state.async_ids.uuid(), company_id=company_id,
                              connection_id=connection_id, data_type=data_type, now=now,
                              timeout_minutes=_timeout(call))
    record = PushRecord(operation=operation, requested=now, apply=None,
                        data=data if isinstance(data, dict) else None)
    try:
        record.apply = build()
    except ApiError as error:
        if error.status != 400:
            raise
        fail_on_arrival(operation, error, now)
    settings = state.pushes.settings
    if record.apply is not None and (call.push_fails or settings.fail_next > 0):
        if not call.push_fails:
            settings.fail_next -= 1
        record.fail_with = settings.error_message
    state.pushes.add(company_id, record)
    return Reply(200, _answer(record))


def _answer(record: PushRecord) -> Json:
    answer = dict(record.operation)
    if record.data is not None:
        answer["data"] = record.data
    return answer


# --- reading push operations --------------------------------------------------------------------


def list_push_operations(call: Call) -> Reply:
    state = call.state
    company_id = call.params["companyId"]
    state.company(company_id)
    now = state.now()
    state.pushes.settle_due(company_id, now)
    records = list(state.pushes.of(company_id).values())
    operations = [state.pushes.poll(record, now) for record in reversed(records)]
    return paged(call, operations, PUSH_FIELDS, "PushOperation")


def get_push_operation(call: Call) -> Reply:
    state = call.state
    company_id = call.params["companyId"]
    state.company(company_id)
    record = state.pushes.find(company_id, call.params["pushOperationKey"])
    return Reply(200, state.pushes.poll(record, state.now()))


# --- bill payments ------------------------------------------------------------------------------------


def create_bill_payment(call: Call) -> Reply:
    state = call.state
    body = check_schema(call.json())  # a body the spec rejects is refused outright

    def build() -> Callable[[], list[Json]]:
        proto = check_shape(body)
        ledger, platform = ledger_of(call), platform_of(call)

        def apply() -> list[Json]:
            payment_id = state.async_ids.uuid()
            stored = apply_payment(ledger, proto, payment_id=payment_id, platform=platform,
                                   now_text=state.timestamp())
            _record_payments(call, stored)
            return [{"type": "Created",
                     "recordRef": {"id": payment_id, "dataType": "billPayments"}}]

        return apply

    return start_push(call, "billPayments", build, body)


def _record_payments(call: Call, payment: Json) -> None:
    """One PaymentRecord per bill the payment allocates to (what `/_sandbox/payments` lists)."""
    state = call.state
    for line in payment["lines"]:
        for link in line["links"]:
            if link["type"] != "Bill":
                continue
            state.payments.append(PaymentRecord(
                company_id=call.params["companyId"], connection_id=call.params["connectionId"],
                bill_id=link["id"], idempotency_key=None, payment_id=payment["id"],
                amount=-link["amount"], currency=payment["currency"],
                account_id=payment["accountRef"]["id"], date=payment["date"],
                reference=payment.get("reference"), currency_rate=payment.get("currencyRate"),
                recorded_at=state.now()))


def delete_bill_payment(call: Call) -> Reply:
    state = call.state
    payment_id = call.params["billPaymentId"]

    def build() -> Callable[[], list[Json]]:
        ledger = ledger_of(call)

        def apply() -> list[Json]:
            delete_payment(ledger, payment_id, state.timestamp())
            return [{"type": "Deleted",
                     "recordRef": {"id": payment_id, "dataType": "billPayments"}}]

        return apply

    return start_push(call, "billPayments", build)


# --- options models --------------------------------------------------------------------------------


def options_model(data_type: str) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        return Reply(200, model(data_type, ledger_of(call), platform_of(call)))

    return handler
