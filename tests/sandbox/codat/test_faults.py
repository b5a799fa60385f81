"""Fault injection: seeded 5xx, 429 with Retry-After, latency, and "commit, then lose the
response", in process (`state.faults`) and over HTTP (`POST /_sandbox/faults`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from billbot.sandbox.codat import FaultKind, Faults, SandboxState
from tests.sandbox.codat.conftest import Api
from tests.sandbox.codat.helpers import assert_error

BILL = "7110700004"


def pay_body(api: Api, amount: Any = 100) -> dict[str, Any]:
    return {"amount": amount, "date": "2025-01-08T00:00:00",
            "accountRef": {"id": api.account_id("Business Current Account")}}


def statuses(api: Api, count: int) -> list[int]:
    return [api.client.get(f"{api.payables}/info").status_code for _ in range(count)]


def test_a_share_of_500_and_503_reproducible_from_the_seed(api: Api,
                                                           state: SandboxState) -> None:
    state.faults.error_rate = 0.5
    state.faults.reseed(7)
    first = statuses(api, 40)
    state.faults.reseed(7)
    assert statuses(api, 40) == first
    assert {200, 500, 503} == set(first)


def test_errors_are_error_messages(api: Api, state: SandboxState) -> None:
    state.faults.next(FaultKind.UNAVAILABLE)
    body = assert_error(api.client.get("/companies"), 503)
    assert "temporarily offline" in body["error"]


def test_the_next_n_requests_are_rate_limited_with_retry_after(api: Api,
                                                              state: SandboxState) -> None:
    state.faults.rate_limit_next = 3
    state.faults.retry_after_seconds = 2
    responses = [api.client.get("/companies") for _ in range(4)]
    assert [r.status_code for r in responses] == [429, 429, 429, 200]
    assert all(r.headers["retry-after"] == "2" for r in responses[:3])
    assert "retry-after" not in responses[3].headers


def test_rules_fault_only_matching_paths_and_methods(api: Api, state: SandboxState) -> None:
    state.faults.next(FaultKind.SERVER_ERROR, count=2, path=r"/bills$", method="GET")
    assert api.client.get("/companies").status_code == 200
    assert api.pay(BILL, pay_body(api)).status_code == 201  # a POST to another path
    assert [api.bills().status_code for _ in range(3)] == [500, 500, 200]
    assert state.faults.rules == []


def test_lost_response_when_the_client_gives_up(api: Api, state: SandboxState) -> None:
    """The payment is applied; the client times out; a retry with the key gets the answer."""
    state.faults.lose_response_hold_seconds = 30
    state.faults.next(FaultKind.LOSE_RESPONSE, path="/payment$")
    with pytest.raises(httpx.ReadTimeout):
        api.client.post(f"{api.payables}/bills/{BILL}/payment", json=pay_body(api),
                        headers={"Idempotency-Key": "lost-1"}, timeout=0.5)
    [payment] = state.payments
    assert state.bill(BILL)["amountDue"] == 380
    retry = api.pay(BILL, pay_body(api), key="lost-1")
    assert retry.status_code == 201 and retry.json()["id"] == payment.payment_id
    assert len(state.payments) == 1
    assert [r.outcome for r in state.requests][-2:] == ["handled+lost", "replayed"]


def test_lost_response_cut_mid_answer_when_the_client_waits(api: Api,
                                                           state: SandboxState) -> None:
    state.faults.lose_response_hold_seconds = 0.05
    state.faults.lose_response_next = 1
    assert api.client.get("/companies").status_code == 200  # reads are never lost
    with pytest.raises(httpx.RemoteProtocolError):
        api.pay(BILL, pay_body(api), key="lost-2")
    assert len(state.payments) == 1
    assert api.pay(BILL, pay_body(api), key="lost-2").status_code == 201
    assert len(state.payments) == 1


def test_control_endpoints_are_never_faulted(api: Api, state: SandboxState) -> None:
    state.faults.rate_limit_rate = 1.0
    state.faults.error_rate = 1.0
    assert api.client.get("/_sandbox/payments").status_code == 200
    assert api.client.get("/companies").status_code == 429


def test_faults_over_http(api: Api, state: SandboxState) -> None:
    response = api.client.post("/_sandbox/faults", json={
        "retry_after_seconds": 5, "latency_ms": 1, "seed": 3,
        "rules": [{"kind": "rate_limit", "path": "/payment$", "count": 1},
                  {"kind": "lose_response", "path": "/suppliers$", "method": "POST"}]})
    assert response.status_code == 200
    assert response.json()["retry_after_seconds"] == 5
    assert [r["kind"] for r in response.json()["rules"]] == ["rate_limit", "lose_response"]
    limited = api.pay(BILL, pay_body(api))
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "5")
    assert api.pay(BILL, pay_body(api)).status_code == 201
    cleared = api.client.post("/_sandbox/faults", json={"clear": True}).json()
    assert cleared["rules"] == [] and cleared["latency_ms"] == 0
    bad = api.client.post("/_sandbox/faults", json={"rules": [{"kind": "gremlins"}]})
    assert_error(bad, 400)


def test_decisions_are_pure_and_seeded() -> None:
    one, two = Faults(error_rate=0.3, rate_limit_rate=0.2, seed=11), \
        Faults(error_rate=0.3, rate_limit_rate=0.2, seed=11)
    assert [one.decide("GET", "/x") for _ in range(50)] == \
        [two.decide("GET", "/x") for _ in range(50)]
    assert Faults(latency_ms=50).decide("GET", "/x").latency_ms == 50
    writes_only = Faults(lose_response_rate=1.0)
    assert not writes_only.decide("GET", "/x").lose_response
    assert writes_only.decide("POST", "/x").lose_response
