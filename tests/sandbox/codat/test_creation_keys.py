"""Idempotency-Key on create supplier, create bill and update bill: the same key and body
replays the first answer and makes no second record; the same key with another body is 422."""

from __future__ import annotations

from typing import Any

from billbot.sandbox.codat import SandboxState
from tests.sandbox.codat.conftest import Api
from tests.sandbox.codat.helpers import assert_error


def bill_body(state: SandboxState, supplier_id: str, reference: str = "NEW-1") -> dict[str, Any]:
    ledger = state.main_ledger
    account = next(a["id"] for a in ledger.accounts.values() if a["status"] == "Active")
    return {"supplierRef": {"id": supplier_id}, "issueDate": "2026-11-20T00:00:00",
            "dueDate": "2026-12-20T00:00:00", "currency": ledger.base_currency,
            "status": "Open", "reference": reference,
            "lineItems": [{"description": "Widgets", "unitAmount": 99.5, "quantity": 2,
                           "accountRef": {"id": account}}]}


def test_create_supplier_with_the_same_key_makes_one_supplier(api: Api,
                                                              state: SandboxState) -> None:
    before = len(state.main_ledger.suppliers)
    body = {"supplierName": "Keyed Supplies", "status": "Active"}
    first = api.client.post(f"{api.payables}/suppliers", json=body,
                            headers={"Idempotency-Key": "sup-1"})
    again = api.client.post(f"{api.payables}/suppliers", json=body,
                            headers={"Idempotency-Key": "sup-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert len(state.main_ledger.suppliers) == before + 1
    other = api.client.post(f"{api.payables}/suppliers", json={**body, "supplierName": "X"},
                            headers={"Idempotency-Key": "sup-1"})
    assert_error(other, 422)


def test_create_and_update_bill_with_the_same_key_make_one_record(api: Api,
                                                                  state: SandboxState) -> None:
    supplier = next(iter(state.main_ledger.suppliers))
    before = len(state.main_ledger.bills)
    body = bill_body(state, supplier)
    first = api.client.post(f"{api.payables}/bills", json=body,
                            headers={"Idempotency-Key": "bill-1"})
    again = api.client.post(f"{api.payables}/bills", json=body,
                            headers={"Idempotency-Key": "bill-1"})
    assert first.status_code == 201 and again.content == first.content
    assert len(state.main_ledger.bills) == before + 1
    bill_id = first.json()["id"]
    assert first.json()["totalAmount"] == 199
    changed = bill_body(state, supplier, reference="NEW-1b")
    url = f"{api.payables}/bills/{bill_id}"
    updated = api.client.put(url, json=changed, headers={"Idempotency-Key": "upd-1"})
    state.main_ledger.bills[bill_id]["reference"] = "changed meanwhile"
    replay = api.client.put(url, json=changed, headers={"Idempotency-Key": "upd-1"})
    assert updated.status_code == 200 and replay.content == updated.content
    assert state.main_ledger.bills[bill_id]["reference"] == "changed meanwhile"  # not re-applied
    assert len(state.main_ledger.bills) == before + 1


def test_create_bill_names_its_missing_fields(api: Api, state: SandboxState) -> None:
    refused = api.client.post(f"{api.payables}/bills", json={"status": "Open"},
                              headers={"Idempotency-Key": "bad-1"})
    error = assert_error(refused, 400)
    messages = [item["message"] for item in error["validation"]["errors"]]
    assert "Supplier Ref Id is required." in messages
