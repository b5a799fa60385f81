"""Parsed bills share what they repeat (suppliers, accounts, tax rates, common amounts): one
object for equal values, and nothing a bill says or writes changes because of it."""

from __future__ import annotations

import json
from decimal import Decimal

from billbot.codat.models import Bill, BillLineItem, IdRef, SupplierRef
from billbot.sandbox.codat.state import SandboxState


def bill_text(bill_id: str, *, unit: str = "10.00", quantity: str = "1", tax: str = "0.00",
              supplier: str = "S1", account: str = "A1") -> str:
    return json.dumps({
        "id": bill_id, "reference": f"INV-{bill_id}",
        "supplierRef": {"id": supplier, "supplierName": f"Supplier {supplier}"},
        "issueDate": "2026-11-01T00:00:00", "dueDate": "2026-12-01T00:00:00",
        "currency": "GBP", "currencyRate": 1, "status": "Open",
        "lineItems": [{"description": "Work", "unitAmount": unit, "quantity": quantity,
                       "taxAmount": tax, "accountRef": {"id": account},
                       "taxRateRef": {"id": "T0"},
                       "trackingRefs": [{"id": "dept-1", "dataType": "trackingCategories"}]}],
        "totalAmount": unit, "amountDue": unit})


def test_equal_references_in_different_bills_are_one_object() -> None:
    a, b = Bill.model_validate_json(bill_text("1")), Bill.model_validate_json(bill_text("2"))
    assert a.supplier_ref is b.supplier_ref
    line_a, line_b = a.line_items[0], b.line_items[0]  # type: ignore[index]
    assert line_a.account_ref is line_b.account_ref
    assert line_a.tax_rate_ref is line_b.tax_rate_ref
    assert line_a.tracking_refs[0] is line_b.tracking_refs[0]  # type: ignore[index]
    other = Bill.model_validate_json(bill_text("3", supplier="S2", account="A2"))
    assert other.supplier_ref is not a.supplier_ref and other.supplier_ref.id == "S2"
    assert other.line_items[0].account_ref.id == "A2"  # type: ignore[index, union-attr]


def test_a_reference_built_by_hand_is_its_own_and_unchanged() -> None:
    ref = IdRef(id="A1")
    assert ref.id == "A1" and IdRef(id="A1") == ref
    line = BillLineItem(unit_amount=Decimal(1), quantity=Decimal(1), account_ref=ref)
    assert line.account_ref == ref
    changed = SupplierRef(id="S1", supplier_name="Old").model_copy(update={"supplier_name": "New"})
    assert changed.supplier_name == "New"


def test_common_amounts_are_shared_but_never_confused_with_an_equal_other_form() -> None:
    a = Bill.model_validate_json(bill_text("1", quantity="1", tax="0.00"))
    b = Bill.model_validate_json(bill_text("2", quantity="1", tax="0.00"))
    c = Bill.model_validate_json(bill_text("3", quantity="1.00", tax="-0.00"))
    la, lb, lc = (x.line_items[0] for x in (a, b, c))  # type: ignore[index]
    assert la.quantity is lb.quantity and la.tax_amount is lb.tax_amount
    # 1 == 1.00 and 0.00 == -0.00, but a bill written back keeps the form it was read in.
    assert str(lc.quantity) == "1.00" and str(lc.tax_amount) == "-0.00"
    assert str(la.quantity) == "1" and str(la.tax_amount) == "0.00"


def test_sharing_changes_nothing_a_bill_writes() -> None:
    """Real sandbox bills parsed twice (so the second read shares with the first) dump as they
    did alone, and equal bills stay equal."""
    state = SandboxState.seeded(bills=40, due_soon=40)
    texts = [json.dumps(bill, default=str) for bill in state.main_ledger.bills.values()]
    first = [Bill.model_validate_json(t) for t in texts]
    second = [Bill.model_validate_json(t) for t in texts]
    assert first == second
    for text, bill in zip(texts, second, strict=True):
        assert bill.model_dump(by_alias=True, exclude_unset=True, mode="json") == \
            Bill.model_validate(json.loads(text)).model_dump(by_alias=True, exclude_unset=True,
                                                             mode="json")
    assert second[0].supplier_ref is first[0].supplier_ref
