"""Drive the sandbox's async API with Codat's official SDK for it (codat-sync-for-payables-
version-1), an independent client. Runs in `.venv-codat-v1` (the SDK's pins clash with the
product's environment), never in the product's: test_sdk_v1.py starts it.

    python drive_async_sandbox.py BASE_URL API_KEY COMPANY_ID CONNECTION_ID

It lists bills across pages, finds the bank accounts, pays two bills of one supplier in one
payment, polls the push operation to Success, syncs, reads the payment back by its
reference, records a credit note and allocates it, deletes the payment, and prints what it
saw as one JSON object. Any SDK error (including a response the SDK's models reject) exits
non-zero.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

from codat_sync_for_payables_version_1 import CodatSyncPayables  # type: ignore[import-not-found]
from codat_sync_for_payables_version_1.models import shared  # type: ignore[import-not-found]
from codat_sync_for_payables_version_1.utils import RetryConfig  # type: ignore[import-not-found]

SUPPLIER = "4105"  # Harbour Cleaning Services: two open GBP bills
BILLS = ("7110700004", "7110700012")


def settle(sdk: Any, company_id: str, key: str) -> Any:
    for _ in range(10):
        operation = sdk.push_operations.get(request={"company_id": company_id,
                                                     "push_operation_key": key})
        if operation.status != shared.PushOperationStatus.PENDING:
            return operation
    raise SystemExit(f"push operation {key} still Pending")


def main(base_url: str, api_key: str, company_id: str, connection_id: str) -> dict[str, Any]:
    auth = "Basic " + base64.b64encode(api_key.encode()).decode()
    sdk = CodatSyncPayables(security=shared.Security(auth_header=auth), server_url=base_url,
                            retry_config=RetryConfig("none", None, False))
    ids = {"company_id": company_id, "connection_id": connection_id}
    seen: dict[str, Any] = {}

    bills: list[Any] = []
    page = 1
    while True:
        listing = sdk.bills.list(request={"company_id": company_id, "page": page,
                                          "page_size": 50, "query": "status=Open"})
        bills += listing.results or []
        if listing.links.next is None:
            break
        page += 1
    seen["open_bills"], seen["bill_pages"] = len(bills), page
    due = {bill.id: bill.amount_due for bill in bills if bill.id in BILLS}

    banks = sdk.accounts.list(request={"company_id": company_id,
                                       "query": "isBankAccount=true&&currency=GBP"}).results
    account = next(a for a in banks if a.name == "Business Current Account")
    model = sdk.bank_accounts.get_create_model(request=ids)
    seen["bank_currencies"] = [o.value for o in model.properties["currency"].options]

    lines = [{"amount": due[bill_id], "links": [{"type": "Bill", "id": bill_id,
                                                  "amount": -due[bill_id]}]}
             for bill_id in BILLS]
    created = sdk.bill_payments.create(request={**ids, "bill_payment": {
        "supplier_ref": {"id": SUPPLIER}, "account_ref": {"id": account.id},
        "total_amount": sum(due.values()), "currency": "GBP", "date": "2025-01-08T00:00:00",
        "reference": "sdk-v1-0001", "lines": lines}})
    seen["created_status"] = created.status.value
    done = settle(sdk, company_id, created.push_operation_key)
    seen["settled_status"] = done.status.value
    payment_id = done.changes[0].record_ref.id
    operations = sdk.push_operations.list(request={"company_id": company_id,
                                                   "query": "dataType=billPayments"})
    seen["push_operations"] = len(operations.results)

    before = sdk.bills.get(request={"company_id": company_id, "bill_id": BILLS[0]})
    sdk.manage_data.refresh_all_data_types(request={"company_id": company_id})
    after = sdk.bills.get(request={"company_id": company_id, "bill_id": BILLS[0]})
    seen["bill_status_before_sync"] = before.status.value
    seen["bill_status_after_sync"] = after.status.value
    status = sdk.manage_data.get(request={"company_id": company_id})
    seen["bills_sync_status"] = status.bills.current_status.value
    found = sdk.bill_payments.list(request={"company_id": company_id,
                                            "query": "reference=sdk-v1-0001"}).results
    seen["payment_by_reference"] = [(p.id == payment_id, p.reference) for p in found]

    note = sdk.bill_credit_notes.create(request={**ids, "bill_credit_note": {
        "bill_credit_note_number": "SDK-CN-1", "supplier_ref": {"id": "4102"},
        "total_amount": 24, "total_discount": 0, "sub_total": 20, "total_tax_amount": 4,
        "discount_percentage": 0, "status": "Submitted", "issue_date": "2025-01-08T00:00:00",
        "currency": "GBP", "line_items": [{"description": "Refund", "unit_amount": 20,
                                           "quantity": 1, "tax_amount": 4,
                                           "total_amount": 24}]}})
    note_id = settle(sdk, company_id, note.push_operation_key).changes[0].record_ref.id
    allocation = sdk.bill_payments.create(request={**ids, "bill_payment": {
        "supplier_ref": {"id": "4102"}, "account_ref": {"id": account.id},
        "total_amount": 0, "currency": "GBP", "date": "2025-01-08T00:00:00",
        "reference": "sdk-v1-credit",
        "lines": [{"amount": 0, "links": [
            {"type": "Bill", "id": "7110700006", "amount": -24},
            {"type": "CreditNote", "id": note_id, "amount": 24}]}]}})
    seen["credit_allocation"] = settle(sdk, company_id,
                                       allocation.push_operation_key).status.value
    sdk.manage_data.refresh_data_type(request={"company_id": company_id,
                                               "data_type": "billCreditNotes"})
    credit = sdk.bill_credit_notes.get(request={"company_id": company_id,
                                                "bill_credit_note_id": note_id})
    seen["credit_remaining"] = str(credit.remaining_credit)

    deleted = sdk.bill_payments.delete(request={**ids, "bill_payment_id": payment_id})
    seen["delete_status"] = settle(sdk, company_id, deleted.push_operation_key).status.value
    return seen


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5]), default=str))
