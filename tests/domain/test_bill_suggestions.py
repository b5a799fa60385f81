"""Suggestions from an invoice's text layer, on PDFs written here in several layouts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billbot.domain.bill_suggestions import (
    NO_TEXT_IMAGE,
    NO_TEXT_PDF,
    NOT_A_DOCUMENT,
    BillSuggestions,
    match_supplier,
    suggest_bill,
)
from billbot.sandbox.codat.invoice_files import invoice_pdf, receipt_png
from tests.domain.text_pdfs import image_only_pdf, lines_pdf, text_pdf

SUPPLIERS = {
    "sup-acme": "Acme Ltd",
    "sup-acme-cloud": "Acme Cloud Services Ltd",
    "sup-north": "Northwind Traders",
    "sup-zeta": "Zeta GmbH",
}


def test_simple_lines_with_invoice_no_iso_dates_and_amount_due() -> None:
    pdf = lines_pdf([
        "ACME LIMITED",
        "1 High Street, London",
        "Invoice No: INV-2026-0042",
        "Invoice date: 2026-11-03",
        "Due date: 2026-12-03",
        "Subtotal £1,000.00",
        "VAT 20% £200.00",
        "Amount due £1,200.00",
    ])
    assert suggest_bill(pdf, "application/pdf", SUPPLIERS) == BillSuggestions(
        supplier_id="sup-acme", supplier_name="Acme Ltd", reference="INV-2026-0042",
        issue_date=date(2026, 11, 3), due_date=date(2026, 12, 3), total=Decimal("1200.00"),
        currency="GBP",
    )


def test_two_columns_labels_above_values_uk_dates_and_total_with_code() -> None:
    # Header block in two columns, each label printed above its value.
    pdf = text_pdf([[
        (56, 800, "Northwind Traders"),
        (350, 800, "Invoice #"), (350, 786, "NW/7781"),
        (350, 760, "Date"), (350, 746, "03/11/2026"),
        (350, 720, "Payment due"), (350, 706, "17/11/2026"),
        (56, 600, "Consulting, November"), (450, 600, "2,500.00"),
        (56, 580, "Subtotal"), (450, 580, "2,500.00"),
        (56, 560, "Total VAT"), (450, 560, "500.00"),
        (56, 540, "Total"), (450, 540, "EUR 3,000.00"),
    ]])
    got = suggest_bill(pdf, "application/pdf", SUPPLIERS)
    assert got.supplier_id == "sup-north"
    assert got.reference == "NW/7781"
    assert (got.issue_date, got.due_date) == (date(2026, 11, 3), date(2026, 11, 17))
    assert (got.total, got.currency) == (Decimal("3000.00"), "EUR")


def test_reference_label_written_dates_and_euro_symbol_european_number() -> None:
    pdf = lines_pdf([
        "Rechnung / Invoice",
        "Zeta GmbH, Berlin",
        "Reference: ZG-1009",
        "Issued on 3 Nov 2026",
        "Pay by 3 December 2026",
        "Total due 1.234,50 €",
    ])
    got = suggest_bill(pdf, "application/pdf", SUPPLIERS)
    assert got == BillSuggestions(
        supplier_id="sup-zeta", supplier_name="Zeta GmbH", reference="ZG-1009",
        issue_date=date(2026, 11, 3), due_date=date(2026, 12, 3), total=Decimal("1234.50"),
        currency="EUR",
    )


def test_month_first_written_date_and_bare_dollar_gives_no_currency_guess() -> None:
    pdf = lines_pdf([
        "Acme Cloud Services Ltd",
        "Invoice Number 99812",
        "Invoice Date: Nov 3, 2026",
        "Due: Dec 3, 2026",
        "Balance due $4,410.00",
    ])
    got = suggest_bill(pdf, "application/pdf", SUPPLIERS)
    # The longer name wins over "Acme Ltd"; "$" is many dollars, so no currency is suggested.
    assert (got.supplier_id, got.reference) == ("sup-acme-cloud", "99812")
    assert (got.issue_date, got.due_date) == (date(2026, 11, 3), date(2026, 12, 3))
    assert (got.total, got.currency) == (Decimal("4410.00"), None)


def test_currency_named_elsewhere_and_the_last_total_on_the_page() -> None:
    pdf = lines_pdf([
        "Invoice # A-17",
        "Currency: USD",
        "Line total 100.00",
        "Line total 250.00",
        "Total 350.00 by 2026-12-01",
    ])
    got = suggest_bill(pdf, "application/pdf", SUPPLIERS)
    assert (got.reference, got.total, got.currency) == ("A-17", Decimal("350.00"), "USD")
    assert got.supplier_id is None  # no known supplier named: none suggested, none invented


def test_a_due_date_before_the_issue_date_is_not_suggested() -> None:
    pdf = lines_pdf(["Invoice date 10/11/2026", "Due date 01/11/2026"])
    got = suggest_bill(pdf, "application/pdf", SUPPLIERS)
    assert (got.issue_date, got.due_date) == (date(2026, 11, 10), None)


def test_seeded_invoice_pdf_of_the_sandbox_is_read_too() -> None:
    pdf = invoice_pdf("Invoice INV-88", ["Northwind Traders", "Invoice No: INV-88",
                                         "Total: GBP 75.20"])
    got = suggest_bill(pdf, "application/octet-stream", SUPPLIERS)  # recognised by its header
    assert (got.supplier_id, got.reference, got.total, got.currency) == (
        "sup-north", "INV-88", Decimal("75.20"), "GBP")


def test_text_on_a_later_page_is_read() -> None:
    pdf = text_pdf([[(56, 800, "Cover letter")], [(56, 800, "Invoice No: P2-5"),
                                                   (56, 780, "Amount due: £9.99")]])
    got = suggest_bill(pdf, "application/pdf", {})
    assert (got.reference, got.total, got.currency) == ("P2-5", Decimal("9.99"), "GBP")


@pytest.mark.parametrize(
    ("document", "media_type", "note"),
    [
        (receipt_png(3), "image/png", NO_TEXT_IMAGE),
        (b"\xff\xd8\xff\xe0 jpeg", "image/jpeg", NO_TEXT_IMAGE),
        (image_only_pdf(), "application/pdf", NO_TEXT_PDF),
        (b"%PDF-1.4 truncated garbage", "application/pdf", NO_TEXT_PDF),
        (b"hello", "text/plain", NOT_A_DOCUMENT),
    ],
)
def test_images_scans_and_broken_files_give_no_suggestions_and_say_so(
    document: bytes, media_type: str, note: str
) -> None:
    got = suggest_bill(document, media_type, SUPPLIERS)
    assert got.empty and got.note == note


def test_text_without_any_field_suggests_nothing_and_no_note() -> None:
    got = suggest_bill(lines_pdf(["Thank you for your business"]), "application/pdf", SUPPLIERS)
    assert got.empty and got.note == ""


def test_supplier_matching_is_whole_words_and_ignores_legal_suffixes() -> None:
    assert match_supplier("From: ACME LIMITED", SUPPLIERS) == ("sup-acme", "Acme Ltd")
    assert match_supplier("Acmeville Hardware", SUPPLIERS) is None
    assert match_supplier("northwind   traders plc", SUPPLIERS) == ("sup-north", "Northwind Traders")
    assert match_supplier("Ltd", {"x": "Ltd"}) is None  # a name that is only a suffix names nobody
