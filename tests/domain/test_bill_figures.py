"""A bill's figures add up visibly: quantity × unit + tax per line, subtotal, tax, total, paid."""

from __future__ import annotations

from decimal import Decimal

from billbot.codat.models import Bill
from billbot.domain.bill_figures import bill_figures, quantity_text


def _bill(lines: list[dict[str, object]], total: str, due: str) -> Bill:
    return Bill.model_validate({
        "id": "1", "supplierRef": {"id": "S"}, "issueDate": "2026-11-01",
        "dueDate": "2026-12-01", "currency": "GBP", "status": "PartiallyPaid",
        "lineItems": lines, "totalAmount": total, "amountDue": due})


def test_lines_subtotal_tax_total_and_paid() -> None:
    figures = bill_figures(_bill([
        {"unitAmount": "125", "quantity": "1", "taxAmount": "25", "totalAmount": "150"},
        {"unitAmount": "12.50", "quantity": "60", "taxAmount": "150", "totalAmount": "900"},
    ], "1050", "50"))
    assert [(line.net, line.tax, line.total, line.adds_up) for line in figures.lines] == [
        (Decimal("125.00"), Decimal("25.00"), Decimal("150.00"), True),
        (Decimal("750.00"), Decimal("150.00"), Decimal("900.00"), True)]
    assert (figures.subtotal, figures.tax, figures.total_adds_up) == (
        Decimal("875.00"), Decimal("175.00"), True)
    assert figures.paid == Decimal("1000.00")


def test_a_line_the_books_total_differently_is_flagged() -> None:
    figures = bill_figures(_bill([{"unitAmount": "100", "quantity": "1", "taxAmount": "20",
                                   "totalAmount": "110"}], "110", "110"))
    assert not figures.lines[0].adds_up and figures.total_adds_up
    assert figures.paid == Decimal("0.00")


def test_quantities_keep_two_decimals_or_more() -> None:
    assert [quantity_text(Decimal(q)) for q in ("1", "12", "2.5", "0.125", "1200")] == [
        "1.00", "12.00", "2.50", "0.125", "1,200.00"]
