"""Edit's form checks and the update prototype made from the bill as Codat has it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billbot.codat.models import Bill
from billbot.domain.bill_edit import EditForm, check_edit, editable, form_errors


def _bill(lines: int = 2) -> Bill:
    return Bill.model_validate({
        "id": "b1", "reference": "INV-1", "supplierRef": {"id": "s1", "supplierName": "Acme"},
        "issueDate": "2026-11-01T00:00:00", "dueDate": "2026-12-01T00:00:00", "currency": "GBP",
        "status": "Open", "totalAmount": 240, "amountDue": 240,
        "lineItems": [{"description": f"L{i}", "unitAmount": 50, "quantity": 2, "taxAmount": 20,
                       "totalAmount": 120, "accountRef": {"id": "acc"},
                       "taxRateRef": {"id": "INPUT2"}} for i in range(lines)],
    })


def _form(*amounts: str, due: date | None = date(2026, 12, 15)) -> EditForm:
    return EditForm(reference=" INV-1b ", issue_date=date(2026, 11, 2), due_date=due,
                    line_amounts=amounts)


def test_prototype_keeps_supplier_accounts_and_each_lines_tax_rate() -> None:
    checked = check_edit(_bill(), _form("100.00", "150"))
    assert checked.errors == {} and checked.prototype is not None
    proto = checked.prototype
    assert (proto.reference, proto.supplier_ref.id, proto.currency) == ("INV-1b", "s1", "GBP")
    assert (proto.issue_date, proto.due_date) == (date(2026, 11, 2), date(2026, 12, 15))
    lines = proto.line_items or []
    assert [(x.unit_amount, x.quantity, x.tax_amount, x.total_amount) for x in lines] == [
        (Decimal("100.00"), Decimal(1), Decimal("20.00"), Decimal("120.00")),
        (Decimal("150"), Decimal(1), Decimal("30.00"), Decimal("180.00"))]
    assert all(x.account_ref and x.account_ref.id == "acc" for x in lines)
    assert all(x.tax_rate_ref and x.tax_rate_ref.id == "INPUT2" for x in lines)


def test_form_errors_are_inline_per_block() -> None:
    errors = form_errors(_form("abc", "1.234", due=date(2026, 10, 1)))
    assert set(errors) == {"line_0", "line_1", "due_date"}
    assert form_errors(_form("0", "0")) == {"line_0": "The bill's total must be more than zero."}
    assert "issue_date" in form_errors(EditForm("", None, date(2026, 1, 1), ("1",)))


def test_a_bill_whose_lines_changed_since_the_form_opened_is_not_updated() -> None:
    checked = check_edit(_bill(lines=3), _form("1", "2"))
    assert checked.prototype is None and "changed since" in checked.errors["reference"]


def test_bills_without_lines_or_with_too_many_are_edited_in_the_books() -> None:
    assert editable(_bill()) is None
    assert editable(_bill(lines=0)) is not None
    assert editable(_bill(lines=11)) is not None
