"""`/_sandbox/async/` controls: settle or fail a push operation now, sync now, push delay by
polls or by time, and the periodic sync (all on the sandbox's clock, never wall time)."""

from __future__ import annotations

from datetime import timedelta

from billbot.clock import FixedClock
from billbot.sandbox.codat import SandboxState
from tests.sandbox.codat.conftest import Api
from tests.support.codat_async import AsyncApi, payment

BILL = "7110700004"  # Open, GBP 480.00


def pay(api: Api, async_api: AsyncApi, amount: int = 480) -> str:
    body = payment(api.account_id("Business Current Account"), ("Bill", BILL, amount))
    return str(async_api.push("billPayments", body)["pushOperationKey"])


def test_complete_and_fail_now(api: Api, async_api: AsyncApi, state: SandboxState) -> None:
    assert api.client.post("/_sandbox/async/settings", json={"polls": None}).status_code == 200
    key = pay(api, async_api, 100)
    assert [async_api.operation(key)["status"] for _ in range(3)] == ["Pending"] * 3
    done = api.client.post(f"/_sandbox/async/push/{key}/complete").json()
    assert done["status"] == "Success" and state.bill(BILL)["amountDue"] == 380
    other = pay(api, async_api, 100)
    failed = api.client.post(f"/_sandbox/async/push/{other}/fail",
                             json={"errorMessage": "Bank feed closed"}).json()
    assert failed["status"] == "Failed" and failed["errorMessage"] == "Bank feed closed"
    assert async_api.operation(other)["status"] == "Failed"
    assert state.bill(BILL)["amountDue"] == 380
    listed = api.client.get("/_sandbox/async/push").json()
    assert [op["status"] for op in listed] == ["Success", "Failed"]
    assert api.client.post("/_sandbox/async/push/nope/complete").status_code == 404


def test_polls_before_settling(api: Api, async_api: AsyncApi) -> None:
    api.client.post("/_sandbox/async/settings", json={"polls": 3})
    key = pay(api, async_api)
    assert [async_api.operation(key)["status"] for _ in range(4)] == [
        "Pending", "Pending", "Pending", "Success"]
    api.client.post("/_sandbox/async/settings", json={"polls": 0})
    assert async_api.operation(pay(api, async_api))["status"] == "Failed"  # already paid


def test_a_delay_on_the_sandbox_clock(api: Api, async_api: AsyncApi, state: SandboxState,
                                      clock: FixedClock) -> None:
    api.client.post("/_sandbox/async/settings", json={"polls": None, "delaySeconds": 30})
    key = pay(api, async_api)
    assert async_api.operation(key)["status"] == "Pending"
    clock.set(clock.now() + timedelta(seconds=31))
    async_api.data("bills")  # any request about the company settles what is due
    assert state.bill(BILL)["status"] == "Paid"
    assert async_api.operation(key)["completedOnUtc"] == "2025-01-08T10:00:31Z"


def test_a_timeout_in_minutes_times_the_operation_out(api: Api, async_api: AsyncApi,
                                                      state: SandboxState,
                                                      clock: FixedClock) -> None:
    api.client.post("/_sandbox/async/settings", json={"polls": None})
    body = payment(api.account_id("Business Current Account"), ("Bill", BILL, 480))
    key = async_api.push("billPayments", body, timeoutInMinutes=1)["pushOperationKey"]
    clock.set(clock.now() + timedelta(minutes=2))
    timed_out = api.client.post(f"/_sandbox/async/push/{key}/complete").json()
    assert timed_out["status"] == "TimedOut" and state.bill(BILL)["status"] == "Open"


def test_sync_now_and_the_periodic_sync(api: Api, async_api: AsyncApi, state: SandboxState,
                                        clock: FixedClock) -> None:
    async_api.settle(pay(api, async_api))
    assert async_api.record("bills", BILL)["status"] == "Open"  # the cache is behind
    pulls = api.client.post("/_sandbox/async/sync", json={"dataTypes": ["bills"]}).json()
    assert [p["dataType"] for p in pulls] == ["bills"]
    assert async_api.record("bills", BILL)["status"] == "Paid"
    settings = api.client.post("/_sandbox/async/settings",
                               json={"syncIntervalSeconds": 60}).json()
    assert settings["syncIntervalSeconds"] == 60
    state.bill("7110700012")["reference"] = "EDITED-IN-XERO"
    assert async_api.record("bills", "7110700012")["reference"] != "EDITED-IN-XERO"
    clock.set(clock.now() + timedelta(seconds=61))
    assert async_api.record("bills", "7110700012")["reference"] == "EDITED-IN-XERO"
    refused = api.client.post("/_sandbox/async/sync", json={"dataTypes": ["invoices"]})
    assert refused.status_code == 400
    assert api.client.post("/_sandbox/async/settings", json={"polls": -1}).status_code == 400
