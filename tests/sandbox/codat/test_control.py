"""`/_sandbox/` control endpoints: what happened, bookkeeper edits, reset."""

from __future__ import annotations

from billbot.sandbox.codat import SandboxState
from tests.sandbox.codat.conftest import Api
from tests.sandbox.codat.helpers import assert_error


def test_payments_are_listed(api: Api) -> None:
    account = api.account_id("USD Operating Account")
    api.pay("7110700002", {"amount": 1200.5, "date": "2025-01-08T00:00:00",
                           "accountRef": {"id": account}}, key="k")
    [payment] = api.client.get("/_sandbox/payments").json()
    assert payment["billId"] == "7110700002" and payment["amount"] == 1200.5
    assert (payment["currency"], payment["accountId"], payment["idempotencyKey"]) == (
        "USD", account, "k")


def test_bills_of_every_status_are_listed(api: Api, state: SandboxState) -> None:
    bills = api.client.get("/_sandbox/bills").json()
    assert len(bills) == len(state.main_ledger.bills)
    assert {"Open", "PartiallyPaid", "Paid", "Void", "Draft"} == {b["status"] for b in bills}


def test_a_bookkeeper_edits_a_bill(api: Api, state: SandboxState) -> None:
    edited = api.client.patch("/_sandbox/bills/7110700004", json={
        "amountDue": "400.00", "totalAmount": 400, "dueDate": "2025-01-20", "supplierId": "4101"})
    assert edited.status_code == 200
    bill = state.bill("7110700004")
    assert (bill["amountDue"], bill["dueDate"], bill["supplierRef"]["id"]) == (
        400, "2025-01-20T00:00:00", "4101")
    assert bill["sourceModifiedDate"] == "2025-01-08T10:00:00Z"
    listed = next(b for b in api.all_bills() if b["id"] == "7110700004")
    assert listed["amountDue"] == 400
    api.client.patch("/_sandbox/bills/7110700004", json={"status": "Void"})
    assert "7110700004" not in {b["id"] for b in api.all_bills()}
    assert_error(api.client.patch("/_sandbox/bills/7110700004", json={"colour": "red"}), 400)
    assert_error(api.client.patch("/_sandbox/bills/nope", json={"status": "Open"}), 404)


def test_a_bookkeeper_deletes_a_bill(api: Api, state: SandboxState) -> None:
    """A deleted bill leaves every list, whatever the query; a second delete is a 404."""
    assert api.client.delete("/_sandbox/bills/7110700004").status_code == 204
    assert "7110700004" not in state.main_ledger.bills
    assert "7110700004" not in {b["id"] for b in api.all_bills()}
    assert_error(api.client.delete("/_sandbox/bills/7110700004"), 404)


def test_reset_reseeds_and_forgets(api: Api, state: SandboxState) -> None:
    api.pay("7110700004", {"amount": 1, "date": "2025-01-08T00:00:00",
                           "accountRef": {"id": api.account_id("Business Current Account")}})
    info = api.client.post("/_sandbox/reset", json={"bills": 5, "pageSize": 2}).json()
    assert info["companyId"] == state.main_company_id and info["pageSize"] == 2
    assert state.payments == [] and len(api.all_bills()) == 5
    assert state.bill("7110700004")["amountDue"] == 480
    assert_error(api.client.post("/_sandbox/reset", json={"bills": "many"}), 400)


def test_requests_record_codat_calls_only(api: Api) -> None:
    api.client.get("/companies")
    api.client.get("/_sandbox/payments")
    recorded = api.client.get("/_sandbox/requests").json()
    assert [(r["method"], r["path"], r["status"]) for r in recorded] == [
        ("GET", "/companies", 200)]
    assert api.client.get("/_sandbox/info").json()["today"] == "2025-01-08"
