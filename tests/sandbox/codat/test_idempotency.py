"""Idempotency-Key: replay byte for byte for 90 minutes, 422 on a different request, 409 while
in flight, 429 never stored (codat.md section 3 and rule 12)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import httpx

from billbot.clock import FixedClock
from billbot.sandbox.codat import FaultKind, SandboxState
from tests.sandbox.codat.conftest import Api
from tests.sandbox.codat.helpers import assert_error

BILL = "7110700004"  # Open, GBP 480.00


def body(api: Api, amount: Any = 100) -> dict[str, Any]:
    return {"amount": amount, "date": "2025-01-08T00:00:00",
            "accountRef": {"id": api.account_id("Business Current Account")}}


def test_same_key_and_body_replays_the_first_response_exactly(api: Api,
                                                              state: SandboxState) -> None:
    first = api.pay(BILL, body(api), key="key-1")
    again = api.pay(BILL, body(api), key="key-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert len(state.payments) == 1 and state.bill(BILL)["amountDue"] == 380
    assert [r.outcome for r in state.requests][-2:] == ["handled", "replayed"]


def test_a_replay_outlives_the_bill_being_paid(api: Api, state: SandboxState) -> None:
    """After a full payment the bill is Paid; the retry still gets the original 201."""
    first = api.pay(BILL, body(api, 480), key="full")
    assert api.pay(BILL, body(api, 480), key="full").content == first.content
    assert len(state.payments) == 1


def test_errors_are_stored_and_replayed_too(api: Api, state: SandboxState) -> None:
    refused = api.pay(BILL, body(api, 999), key="over")
    assert_error(refused, 400)
    state.bill(BILL)["amountDue"] = 1000  # even if the bill changes meanwhile
    replay = api.pay(BILL, body(api, 999), key="over")
    assert (replay.status_code, replay.content) == (400, refused.content)
    assert state.payments == []


def test_same_key_with_a_different_request_is_a_422(api: Api, state: SandboxState) -> None:
    api.pay(BILL, body(api, 100), key="key-2")
    different_amount = api.pay(BILL, body(api, 101), key="key-2")
    assert "idempotency key" in assert_error(different_amount, 422)["error"]
    different_bill = api.pay("7110700012", body(api, 100), key="key-2")
    assert_error(different_bill, 422)
    assert len(state.payments) == 1


def test_json_key_order_does_not_make_a_different_request(api: Api,
                                                          state: SandboxState) -> None:
    account = api.account_id("Business Current Account")
    path = f"{api.payables}/bills/{BILL}/payment"
    headers = {"Idempotency-Key": "order", "Content-Type": "application/json"}
    one = f'{{"amount": 5, "date": "2025-01-08", "accountRef": {{"id": "{account}"}}}}'
    two = f'{{"accountRef": {{"id": "{account}"}}, "date": "2025-01-08", "amount": 5.0}}'
    assert api.client.post(path, content=one, headers=headers).status_code == 201
    assert api.client.post(path, content=two, headers=headers).status_code == 201
    assert len(state.payments) == 1


def test_without_a_key_every_request_is_a_new_payment(api: Api, state: SandboxState) -> None:
    api.pay(BILL, body(api))
    api.pay(BILL, body(api))
    assert len(state.payments) == 2


def test_same_key_while_the_first_is_in_flight_is_a_409(api: Api,
                                                        state: SandboxState) -> None:
    state.faults.next(FaultKind.LATENCY, path="/payment$", latency_ms=2000)
    results: dict[str, httpx.Response] = {}

    def first() -> None:
        with httpx.Client(base_url=api.base_url, headers=dict(api.client.headers)) as client:
            results["first"] = client.post(f"{api.payables}/bills/{BILL}/payment",
                                           json=body(api), headers={"Idempotency-Key": "slow"})

    worker = threading.Thread(target=first)
    worker.start()
    while len(state.idempotency) == 0:  # wait until the first request holds the key
        time.sleep(0.005)
    conflict = api.pay(BILL, body(api), key="slow")
    worker.join()
    assert "in progress" in assert_error(conflict, 409)["error"]
    assert results["first"].status_code == 201
    assert api.pay(BILL, body(api), key="slow").content == results["first"].content
    assert len(state.payments) == 1


def test_a_429_is_not_stored_so_the_key_can_be_retried(api: Api, state: SandboxState) -> None:
    state.faults.next(FaultKind.RATE_LIMIT, path="/payment$")
    limited = api.pay(BILL, body(api), key="busy")
    assert_error(limited, 429)
    assert limited.headers["retry-after"] == "1"
    assert api.pay(BILL, body(api), key="busy").status_code == 201
    assert len(state.payments) == 1


def test_injected_5xx_are_not_stored_unless_asked(api: Api, state: SandboxState) -> None:
    state.faults.next(FaultKind.SERVER_ERROR, path="/payment$")
    assert_error(api.pay(BILL, body(api), key="flaky"), 500)
    assert api.pay(BILL, body(api), key="flaky").status_code == 201
    state.faults.cache_injected_errors = True  # as Codat's docs say it stores 5xx
    state.faults.next(FaultKind.UNAVAILABLE, path="/payment$")
    stored = api.pay(BILL, body(api), key="down")
    assert_error(stored, 503)
    assert api.pay(BILL, body(api), key="down").content == stored.content
    assert len(state.payments) == 1


def test_keys_expire_after_90_minutes(api: Api, state: SandboxState, clock: FixedClock) -> None:
    first = api.pay(BILL, body(api), key="old")
    clock.set(clock.now() + timedelta(minutes=89, seconds=59))
    assert api.pay(BILL, body(api), key="old").content == first.content
    clock.set(clock.now() + timedelta(seconds=1))
    assert api.pay(BILL, body(api), key="old").status_code == 201
    assert len(state.payments) == 2  # after expiry the same key pays again


def test_keys_belong_to_one_company(api: Api, state: SandboxState) -> None:
    globex = next(cid for cid, c in state.companies.items() if c["name"] == "Globex Corporation")
    [connection] = state.connections[globex]
    [checking] = [a["id"] for a in state.ledgers[(globex, connection)].bank_accounts.values()
                  if a["name"] == "Checking"]
    assert api.pay(BILL, body(api), key="shared").status_code == 201
    response = api.client.post(
        f"/companies/{globex}/connections/{connection}/payables/bills/QB-0001/payment",
        json={"amount": 10, "date": "2025-01-08T00:00:00", "accountRef": {"id": checking}},
        headers={"Idempotency-Key": "shared"})
    assert response.status_code == 201
    assert len(state.payments) == 2


def test_update_bill_takes_a_key_too(api: Api, state: SandboxState) -> None:
    update = {"supplierRef": {"id": "4105"}, "issueDate": "2024-12-09T00:00:00",
              "dueDate": "2025-01-20T00:00:00", "currency": "GBP", "status": "Open",
              "lineItems": [{"unitAmount": 400, "quantity": 1, "taxAmount": 80}]}
    path = f"{api.payables}/bills/{BILL}"
    first = api.client.put(path, json=update, headers={"Idempotency-Key": "put"})
    state.bill(BILL)["status"] = "PartiallyPaid"  # a fresh update would now be refused
    again = api.client.put(path, json=update, headers={"Idempotency-Key": "put"})
    assert (again.status_code, again.content) == (200, first.content)
