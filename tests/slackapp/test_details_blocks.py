"""The Details modal stays within Slack's limits whatever the books hold: 100 blocks a view,
3000 characters a section, 24 a title; long lists are cut with a note, never an error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from billbot.codat.models import Attachment, Bill, Supplier
from billbot.sandbox.slack.blockkit import check_view
from billbot.services.bill_history import BillHistory, Decision, RecordedPayment
from billbot.slackapp.details_blocks import DetailsData, details_view

TODAY = date(2026, 12, 6)


def _bill(lines: int, description: str) -> Bill:
    return Bill.model_validate({
        "id": "B1", "reference": "R" * 300, "supplierRef": {"id": "S1", "supplierName": "X"},
        "issueDate": "2026-11-01", "dueDate": "2026-12-01", "currency": "GBP",
        "status": "Open", "totalAmount": str(120 * lines), "amountDue": str(120 * lines),
        "lineItems": [{"description": description, "unitAmount": "100", "quantity": "1",
                       "taxAmount": "20", "totalAmount": "120",
                       "accountRef": {"id": "A" * 200}, "taxRateRef": {"id": "T"}}
                      for _ in range(lines)]})


def test_a_huge_bill_fits_and_says_what_it_left_out() -> None:
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    history = BillHistory(
        [Decision("U1", "rejected", at, "why " * 400)] * 50,
        [RecordedPayment(date(2026, 12, 1), "acct " * 100, Decimal("1"), "GBP", "U2", False)]
        * 50)
    data = DetailsData(
        bill=_bill(1000, "a *bold* <!channel> line " * 40),
        supplier=Supplier.model_validate({"id": "S1", "supplierName": "N" * 500,
                                          "contactName": "C" * 500, "emailAddress": "e@x",
                                          "phone": "1" * 200}),
        attachments=[Attachment(id=f"att-{n}", name=f"{'f' * 400}.pdf") for n in range(40)],
        history=history)
    view = details_view(data, today=TODAY, metadata="m")
    assert check_view(view) == []
    assert len(view["blocks"]) <= 100
    text = str(view)
    assert "more lines, not shown here" in text and "…and 20 more attachments." in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    # The totals always show, whatever was cut above them.
    assert "*Subtotal* GBP 100,000.00 + *tax* GBP 20,000.00 = *total* GBP 120,000.00" in text


def test_a_bill_with_nothing_recorded_says_so() -> None:
    bill = Bill.model_validate({
        "id": "B2", "supplierRef": {"id": "S9"}, "issueDate": "2026-11-01",
        "dueDate": "2026-12-20", "currency": "EUR", "status": "Open"})
    view = details_view(DetailsData(bill=bill, supplier=None, attachments=None), today=TODAY,
                        metadata="m")
    text = str(view)
    assert check_view(view) == []
    for said in ("no contact details", "no lines", "None yet.", "did not list the attachments",
                 "*Amount due* unknown"):
        assert said in text
