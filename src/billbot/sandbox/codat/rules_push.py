"""Write rules for the async API's records other than bill payments (see `rules_payments.py`):
bills, bill credit notes, accounts, bank accounts, journals and journal entries.

`schema(...)` is what the spec's schema requires (broken: a 400 ErrorMessage, no push
operation). The `build_*` functions are the platform's rules (broken: the push operation is
Failed with `validation.errors`). Marks: documented (D), inferred (I), assumed (A).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billbot.sandbox.codat.books import bill_view
from billbot.sandbox.codat.errors import bad_request
from billbot.sandbox.codat.jsonio import as_decimal
from billbot.sandbox.codat.ledger import Json, Ledger
from billbot.sandbox.codat.query import parse_instant
from billbot.sandbox.codat.rules import (
    ACCOUNT_TYPES,
    Problems,
    build_bank_account,
    build_bill,
    require_object,
)

CREDIT_NOTE_STATUSES = ("Draft", "Submitted")  # (A) what a new credit note may be
ACCOUNT_KINDS = ("Unknown", "Asset", "Expense", "Income", "Liability", "Equity")
_KINDS = {"string": str, "object": dict, "array": list, "boolean": bool}


def schema(body: Any, required: tuple[str, ...] = (), *,
           choices: dict[str, tuple[str, ...]] | None = None, **kinds: str) -> Json:
    """A JSON object with `required` present, each named property of its kind (or null) and
    each of `choices` one of its enum's values.

    Kinds: string, number, object, array, boolean.
    """
    proto = require_object(body)
    problems = Problems()
    for name, allowed in (choices or {}).items():
        if proto.get(name) is not None and proto[name] not in allowed:
            problems.add(f"{name} must be one of {', '.join(allowed)}.")
    for name in required:
        if proto.get(name) is None:
            problems.add(f"{name} is required.")
    for name, kind in kinds.items():
        value = proto.get(name)
        if value is None:
            continue
        ok = as_decimal(value) is not None if kind == "number" else (
            isinstance(value, _KINDS[kind]) and not (kind != "boolean" and isinstance(value, bool)))
        if not ok:
            problems.add(f"{name} must be a {kind}.")
    problems.raise_if_any()
    return proto


BILL_REQUIRED = ("issueDate", "status", "subTotal", "taxAmount", "totalAmount")
BILL_KINDS = {"issueDate": "string", "dueDate": "string", "status": "string",
                         "subTotal": "number", "taxAmount": "number", "totalAmount": "number",
                         "supplierRef": "object", "lineItems": "array", "currency": "string",
                         "reference": "string", "sourceModifiedDate": "string"}
CREDIT_NOTE_REQUIRED = ("totalAmount", "totalDiscount", "subTotal", "totalTaxAmount",
                        "discountPercentage", "status")
CREDIT_NOTE_KINDS = {"totalAmount": "number", "totalDiscount": "number",
                                "subTotal": "number", "totalTaxAmount": "number",
                                "discountPercentage": "number", "status": "string",
                                "supplierRef": "object", "lineItems": "array",
                                "currency": "string", "issueDate": "string",
                                "billCreditNoteNumber": "string",
                                "sourceModifiedDate": "string"}


BILL_STATUSES = ("Unknown", "Open", "PartiallyPaid", "Paid", "Void", "Draft")
CREDIT_NOTE_ENUM = ("Unknown", "Draft", "Submitted", "Paid", "Void", "PartiallyPaid")


def bill_schema(body: Any) -> Json:
    return schema(body, BILL_REQUIRED, choices={"status": BILL_STATUSES}, **BILL_KINDS)


def credit_note_schema(body: Any) -> Json:
    return schema(body, CREDIT_NOTE_REQUIRED, choices={"status": CREDIT_NOTE_ENUM},
                  **CREDIT_NOTE_KINDS)


def async_bill(body: Json, ledger: Ledger, *, bill_id: str, now_text: str) -> Json:
    """A Bill pushed through the async API, kept in the books' (sync) shape."""
    bill = build_bill(body, ledger, bill_id=bill_id, now_text=now_text)
    for name in ("note", "purchaseOrderRefs", "withholdingTax"):
        if body.get(name) is not None:
            bill[name] = body[name]
    return bill


def check_not_stale(current: Json, body: Json, force: bool) -> None:
    """(D, `forceUpdate`) an update built on an old copy is refused unless forced."""
    sent = body.get("sourceModifiedDate")
    if force or sent is None:
        return
    if parse_instant(str(sent)) != parse_instant(str(current.get("sourceModifiedDate"))):
        raise bad_request("The record changed in the accounting software since it was read "
                          "(sourceModifiedDate differs); pull it again or set forceUpdate.")


def delete_bill(ledger: Ledger, bill_id: str) -> None:
    bill = ledger.bills.get(bill_id)
    if bill is None:
        raise bad_request(f"Bill {bill_id} does not exist.", item_id=bill_id)
    if bill["status"] not in ("Open", "Draft") or any(
            link.get("id") == bill_id for payment in ledger.bill_payments.values()
            for line in payment.get("lines") or [] for link in line.get("links") or []):
        # (A) the platforms refuse to delete a bill with payments: delete those first
        raise bad_request(f"Bill {bill_id} has payments allocated; delete them first.",
                          item_id=bill_id)
    ledger.deleted.setdefault("bills", {})[bill_id] = bill_view(
        bill, list(ledger.bill_payments.values()))
    del ledger.bills[bill_id]
    ledger.attachments.pop(bill_id, None)


def build_credit_note(body: Json, ledger: Ledger, *, note_id: str, now_text: str) -> Json:
    problems = Problems()
    ref = body.get("supplierRef") or {}
    supplier = ledger.suppliers.get(str(ref.get("id")))
    if supplier is None:
        problems.add("Supplier Ref Id must be an existing supplier.", "supplierRef.id")
    if body["status"] not in CREDIT_NOTE_STATUSES:
        problems.add("Status must be Draft or Submitted.")
    currency = body.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        problems.add("Currency Length must be equal to 3.")
    issued = body.get("issueDate")
    if not isinstance(issued, str) or parse_instant(issued) is None:
        problems.add("Issue Date is required and must be an ISO-8601 date.")
    total = as_decimal(body["totalAmount"])
    if total is None or total <= 0:
        problems.add("Total Amount must be greater than 0.")
    problems.raise_if_any()
    assert supplier is not None and total is not None
    note = {k: v for k, v in body.items() if k not in ("id", "modifiedDate", "metadata")}
    note.update(id=note_id, remainingCredit=total, paymentAllocations=[],
                supplierRef={"id": supplier["id"], "supplierName": supplier["supplierName"]},
                sourceModifiedDate=now_text)
    return note


def check_credit_updatable(note: Json) -> None:
    if note["remainingCredit"] != note["totalAmount"]:
        # (A) an allocated credit note is locked, as a paid bill is
        raise bad_request(f"Credit note {note['id']} is allocated and cannot be updated.",
                          item_id=note["id"])


def build_account(body: Json, *, account_id: str, base: str, now_text: str) -> Json:
    problems = Problems()
    for name in ("name", "nominalCode", "fullyQualifiedCategory"):
        if not body.get(name):
            problems.add(f"{name} is required.")  # (D) Intacct example; (A) elsewhere
    if body.get("type") not in ACCOUNT_KINDS:
        problems.add(f"Type must be one of {', '.join(ACCOUNT_KINDS)}.")
    problems.raise_if_any()
    return {"id": account_id, "nominalCode": body["nominalCode"], "name": body["name"],
            "description": body.get("description"), "type": body["type"],
            "fullyQualifiedCategory": body["fullyQualifiedCategory"],
            "fullyQualifiedName": body.get("fullyQualifiedName") or body["name"],
            "currency": body.get("currency") or base,
            "status": body.get("status") or "Active", "sourceModifiedDate": now_text}


def bank_account(body: Json, *, account_id: str, now_text: str) -> Json:
    """A bank account pushed in the async shape (`accountName`), kept in the books' shape."""
    if body.get("accountType") not in ACCOUNT_TYPES:
        raise bad_request("Account Type must be Unknown, Credit or Debit.")
    account = build_bank_account({**body, "name": body.get("accountName")},
                                 account_id=account_id, now_text=now_text)
    account["balance"] = as_decimal(body.get("balance")) or Decimal(0)
    return account


def build_journal(body: Json, *, journal_id: str, now_text: str) -> Json:
    if not isinstance(body.get("name"), str) or not body["name"]:
        raise bad_request("Name is required.")
    return {"id": journal_id, "name": body["name"], "journalCode": body.get("journalCode"),
            "type": body.get("type") or "General", "hasChildren": False,
            "createdOn": now_text, "status": body.get("status") or "Active",
            "sourceModifiedDate": now_text}


def build_journal_entry(body: Json, ledger: Ledger, *, entry_id: str, now_text: str) -> Json:
    problems = Problems()
    lines = body.get("journalLines") or []
    if len(lines) < 2:
        problems.add("A journal entry needs at least two lines.")  # (I) double entry
    known = set(ledger.accounts) | set(ledger.bank_accounts)
    for index, line in enumerate(lines):
        if (line.get("accountRef") or {}).get("id") not in known:
            problems.add(f"Line {index}: accountRef must be an account of the company.")
    total = sum((as_decimal(line["netAmount"]) or Decimal(0) for line in lines), Decimal(0))
    if total != 0:
        problems.add(f"The lines' net amounts must sum to zero (they sum to {total}).")  # (D)
    journal = (body.get("journalRef") or {}).get("id")
    if journal is not None and journal not in ledger.journals:
        problems.add(f"Journal {journal} does not exist.")
    if not isinstance(body.get("postedOn"), str) or parse_instant(body["postedOn"]) is None:
        problems.add("Posted On is required and must be an ISO-8601 date.")
    problems.raise_if_any()
    return {**{k: v for k, v in body.items() if k not in ("id", "modifiedDate")},
            "id": entry_id, "createdOn": now_text, "updatedOn": now_text,
            "metadata": {"isDeleted": False}, "sourceModifiedDate": now_text}


def journal_lines_schema(body: Json) -> None:
    lines = body.get("journalLines")
    if lines is not None and not (isinstance(lines, list) and all(
            isinstance(line, dict) and as_decimal(line.get("netAmount")) is not None
            for line in lines)):
        raise bad_request("journalLines must be an array of lines with a numeric netAmount.")
