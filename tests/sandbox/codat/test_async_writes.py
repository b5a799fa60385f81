"""Async writes other than payments: bills (create, update, delete, attachments), credit
notes, suppliers, accounts, bank accounts, journals and journal entries, and every options
model; each a push operation whose change shows in the data after the next sync."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from billbot.clock import FixedClock
from billbot.sandbox.codat import SandboxState
from tests.sandbox.codat.conftest import Api
from tests.sandbox.codat.helpers import assert_error
from tests.support.codat_async import AsyncApi

OPEN_BILL = "7110700016"  # Open, GBP 540.00, Harbour Cleaning, no payments
PARTLY_PAID = "7110700009"


def new_bill(**changes: Any) -> dict[str, Any]:
    bill = {"supplierRef": {"id": "4105"}, "reference": "NEW-1",
            "issueDate": "2025-01-02T00:00:00", "dueDate": "2025-02-01T00:00:00",
            "currency": "GBP", "status": "Open", "subTotal": 100, "taxAmount": 20,
            "totalAmount": 120,
            "lineItems": [{"description": "Mops", "unitAmount": 100, "quantity": 1,
                           "taxAmount": 20, "totalAmount": 120,
                           "accountRef": {"id": "x"}}]}
    bill.update(changes)
    return bill


def created_id(async_api: AsyncApi, operation: dict[str, Any]) -> str:
    done = async_api.settle(operation["pushOperationKey"])
    assert done["status"] == "Success", done
    return str(done["changes"][0]["recordRef"]["id"])


def test_a_bill_is_created_updated_and_deleted(async_api: AsyncApi, state: SandboxState,
                                               clock: FixedClock) -> None:
    created = async_api.push("bills", new_bill())
    assert created["status"] == "Pending" and created["data"]["reference"] == "NEW-1"
    bill_id = created_id(async_api, created)
    assert async_api.data("bills", bill_id).status_code == 404  # not synced yet
    async_api.sync()
    read = async_api.record("bills", bill_id)
    assert read["totalAmount"] == 120 and read["amountDue"] == 120
    update = new_bill(reference="NEW-1b", sourceModifiedDate=read["sourceModifiedDate"])
    clock.set(clock.now() + timedelta(minutes=1))  # the update is a later change
    assert created_id(async_api, async_api.push("bills", update, method="PUT",
                                                record_id=bill_id)) == bill_id
    assert state.bill(bill_id)["reference"] == "NEW-1b"
    stale = async_api.push("bills", update, method="PUT", record_id=bill_id)
    refused = async_api.settle(stale["pushOperationKey"])
    assert refused["status"] == "Failed" and "forceUpdate" in refused["validation"][
        "errors"][0]["message"]
    forced = async_api.push("bills", update, method="PUT", record_id=bill_id,
                            forceUpdate="true")
    assert async_api.settle(forced["pushOperationKey"])["status"] == "Success"
    deleted = async_api.push("bills", method="DELETE", record_id=bill_id)
    assert async_api.settle(deleted["pushOperationKey"])["changes"][0]["type"] == "Deleted"
    async_api.sync()
    assert async_api.record("bills", bill_id)["metadata"]["isDeleted"] is True


def test_bill_writes_the_books_refuse(async_api: AsyncApi) -> None:
    bad = async_api.push("bills", new_bill(status="Paid", supplierRef={"id": "nobody"}))
    assert bad["status"] == "Failed"
    assert {"Status must be equal to Open.", "Supplier nobody does not exist."} <= {
        e["message"] for e in bad["validation"]["errors"]}
    paid = async_api.push("bills", method="DELETE", record_id=PARTLY_PAID)
    assert "delete them first" in async_api.settle(paid["pushOperationKey"])[
        "validation"]["errors"][0]["message"]
    missing = async_api.push("bills", new_bill(), method="PUT", record_id="nope")
    assert async_api.settle(missing["pushOperationKey"])["statusCode"] == 404
    response = async_api.client.post(f"{async_api.connection}/push/bills",
                                     json={"issueDate": "2025-01-01"})
    assert_error(response, 400)  # the spec's required totals are missing: no operation


def test_attachments_upload_read_download_and_delete(async_api: AsyncApi) -> None:
    base = f"{async_api.connection}/push/bills/{OPEN_BILL}/attachments"
    uploaded = async_api.client.post(base, files={"file": ("note.txt", b"paid", "text/plain")})
    assert uploaded.status_code == 200 and uploaded.content == b""
    reads = f"{async_api.connection}/data/bills/{OPEN_BILL}/attachments"
    listed = async_api.client.get(reads).json()["attachments"]
    mine = next(a for a in listed if a["name"] == "note.txt")
    assert async_api.client.get(f"{reads}/{mine['id']}").json()["fileSize"] == 4
    assert async_api.client.get(f"{reads}/{mine['id']}/download").content == b"paid"
    removed = async_api.push(f"bills/{OPEN_BILL}/attachments", method="DELETE",
                             record_id=mine["id"])
    done = async_api.settle(removed["pushOperationKey"])
    assert done["changes"][0]["attachmentId"] == mine["id"]
    assert_error(async_api.client.get(f"{reads}/{mine['id']}"), 404)
    assert_error(async_api.client.post(base, files={"other": ("x", b"x")}), 400)


def credit_note(**changes: Any) -> dict[str, Any]:
    note = {"billCreditNoteNumber": "CN-NEW", "supplierRef": {"id": "4105"},
            "totalAmount": 24, "totalDiscount": 0, "subTotal": 20, "totalTaxAmount": 4,
            "discountPercentage": 0, "status": "Submitted", "issueDate": "2025-01-08T00:00:00",
            "currency": "GBP", "lineItems": [{"description": "Refund", "unitAmount": 20,
                                              "quantity": 1, "taxAmount": 4,
                                              "totalAmount": 24}]}
    note.update(changes)
    return note


def test_credit_notes_are_created_and_updated(async_api: AsyncApi,
                                              state: SandboxState) -> None:
    note_id = created_id(async_api, async_api.push("billCreditNotes", credit_note()))
    assert state.main_ledger.credit_notes[note_id]["remainingCredit"] == 24
    updated = async_api.push("billCreditNotes", credit_note(billCreditNoteNumber="CN-NEW2"),
                             method="PUT", record_id=note_id)
    assert created_id(async_api, updated) == note_id
    async_api.sync()
    assert async_api.record("billCreditNotes", note_id)["billCreditNoteNumber"] == "CN-NEW2"
    refused = async_api.push("billCreditNotes", credit_note(status="Paid"))
    assert refused["status"] == "Failed"


def test_suppliers_are_created_and_updated(async_api: AsyncApi, state: SandboxState) -> None:
    supplier = {"supplierName": "Fresh Flowers Ltd", "status": "Active",
                "defaultCurrency": "GBP"}
    supplier_id = created_id(async_api, async_api.push("suppliers", supplier))
    updated = async_api.push("suppliers", {**supplier, "emailAddress": "hi@flowers.example"},
                             method="PUT", record_id=supplier_id)
    created_id(async_api, updated)
    assert state.main_ledger.suppliers[supplier_id]["emailAddress"] == "hi@flowers.example"
    clash = async_api.push("suppliers", supplier)  # Xero: names are unique
    assert clash["status"] == "Failed"
    archived = async_api.push("suppliers", {"supplierName": "Old Mill", "status": "Active"},
                              method="PUT", record_id="4109")
    assert async_api.settle(archived["pushOperationKey"])["status"] == "Failed"


def test_accounts_and_bank_accounts_are_created(api: Api, async_api: AsyncApi) -> None:
    account = {"name": "BillPay Clearing", "nominalCode": "615",
               "fullyQualifiedCategory": "Asset.Current", "type": "Asset", "currency": "GBP",
               "status": "Active"}
    account_id = created_id(async_api, async_api.push("accounts", account))
    bank = {"accountName": "BillPay Debit Account", "accountType": "Debit",
            "accountNumber": "80088008", "currency": "USD", "balance": 0}
    bank_id = created_id(async_api, async_api.push("bankAccounts", bank))
    async_api.sync()
    assert async_api.record("accounts", account_id)["isBankAccount"] is False
    banks = async_api.results("accounts", query="isBankAccount=true&&currency=USD")
    assert bank_id in {a["id"] for a in banks}
    assert bank_id in {a["id"] for a in api.client.get(
        f"{api.payables}/mappingOptions/payments").json()["bankAccounts"]}  # the sync API too
    refused = async_api.client.post(f"{async_api.connection}/push/bankAccounts",
                                    json={**bank, "accountType": "Savings"})
    assert_error(refused, 400)  # not in the spec's enum: refused, no push operation


def test_journals_and_balanced_journal_entries(async_api: AsyncApi,
                                               state: SandboxState) -> None:
    journal_id = created_id(async_api, async_api.push("journals", {"name": "Accruals",
                                                                   "journalCode": "ACR"}))
    accounts = list(state.main_ledger.accounts)
    lines: list[dict[str, Any]] = [{"netAmount": 50, "accountRef": {"id": accounts[1]}},
                                   {"netAmount": -50, "accountRef": {"id": accounts[0]}}]
    entry = {"postedOn": "2025-01-08T00:00:00", "journalRef": {"id": journal_id},
             "description": "Accrue cleaning", "journalLines": lines}
    entry_id = created_id(async_api, async_api.push("journalEntries", entry))
    assert state.main_ledger.journal_entries[entry_id]["description"] == "Accrue cleaning"
    lines[0]["netAmount"] = 60
    unbalanced = async_api.push("journalEntries", entry)
    assert "sum to zero" in unbalanced["validation"]["errors"][0]["message"]
    async_api.sync()
    assert async_api.record("journals", journal_id)["journalCode"] == "ACR"


@pytest.mark.parametrize("data_type", ["bankAccounts", "chartOfAccounts", "bills",
                                       "billPayments", "billCreditNotes", "suppliers",
                                       "journals", "journalEntries"])
def test_every_options_model(async_api: AsyncApi, data_type: str) -> None:
    response = async_api.client.get(f"{async_api.connection}/options/{data_type}")
    assert response.status_code == 200, response.text
    model = response.json()
    assert model["type"] == "Object" and model["properties"]
    assert all("required" in prop for prop in model["properties"].values())
