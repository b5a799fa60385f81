"""The async API's bill payments: `lines` whose `links` allocate one payment across bills
and supplier credit notes (`payables/async/payments.md`, codat.md section 4).

`check_shape` runs when the push arrives (a bad body is Failed at once); `apply_payment`
and `delete_payment` run when the push operation settles, against the books as they are
then. Each rule is marked documented (D), inferred (I) or assumed (A).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from billbot.money import minor_units
from billbot.sandbox.codat.errors import ApiError
from billbot.sandbox.codat.jsonio import as_decimal
from billbot.sandbox.codat.ledger import Json, Ledger
from billbot.sandbox.codat.query import parse_instant
from billbot.sandbox.codat.rules import PAYABLE_STATUSES, Problems, require_object

LINK_TYPES = ("Unknown", "Unlinked", "Bill", "Other", "CreditNote", "BillPayment",
              "PaymentOnAccount", "Refund", "ManualJournal", "Discount")
SUPPORTED_LINKS = ("Bill", "CreditNote")
BATCH_PLATFORMS = ("Xero",)  # (D) batch payments across suppliers: "for example, Xero"


def check_schema(body: Any) -> Json:
    """What the spec's `BillPayment` schema itself requires: a 400 ErrorMessage when broken
    (the request is refused, no push operation is created)."""
    proto = require_object(body)
    problems = Problems()
    if not isinstance(proto.get("date"), str):
        problems.add("Date is required.")  # (D) the schema's one required property
    for name in ("totalAmount", "currencyRate"):
        if proto.get(name) is not None and as_decimal(proto[name]) is None:
            problems.add(f"{name} must be a number.")
    for name in ("accountRef", "supplierRef"):
        if proto.get(name) is not None and not isinstance(proto[name], dict):
            problems.add(f"{name} must be an object.")
    lines = proto.get("lines")
    if lines is not None and (not isinstance(lines, list) or not all(
            _line_schema_ok(line) for line in lines)):
        problems.add("lines must be an array of {amount, links: [{type, id, amount}]}.")
    problems.raise_if_any()
    return proto


def _line_schema_ok(line: Any) -> bool:
    if not isinstance(line, dict) or as_decimal(line.get("amount")) is None:
        return False
    links = line.get("links")
    if links is None:
        return True
    return isinstance(links, list) and all(
        isinstance(link, dict) and link.get("type") in LINK_TYPES
        and (link.get("amount") is None or as_decimal(link["amount"]) is not None)
        for link in links)


def check_shape(body: Any) -> Json:
    """The payment's own arithmetic and required fields; raise a 400 listing every problem
    (the push operation is Failed at once with them)."""
    proto = check_schema(body)
    problems = Problems()
    date = proto.get("date")
    if not isinstance(date, str) or parse_instant(date) is None:
        problems.add("Date must be an ISO-8601 date.")  # (D)
    account = proto.get("accountRef")
    if not isinstance(account, dict) or not isinstance(account.get("id"), str) \
            or not account["id"]:
        problems.add("Account Ref Id is required.")  # (D) docs: always the paying account
    total = as_decimal(proto.get("totalAmount"))
    if total is None or total < 0:
        problems.add("Total Amount is required and must not be negative.")  # (D) positive
    lines = proto.get("lines")
    if not isinstance(lines, list) or not lines:
        problems.add("Lines must not be empty: allocate the payment to bills.")  # (A)
        lines = []
    line_sum = Decimal(0)
    for index, line in enumerate(lines):
        amount = as_decimal(line.get("amount")) if isinstance(line, dict) else None
        links = line.get("links") if isinstance(line, dict) else None
        if amount is None or not isinstance(links, list) or not links:
            problems.add(f"Line {index} needs a numeric amount and at least one link.")
            continue
        line_sum += amount
        link_sum = Decimal(0)
        for position, link in enumerate(links):
            where = f"Line {index} link {position}"
            link_amount = as_decimal(link.get("amount")) if isinstance(link, dict) else None
            if not isinstance(link, dict) or link.get("type") not in LINK_TYPES:
                problems.add(f"{where}: type must be one of {', '.join(LINK_TYPES)}.")
            elif link["type"] not in SUPPORTED_LINKS:
                problems.add(f"{where}: {link['type']} links are not supported by this "
                             "integration.")  # (A) the sandbox books bills and credit notes
            elif not isinstance(link.get("id"), str) or link_amount is None:
                problems.add(f"{where}: id and amount are required.")
            else:
                link_sum += link_amount
        if link_sum != -amount:
            # (I) every example: a line's amount is what its links take off the bills
            problems.add(f"Line {index}: amount {amount} must equal the negated sum of its "
                         f"links ({-link_sum}).")
    if total is not None and lines and line_sum != total:
        problems.add(f"Total Amount {total} must equal the sum of the line amounts "
                     f"({line_sum}).")  # (I)
    reference = proto.get("reference")
    if reference is not None and not isinstance(reference, str):
        problems.add("Reference must be a string.")
    problems.raise_if_any()
    return proto


def _links(proto: Json) -> list[tuple[str, str, Decimal]]:
    """(type, id, amount) of every link, amounts summed per record."""
    summed: dict[tuple[str, str], Decimal] = {}
    for line in proto["lines"]:
        for link in line["links"]:
            key = (link["type"], link["id"])
            summed[key] = summed.get(key, Decimal(0)) + as_decimal(link["amount"])  # type: ignore[operator]
    return [(kind, record_id, amount) for (kind, record_id), amount in summed.items()]


def apply_payment(ledger: Ledger, proto: Json, *, payment_id: str, platform: str,
                  now_text: str) -> Json:
    """Check the payment against the books and book it; return the stored BillPayment."""
    problems = Problems()
    supplier_ref = proto.get("supplierRef")
    supplier_id = supplier_ref.get("id") if isinstance(supplier_ref, dict) else None
    if supplier_id is not None and supplier_id not in ledger.suppliers:
        problems.add(f"Supplier {supplier_id} does not exist.", "supplierRef.id")
    links = _links(proto)
    currencies: set[str] = set()
    suppliers: set[str] = set()
    for kind, record_id, amount in links:
        if kind == "Bill":
            _check_bill_link(ledger, record_id, amount, problems, currencies, suppliers)
        else:
            _check_credit_link(ledger, record_id, amount, problems, currencies, suppliers)
    currency = proto.get("currency") or (next(iter(currencies)) if len(currencies) == 1
                                         else ledger.base_currency)
    if len(currencies | {currency}) > 1:
        problems.add(f"Every allocation must be in the payment currency {currency}.")  # (A)
    if supplier_id is None and len(suppliers) > 1:
        if platform not in BATCH_PLATFORMS:
            problems.add(f"Batch payments across suppliers are not supported by {platform}.")
        elif currency != ledger.base_currency:
            problems.add("A batch payment must be in the base currency.")  # (D) Xero
    elif supplier_id is None and len(suppliers) == 1:
        supplier_id = next(iter(suppliers))
    elif supplier_id is not None and suppliers - {supplier_id}:
        problems.add("Every bill and credit note must belong to the payment's supplier.")
    _check_account(ledger, proto["accountRef"]["id"], currency, problems)
    total = as_decimal(proto["totalAmount"])
    if total is not None and _places(total) > minor_units(currency):
        problems.add(f"Total Amount has more decimal places than {currency} allows.")
    problems.raise_if_any()
    for kind, record_id, amount in links:
        if kind == "Bill":
            _reduce_bill(ledger.bills[record_id], -amount, now_text)
        else:
            _use_credit(ledger.credit_notes[record_id], amount, now_text)
    stored = copy.deepcopy(proto)
    account = ledger.bank_accounts[proto["accountRef"]["id"]]
    stored.update(id=payment_id, currency=currency, metadata={"isDeleted": False},
                  sourceModifiedDate=now_text,
                  accountRef={"id": account["id"], "name": account["name"]})
    if supplier_id is not None:
        stored["supplierRef"] = {"id": supplier_id,
                                 "supplierName": ledger.suppliers[supplier_id]["supplierName"]}
    ledger.bill_payments[payment_id] = stored
    return stored


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _check_bill_link(ledger: Ledger, bill_id: str, amount: Decimal, problems: Problems,
                     currencies: set[str], suppliers: set[str]) -> None:
    bill = ledger.bills.get(bill_id)
    if bill is None:
        problems.add(f"Bill {bill_id} does not exist.", bill_id)
        return
    currencies.add(bill["currency"])
    suppliers.add(bill["supplierRef"]["id"])
    if amount >= 0:
        problems.add(f"The link to bill {bill_id} must be negative (money off the bill).",
                     bill_id)  # (D) "-totalAmount"
    elif bill["status"] not in PAYABLE_STATUSES:
        problems.add(f"Bill {bill_id} has status {bill['status']} and cannot be paid.", bill_id)
    elif bill.get("amountDue") is None:
        problems.add(f"Bill {bill_id}'s amount due is unknown; it cannot be paid.", bill_id)
    elif -amount > bill["amountDue"]:
        problems.add(f"Allocation {-amount} is greater than bill {bill_id}'s amount due "
                     f"{bill['amountDue']}.", bill_id)  # (A) no overpayment through a bill


def _check_credit_link(ledger: Ledger, note_id: str, amount: Decimal, problems: Problems,
                       currencies: set[str], suppliers: set[str]) -> None:
    note = ledger.credit_notes.get(note_id)
    if note is None:
        problems.add(f"Credit note {note_id} does not exist.", note_id)
        return
    currencies.add(note["currency"])
    suppliers.add(note["supplierRef"]["id"])
    if amount <= 0:
        problems.add(f"The link to credit note {note_id} must be positive.", note_id)  # (D)
    elif note["status"] not in ("Submitted", "PartiallyPaid"):
        problems.add(f"Credit note {note_id} has status {note['status']} and cannot be "
                     "allocated.", note_id)
    elif amount > note["remainingCredit"]:
        problems.add(f"Allocation {amount} is greater than credit note {note_id}'s remaining "
                     f"credit {note['remainingCredit']}.", note_id)


def _check_account(ledger: Ledger, account_id: str, currency: str, problems: Problems) -> None:
    account = ledger.bank_accounts.get(account_id)
    if account is None:
        problems.add(f"Account {account_id} is not a bank account of this company.",
                     "accountRef.id")
    elif account["status"] != "Active":
        problems.add(f"Account {account_id} is archived.", "accountRef.id")
    elif account["currency"] not in (currency, ledger.base_currency):
        problems.add(f"Account currency {account['currency']} is neither the payment "
                     f"currency {currency} nor the base currency.", "accountRef.id")


def _reduce_bill(bill: Json, amount: Decimal, now_text: str) -> None:
    remaining: Decimal = bill["amountDue"] - amount
    bill["amountDue"] = remaining
    bill["status"] = "Paid" if remaining == 0 else "PartiallyPaid"
    bill["sourceModifiedDate"] = now_text


def _use_credit(note: Json, amount: Decimal, now_text: str) -> None:
    remaining: Decimal = note["remainingCredit"] - amount
    note["remainingCredit"] = remaining
    note["status"] = "Paid" if remaining == 0 else "PartiallyPaid"
    note["sourceModifiedDate"] = now_text


def delete_payment(ledger: Ledger, payment_id: str, now_text: str) -> None:
    """Undo a payment's allocations and delete it from the books (D: delete bill payment)."""
    payment = ledger.bill_payments.get(payment_id)
    if payment is None:
        raise ApiError(404, f"Bill payment {payment_id} not found")
    for kind, record_id, amount in _links(payment):
        if kind == "Bill" and record_id in ledger.bills:
            bill = ledger.bills[record_id]
            bill["amountDue"] = bill["amountDue"] - amount
            bill["status"] = "Open" if bill["amountDue"] == bill["totalAmount"] \
                else "PartiallyPaid"
            bill["sourceModifiedDate"] = now_text
        elif kind == "CreditNote" and record_id in ledger.credit_notes:
            note = ledger.credit_notes[record_id]
            note["remainingCredit"] = note["remainingCredit"] + amount
            note["status"] = "Submitted" if note["remainingCredit"] == note["totalAmount"] \
                else "PartiallyPaid"
            note["sourceModifiedDate"] = now_text
    del ledger.bill_payments[payment_id]
    ledger.deleted.setdefault("billPayments", {})[payment_id] = {
        **payment, "sourceModifiedDate": now_text}
