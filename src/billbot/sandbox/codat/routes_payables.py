"""The payables endpoints: company info, mapping options, bills, attachments, bill payments,
suppliers and bank accounts, all under /companies/{companyId}/connections/{connectionId}/payables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from billbot.sandbox.codat.errors import ApiError, bad_request
from billbot.sandbox.codat.ledger import Json, Ledger, StoredAttachment
from billbot.sandbox.codat.paging import token_page
from billbot.sandbox.codat.pipeline import Call, Reply
from billbot.sandbox.codat.query import ACCOUNT_FIELDS, BILL_FIELDS, SUPPLIER_FIELDS, FieldKind, compile_query
from billbot.sandbox.codat.rules import (
    ATTACHMENT_LIMITS,
    DEFAULT_ATTACHMENT_LIMIT,
    apply_payment,
    build_bank_account,
    build_bill,
    build_supplier,
    check_bill_updatable,
    validate_payment,
)
from billbot.sandbox.codat.state import PaymentRecord

DEFAULT_BILL_QUERY = "status=Open||status=PartiallyPaid"  # (D) the default listing
DEFAULT_STATUS_QUERY = "status=Active"  # (D) mapping options default to active records


def _ledger(call: Call) -> Ledger:
    return call.state.ledger(call.params["companyId"], call.params["connectionId"])


def _platform(call: Call) -> str:
    connection = call.state.connection(call.params["companyId"], call.params["connectionId"])
    return str(connection["platformName"])


def _bill(call: Call, ledger: Ledger) -> Json:
    bill_id = call.params["billId"]
    bill = ledger.bills.get(bill_id)
    if bill is None:
        raise ApiError(404, f"Bill {bill_id} not found")
    return bill


def _filter(items: list[Json], query: str | None, fields: Mapping[str, FieldKind],
            resource: str) -> list[Json]:
    if query is None:
        return items
    predicate = compile_query(query, fields, resource)
    return [item for item in items if predicate(item)]


def _token_list(call: Call, items: list[Json]) -> tuple[list[Json], dict[str, Any]]:
    page = token_page(len(items), call.state.page_size, call.query.get("continuationToken"))
    return items[page.start:page.stop], page.pagination()


# --- company information and mapping options -------------------------------------------------


def company_information(call: Call) -> Reply:
    ledger = _ledger(call)
    return Reply(200, {"companyName": ledger.company_name,
                       "baseCurrency": ledger.base_currency})


def bill_mapping_options(call: Call) -> Reply:
    ledger = _ledger(call)
    status_query = call.query.get("statusQuery") or DEFAULT_STATUS_QUERY
    accounts = _filter(list(ledger.accounts.values()), status_query, ACCOUNT_FIELDS, "Account")
    tax_rates = _filter(list(ledger.tax_rates.values()), status_query, ACCOUNT_FIELDS,
                        "TaxRate")
    # (A) one token pages both lists together
    page = token_page(max(len(accounts), len(tax_rates)), call.state.page_size,
                      call.query.get("continuationToken"))
    return Reply(200, {"accounts": accounts[page.start:page.stop],
                       "taxRates": tax_rates[page.start:page.stop],
                       "pagination": page.pagination()})


def payment_mapping_options(call: Call) -> Reply:
    ledger = _ledger(call)
    status_query = call.query.get("statusQuery") or DEFAULT_STATUS_QUERY
    accounts = _filter(list(ledger.bank_accounts.values()), status_query, ACCOUNT_FIELDS,
                       "BankAccount")
    results, pagination = _token_list(call, accounts)
    return Reply(200, {"bankAccounts": results, "pagination": pagination})


# --- bills -----------------------------------------------------------------------------------------


def list_bills(call: Call) -> Reply:
    ledger = _ledger(call)
    query = call.query.get("query") or DEFAULT_BILL_QUERY
    bills = _filter(list(ledger.bills.values()), query, BILL_FIELDS, "Bill")
    results, pagination = _token_list(call, bills)
    return Reply(200, {"results": results, "pagination": pagination})


def create_bill(call: Call) -> Reply:
    ledger = _ledger(call)
    state = call.state
    bill = build_bill(call.json(), ledger, bill_id=state.ids.uuid(), now_text=state.timestamp())
    ledger.bills[bill["id"]] = bill
    return Reply(201, bill)  # (D) 201 Created


def update_bill(call: Call) -> Reply:
    ledger = _ledger(call)
    current = _bill(call, ledger)
    check_bill_updatable(current)
    # (D) a full replacement: every line item is replaced
    bill = build_bill(call.json(), ledger, bill_id=current["id"],
                      now_text=call.state.timestamp())
    ledger.bills[bill["id"]] = bill
    return Reply(200, bill)


# --- attachments ----------------------------------------------------------------------------------


def upload_attachment(call: Call) -> Reply:
    ledger = _ledger(call)
    bill = _bill(call, ledger)
    upload = call.files.get("file")
    if upload is None:
        raise bad_request("A file part named 'file' is required.")  # (D)
    limit = ATTACHMENT_LIMITS.get(_platform(call), DEFAULT_ATTACHMENT_LIMIT)
    if len(upload.content) > limit:
        raise bad_request(f"The file is larger than {limit} bytes allowed.")  # (D) per platform
    state = call.state
    now = state.timestamp()
    meta: Json = {
        "id": state.ids.uuid(), "name": upload.filename,
        "contentType": upload.content_type or "application/octet-stream",
        "dateCreated": now, "fileSize": len(upload.content), "includeWhenSent": False,
        "sourceModifiedDate": now,
    }
    ledger.attachments.setdefault(bill["id"], {})[meta["id"]] = StoredAttachment(
        meta, upload.content)
    return Reply(201, meta)


def list_attachments(call: Call) -> Reply:
    ledger = _ledger(call)
    bill = _bill(call, ledger)
    stored = ledger.attachments.get(bill["id"], {})
    return Reply(200, [attachment.meta for attachment in stored.values()])  # (D) bare array


def download_attachment(call: Call) -> Reply:
    ledger = _ledger(call)
    bill = _bill(call, ledger)
    attachment_id = call.params["attachmentId"]
    stored = ledger.attachments.get(bill["id"], {}).get(attachment_id)
    if stored is None:
        raise ApiError(404, f"Attachment {attachment_id} not found")
    return Reply(200, raw=stored.content, content_type="application/octet-stream")


# --- bill payments ----------------------------------------------------------------------------------


def create_bill_payment(call: Call) -> Reply:
    ledger = _ledger(call)
    bill = _bill(call, ledger)
    body = call.json()
    amount, account, paid_on, rate = validate_payment(body, bill, ledger)
    state = call.state
    apply_payment(bill, amount, state.timestamp())
    payment_id = state.ids.uuid()
    reference = body.get("reference") if isinstance(body.get("reference"), str) else None
    state.payments.append(PaymentRecord(
        company_id=call.params["companyId"], connection_id=call.params["connectionId"],
        bill_id=bill["id"], idempotency_key=call.idempotency_key, payment_id=payment_id,
        amount=amount, currency=bill["currency"], account_id=account["id"], date=paid_on,
        reference=reference, currency_rate=rate, recorded_at=state.now()))
    # The books hold it as the async API shows it too, so either API sees the payment.
    ledger.bill_payments[payment_id] = {
        "id": payment_id, "supplierRef": dict(bill["supplierRef"]),
        "accountRef": {"id": account["id"], "name": account["name"]}, "totalAmount": amount,
        "currency": bill["currency"], "currencyRate": rate, "date": paid_on,
        "lines": [{"amount": amount, "links": [{"type": "Bill", "id": bill["id"],
                                                "amount": -amount}]}],
        "reference": reference, "metadata": {"isDeleted": False},
        "sourceModifiedDate": state.timestamp()}
    return Reply(201, {"id": payment_id, "amount": amount, "date": paid_on,
                       "reference": reference, "accountRef": {"id": account["id"]},
                       "currencyRate": rate})


# --- suppliers and bank accounts ------------------------------------------------------------------


def list_suppliers(call: Call) -> Reply:
    ledger = _ledger(call)
    # Conflict: the spec says the default is active and archived, the docs "only active";
    # the sandbox follows the spec.
    balances = ledger.supplier_balances()
    served = [ledger.supplier_view(s, balances) for s in ledger.suppliers.values()]
    suppliers = _filter(served, call.query.get("query"), SUPPLIER_FIELDS, "Supplier")
    results, pagination = _token_list(call, suppliers)
    return Reply(200, {"results": results, "pagination": pagination})


def create_supplier(call: Call) -> Reply:
    ledger = _ledger(call)
    state = call.state
    supplier = build_supplier(call.json(), ledger, supplier_id=state.ids.uuid(),
                              platform=_platform(call), now_text=state.timestamp())
    ledger.suppliers[supplier["id"]] = supplier
    return Reply(201, ledger.supplier_view(supplier))


def update_supplier(call: Call) -> Reply:
    ledger = _ledger(call)
    supplier_id = call.params["supplierId"]
    current = ledger.suppliers.get(supplier_id)
    if current is None:
        raise ApiError(404, f"Supplier {supplier_id} not found")
    platform = _platform(call)
    if platform == "Xero" and current["status"] == "Archived":
        raise bad_request("Archived suppliers cannot be updated.")  # (D) Xero
    supplier = build_supplier(call.json(), ledger, supplier_id=supplier_id, platform=platform,
                              now_text=call.state.timestamp())
    ledger.suppliers[supplier_id] = supplier
    for bill in ledger.bills.values():  # (I) bills show the supplier's current name
        if bill["supplierRef"]["id"] == supplier_id:
            bill["supplierRef"]["supplierName"] = supplier["supplierName"]
    return Reply(200, ledger.supplier_view(supplier))


def create_bank_account(call: Call) -> Reply:
    ledger = _ledger(call)
    state = call.state
    account = build_bank_account(call.json(), account_id=state.ids.uuid(),
                                 now_text=state.timestamp())
    ledger.bank_accounts[account["id"]] = account
    return Reply(201, account)


PayablesHandler = Callable[[Call], Reply]
