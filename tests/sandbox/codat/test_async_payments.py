"""Bill payments through the async API: push operations that settle later, reads that show
the payment only after the next sync, allocations across bills and credit notes, failures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from billbot.sandbox.codat import FaultKind, SandboxState
from tests.sandbox.codat.conftest import Api
from tests.sandbox.codat.helpers import assert_error
from tests.support.codat_async import AsyncApi, payment

BILL = "7110700004"  # Open, GBP 480.00, Harbour Cleaning (4105)
OTHER_HARBOUR = "7110700012"  # Open, GBP 89.99, Harbour Cleaning
BLUEWAVE = "7110700006"  # Open, GBP 2340.00, Bluewave (4102)


def messages_of(error: dict[str, Any]) -> list[str]:
    return [item["message"] for item in error["validation"]["errors"]]


def gbp(api: Api) -> str:
    return api.account_id("Business Current Account")


def credit_note(state: SandboxState, number: str) -> dict[str, Any]:
    return next(n for n in state.main_ledger.credit_notes.values()
                if n["billCreditNoteNumber"] == number)


def test_a_payment_is_pending_then_success_and_shows_after_the_sync(
        api: Api, async_api: AsyncApi, state: SandboxState) -> None:
    body = payment(gbp(api), ("Bill", BILL, 480), supplier_id="4105", reference="bb-0001")
    created = async_api.push("billPayments", body)
    assert created["status"] == "Pending" and created["dataType"] == "billPayments"
    assert created["data"]["reference"] == "bb-0001"
    assert state.bill(BILL)["amountDue"] == 480  # nothing booked yet
    assert async_api.operation(created["pushOperationKey"])["status"] == "Pending"
    done = async_api.settle(created["pushOperationKey"])
    assert done["status"] == "Success" and done["statusCode"] == 200
    [change] = done["changes"]
    payment_id = change["recordRef"]["id"]
    assert change["type"] == "Created" and change["recordRef"]["dataType"] == "billPayments"
    assert state.bill(BILL)["status"] == "Paid"
    # Codat's cache still holds the bill as it was, until the next sync.
    assert async_api.record("bills", BILL)["amountDue"] == 480
    assert async_api.data("billPayments", payment_id).status_code == 404
    async_api.sync()
    bill = async_api.record("bills", BILL)
    assert bill["status"] == "Paid" and bill["amountDue"] == 0
    assert bill["paymentAllocations"][0]["payment"]["reference"] == "bb-0001"
    stored = async_api.record("billPayments", payment_id)
    assert stored["reference"] == "bb-0001" and stored["totalAmount"] == 480
    found = async_api.results("billPayments", query="reference=bb-0001")
    assert [p["id"] for p in found] == [payment_id]
    [record] = [p for p in state.payments if p.payment_id == payment_id]
    assert record.bill_id == BILL and record.reference == "bb-0001"


def test_one_payment_for_several_bills_of_a_supplier(api: Api, async_api: AsyncApi,
                                                     state: SandboxState) -> None:
    body = payment(gbp(api), ("Bill", BILL, 480), ("Bill", OTHER_HARBOUR, Decimal("50.00")),
                   supplier_id="4105", reference="bb-multi")
    done = async_api.settle(async_api.push("billPayments", body)["pushOperationKey"])
    assert done["status"] == "Success", done
    assert state.bill(BILL)["status"] == "Paid"
    assert state.bill(OTHER_HARBOUR)["status"] == "PartiallyPaid"
    assert state.bill(OTHER_HARBOUR)["amountDue"] == Decimal("39.99")
    assert sorted(p.bill_id for p in state.payments) == sorted([BILL, OTHER_HARBOUR])


def test_a_credit_note_allocated_with_a_partial_payment(api: Api, async_api: AsyncApi,
                                                        state: SandboxState) -> None:
    note = credit_note(state, "CN-0002")  # Bluewave, 120.00 unused
    body = {"supplierRef": {"id": "4102"}, "accountRef": {"id": gbp(api)},
            "totalAmount": 1000, "currency": "GBP", "date": "2025-01-08T00:00:00",
            "reference": "bb-credit",
            "lines": [{"amount": 1000, "links": [
                {"type": "Bill", "id": BLUEWAVE, "amount": -1120},
                {"type": "CreditNote", "id": note["id"], "amount": 120}]}]}
    done = async_api.settle(async_api.push("billPayments", body)["pushOperationKey"])
    assert done["status"] == "Success", done
    assert state.bill(BLUEWAVE)["amountDue"] == Decimal("1220.00")
    assert note["remainingCredit"] == 0 and note["status"] == "Paid"


def test_a_bad_body_fails_at_once_with_validation_errors(api: Api, async_api: AsyncApi,
                                                         state: SandboxState) -> None:
    body = payment(gbp(api), ("Bill", BILL, 480), supplier_id="4105")
    body["totalAmount"] = 400
    body["date"] = "last Tuesday"
    failed = async_api.push("billPayments", body)
    assert failed["status"] == "Failed" and failed["statusCode"] == 400
    messages = [e["message"] for e in failed["validation"]["errors"]]
    assert any("ISO-8601" in m for m in messages)
    assert any("must equal the sum of the line amounts" in m for m in messages)
    assert async_api.operation(failed["pushOperationKey"])["status"] == "Failed"
    # What the spec itself rejects is refused outright: no push operation.
    del body["date"]
    refused = api.client.post(f"{async_api.connection}/push/billPayments", json=body)
    assert "Date is required." in messages_of(assert_error(refused, 400))
    assert len(api.client.get(f"{async_api.company}/push").json()["results"]) == 1
    assert state.bill(BILL)["amountDue"] == 480 and state.payments == []


def test_the_books_refuse_an_overpayment_when_it_settles(api: Api, async_api: AsyncApi,
                                                         state: SandboxState) -> None:
    body = payment(gbp(api), ("Bill", BILL, Decimal("480.01")), supplier_id="4105")
    created = async_api.push("billPayments", body)
    assert created["status"] == "Pending"  # the shape is fine; the books decide later
    done = async_api.settle(created["pushOperationKey"])
    assert done["status"] == "Failed" and done["statusCode"] == 400
    assert "greater than bill" in done["validation"]["errors"][0]["message"]
    assert state.payments == [] and state.bill(BILL)["amountDue"] == 480


def test_batch_payments_across_suppliers_on_xero_only(api: Api, async_api: AsyncApi,
                                                      state: SandboxState) -> None:
    body = payment(gbp(api), ("Bill", BILL, 10), ("Bill", BLUEWAVE, 20), reference="bb-batch")
    done = async_api.settle(async_api.push("billPayments", body)["pushOperationKey"])
    assert done["status"] == "Success", done
    assert {p.bill_id for p in state.payments} == {BILL, BLUEWAVE}
    mixed = payment(gbp(api), ("Bill", BILL, 10), ("Bill", BLUEWAVE, 20), supplier_id="4105")
    refused = async_api.settle(async_api.push("billPayments", mixed)["pushOperationKey"])
    assert "must belong to the payment's supplier" in refused["validation"]["errors"][0][
        "message"]


def test_an_injected_failure_fails_the_operation_and_books_nothing(
        api: Api, async_api: AsyncApi, state: SandboxState) -> None:
    state.faults.next(FaultKind.PUSH_FAILED, path="/push/billPayments$")
    created = async_api.push("billPayments", payment(gbp(api), ("Bill", BILL, 480)))
    assert created["status"] == "Pending"
    done = async_api.settle(created["pushOperationKey"])
    assert done["status"] == "Failed" and done["errorMessage"]
    assert done["validation"]["errors"] == [] and done["changes"] == []
    assert state.payments == [] and state.bill(BILL)["status"] == "Open"
    settings = api.client.post("/_sandbox/async/settings",
                               json={"failNext": 1, "errorMessage": "Period locked"})
    assert settings.json()["failNext"] == 1
    again = async_api.settle(async_api.push("billPayments",
                                            payment(gbp(api), ("Bill", BILL, 480)))
                             ["pushOperationKey"])
    assert again["status"] == "Failed" and again["errorMessage"] == "Period locked"
    ok = async_api.settle(async_api.push("billPayments",
                                         payment(gbp(api), ("Bill", BILL, 480)))
                          ["pushOperationKey"])
    assert ok["status"] == "Success" and len(state.payments) == 1


def test_a_lost_answer_is_found_among_the_push_operations(api: Api, async_api: AsyncApi,
                                                          state: SandboxState) -> None:
    """No idempotency keys: a client that lost the answer reads the push operations."""
    state.faults.lose_response_hold_seconds = 0.2
    state.faults.next(FaultKind.LOSE_RESPONSE, path="/push/billPayments$")
    body = payment(gbp(api), ("Bill", BILL, 480), reference="bb-lost")
    with pytest.raises(httpx.TransportError):  # the connection is cut mid-answer
        api.client.post(f"{async_api.connection}/push/billPayments", json=body)
    listing = api.client.get(f"{async_api.company}/push",
                             params={"query": "dataType=billPayments"}).json()
    [operation] = listing["results"]
    done = async_api.settle(operation["pushOperationKey"])
    assert done["status"] == "Success"
    async_api.sync()
    assert [p["reference"] for p in async_api.results("billPayments",
                                                      query="reference=bb-lost")] == ["bb-lost"]


def test_429_and_5xx_faults_apply_to_async_routes(async_api: AsyncApi,
                                                  state: SandboxState) -> None:
    state.faults.next(FaultKind.RATE_LIMIT, path="/data/bills$")
    state.faults.next(FaultKind.SERVER_ERROR, path="/data/suppliers$")
    assert async_api.data("bills").status_code == 429
    assert async_api.data("bills").status_code == 200
    assert async_api.data("suppliers").status_code == 500
    assert async_api.data("suppliers").status_code == 200


def test_deleting_a_payment_reopens_its_bills(api: Api, async_api: AsyncApi,
                                              state: SandboxState) -> None:
    body = payment(gbp(api), ("Bill", BILL, 480), supplier_id="4105")
    done = async_api.settle(async_api.push("billPayments", body)["pushOperationKey"])
    payment_id = done["changes"][0]["recordRef"]["id"]
    deleted = async_api.push("billPayments", method="DELETE", record_id=payment_id)
    assert deleted["status"] == "Pending"
    finished = async_api.settle(deleted["pushOperationKey"])
    assert finished["changes"][0]["type"] == "Deleted"
    assert state.bill(BILL)["status"] == "Open" and state.bill(BILL)["amountDue"] == 480
    async_api.sync()
    assert async_api.record("billPayments", payment_id)["metadata"]["isDeleted"] is True
    missing = async_api.push("billPayments", method="DELETE", record_id="nope")
    assert async_api.settle(missing["pushOperationKey"])["statusCode"] == 404
