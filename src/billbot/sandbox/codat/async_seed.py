"""The seed's records that only the async API shows: payment methods, tracking categories,
journals and entries, supplier credit notes and the payment behind a paid bill."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from billbot.sandbox.codat.ledger import Json, Ledger
from billbot.sandbox.codat.seed_records import day, instant, stable_id

PAID_BILL = "7110700018"  # curated "Stationery", Paid in full
ACME_CREDIT_NOTES = (  # (number, supplier, net, remaining)
    ("CN-0001", "4101", "50.00", "60.00"),  # Northridge: unused, 60.00 with VAT
    ("CN-0002", "4102", "100.00", "120.00"),  # Bluewave: unused
    ("CN-0003", "4105", "20.00", "0.00"),  # Harbour Cleaning: already used up
)


def _credit_note(ledger: Ledger, number: str, supplier_key: str, net: str, remaining: str,
                 issued: date, modified: str, expense: str) -> Json:
    supplier = ledger.suppliers[supplier_key]
    subtotal = Decimal(net)
    tax = (subtotal * Decimal("0.2")).quantize(Decimal("0.01"))
    left = Decimal(remaining)
    return {
        "id": stable_id(f"acme/creditnote/{number}"), "billCreditNoteNumber": number,
        "supplierRef": {"id": supplier["id"], "supplierName": supplier["supplierName"]},
        "withholdingTax": [], "totalAmount": subtotal + tax, "totalDiscount": Decimal(0),
        "subTotal": subtotal, "totalTaxAmount": tax, "discountPercentage": Decimal(0),
        "remainingCredit": left, "status": "Paid" if left == 0 else "Submitted",
        "issueDate": day(issued), "currency": supplier["defaultCurrency"],
        "currencyRate": Decimal(1),
        "lineItems": [{"description": "Credit as agreed", "unitAmount": subtotal,
                       "quantity": Decimal(1), "discountAmount": Decimal(0),
                       "subTotal": subtotal, "taxAmount": tax, "totalAmount": subtotal + tax,
                       "accountRef": {"id": expense}, "discountPercentage": Decimal(0),
                       "taxRateRef": {"id": "INPUT2"}, "trackingCategoryRefs": []}],
        "paymentAllocations": [], "note": None, "sourceModifiedDate": modified,
    }


def seed_async_records(ledger: Ledger, today: date, *, prefix: str) -> None:
    """Fill the async-only collections of one company's ledger (ids stable per prefix)."""
    modified = instant(today - timedelta(days=150), 8)
    for key, name, kind in (("bacs", "BACS transfer", "BankTransfer"),
                            ("card", "Company card", "CreditCard"),
                            ("cheque", "Cheque", "Check")):
        method_id = stable_id(f"{prefix}/paymentmethod/{key}")
        ledger.payment_methods[method_id] = {"id": method_id, "name": name, "type": kind,
                                             "status": "Active",
                                             "sourceModifiedDate": modified}
    region = stable_id(f"{prefix}/tracking/region")
    ledger.tracking_categories[region] = {"id": region, "name": "Region", "status": "Active",
                                          "hasChildren": True, "sourceModifiedDate": modified}
    for child in ("North", "South"):
        child_id = stable_id(f"{prefix}/tracking/region/{child}")
        ledger.tracking_categories[child_id] = {
            "id": child_id, "name": child, "status": "Active", "parentId": region,
            "hasChildren": False, "sourceModifiedDate": modified}
    journal = stable_id(f"{prefix}/journal/general")
    ledger.journals[journal] = {"id": journal, "journalCode": "GJ", "name": "General journal",
                                "type": "General", "hasChildren": False,
                                "createdOn": modified, "status": "Active",
                                "sourceModifiedDate": modified}


def seed_acme_async(ledger: Ledger, today: date) -> None:
    seed_async_records(ledger, today, prefix="acme")
    modified = instant(today - timedelta(days=20), 9)
    expense = next(iter(ledger.accounts))
    for number, supplier, net, remaining in ACME_CREDIT_NOTES:
        note = _credit_note(ledger, number, supplier, net, remaining, today - timedelta(days=20),
                            modified, expense)
        ledger.credit_notes[note["id"]] = note
    bill = ledger.bills.get(PAID_BILL)
    bank = next(iter(ledger.bank_accounts.values()))
    if bill is not None:
        payment_id = stable_id("acme/billpayment/stationery")
        ledger.bill_payments[payment_id] = {
            "id": payment_id, "supplierRef": dict(bill["supplierRef"]),
            "accountRef": {"id": bank["id"], "name": bank["name"]},
            "totalAmount": bill["totalAmount"], "currency": bill["currency"],
            "currencyRate": Decimal(1), "date": bill["dueDate"],
            "lines": [{"amount": bill["totalAmount"],
                       "links": [{"type": "Bill", "id": bill["id"],
                                  "amount": -bill["totalAmount"], "currencyRate": Decimal(1)}],
                       "allocatedOnDate": bill["dueDate"]}],
            "reference": "Seeded payment", "note": None, "metadata": {"isDeleted": False},
            "sourceModifiedDate": bill["sourceModifiedDate"]}
