"""The seeded bills' attachments: the supplier's invoice as a PDF for most bills, a scanned
receipt (PNG) beside or instead of it for a few, none for some (so "no attachment" shows)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from billbot.sandbox.codat.invoice_files import invoice_pdf, receipt_png
from billbot.sandbox.codat.ledger import Json, Ledger, StoredAttachment
from billbot.sandbox.codat.seed_records import instant, stable_id

# Curated bills with a scanned receipt beside (or instead of) the invoice PDF; bill 4 has no
# attachment at all (an upload test starts from an empty list), nor does every fifth filler.
RECEIPT_TOO = frozenset({2, 9})
RECEIPT_ONLY = frozenset({5, 12})
NO_ATTACHMENT = frozenset({4})


def seed_attachments(ledger: Ledger, today: date, *, curated_base: int,
                     filler_base: int) -> None:
    """Attach invoices (and a few receipts) to most of the ledger's bills."""
    for bill_id, bill in list(ledger.bills.items()):
        number = int(bill_id) - curated_base
        curated = 0 < number < filler_base - curated_base
        if (curated and number in NO_ATTACHMENT) or (not curated and int(bill_id) % 5 == 0):
            continue
        reference = str(bill["reference"])
        if not (curated and number in RECEIPT_ONLY):
            _attach(ledger, bill_id, f"invoice-{reference}.pdf", "application/pdf",
                    _pdf(bill, ledger), today)
        if curated and number in RECEIPT_TOO | RECEIPT_ONLY:
            _attach(ledger, bill_id, f"receipt-{reference}.png", "image/png",
                    receipt_png(number), today)
    _attach(ledger, str(curated_base + 8), "timesheet.csv", "text/csv",
            b"date,hours,matter\n2024-01-02,3.5,Contract review\n", today)


def _pdf(bill: Json, ledger: Ledger) -> bytes:
    """The supplier's invoice as a PDF: who, when, every line with its tax, the total."""
    supplier = bill["supplierRef"].get("supplierName") or bill["supplierRef"]["id"]
    currency = bill["currency"]
    lines = [f"From: {supplier}", f"To: {ledger.company_name}",
             f"Issued {bill['issueDate'][:10]}, due {bill['dueDate'][:10]}", ""]
    for item in bill["lineItems"]:
        lines.append(f"{item.get('description') or 'Item'}: {item['quantity']} x "
                     f"{currency} {item['unitAmount']} + tax {currency} {item['taxAmount']}"
                     f" = {currency} {item['totalAmount']}")
    lines += ["", f"Total {currency} {bill['totalAmount']}"]
    return invoice_pdf(f"Invoice {bill['reference']}", lines)


def _attach(ledger: Ledger, bill_id: str, name: str, content_type: str, content: bytes,
            today: date) -> None:
    if bill_id not in ledger.bills:
        return
    attachment_id = stable_id(f"attachment/{bill_id}/{name}")
    meta: dict[str, Any] = {
        "id": attachment_id, "name": name, "contentType": content_type,
        "dateCreated": instant(today - timedelta(days=20), 14), "fileSize": len(content),
        "includeWhenSent": False, "sourceModifiedDate": instant(today - timedelta(days=20), 14),
    }
    ledger.attachments.setdefault(bill_id, {})[attachment_id] = StoredAttachment(meta, content)
