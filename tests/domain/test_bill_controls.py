"""Each control on its own: duplicates (reference; amount within 7 days; open or paid in the
last 90 days), first payment, unusual amount (median of the last 6 paid, at least 3), and the
payer's limits and currencies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billbot.codat.models import Bill
from billbot.domain.bill_controls import (
    ControlKind,
    controls_for,
    duplicates_of,
    is_first_payment,
    payer_limit_problem,
    usual_amount,
)

TODAY = date(2026, 11, 22)


def bill(bill_id: str, *, ref: str | None = None, amount: float = 500, issued: str = "2026-11-10",
         status: str = "Open", supplier: str = "sup-1", currency: str = "GBP",
         modified: str | None = None) -> Bill:
    data: dict[str, Any] = {
        "id": bill_id, "reference": ref if ref is not None else f"INV-{bill_id}",
        "supplierRef": {"id": supplier, "supplierName": "Northwind"},
        "issueDate": f"{issued}T00:00:00", "dueDate": "2026-12-10T00:00:00",
        "currency": currency, "status": status, "totalAmount": amount,
        "amountDue": 0 if status == "Paid" else amount}
    if modified:
        data["sourceModifiedDate"] = f"{modified}T10:00:00Z"
    return Bill.model_validate(data)


class TestDuplicates:
    def test_same_supplier_and_reference(self) -> None:
        this = bill("a", ref="INV-77", amount=100)
        twin = bill("b", ref=" inv-77 ", amount=900, issued="2026-09-30")
        assert duplicates_of(this, [this, twin], today=TODAY) == [twin]

    def test_same_supplier_amount_and_issue_dates_within_7_days(self) -> None:
        this = bill("a", amount=500, issued="2026-11-10")
        near = bill("b", amount=500, issued="2026-11-17")
        far = bill("c", amount=500, issued="2026-11-18")
        other_amount = bill("d", amount=500.01, issued="2026-11-10")
        other_currency = bill("e", amount=500, currency="EUR")
        assert duplicates_of(this, [near, far, other_amount, other_currency],
                             today=TODAY) == [near]

    def test_another_suppliers_bill_is_never_a_duplicate(self) -> None:
        this = bill("a", ref="INV-1")
        assert duplicates_of(this, [bill("b", ref="INV-1", supplier="sup-2")], today=TODAY) == []

    def test_paid_bills_count_for_90_days(self) -> None:
        this = bill("a", ref="INV-1")
        recent = bill("b", ref="INV-1", status="Paid", modified="2026-08-25")
        old = bill("c", ref="INV-1", status="Paid", modified="2026-08-23")
        void = bill("d", ref="INV-1", status="Void")
        partly = bill("e", ref="INV-1", status="PartiallyPaid", modified="2025-01-01")
        assert duplicates_of(this, [recent, old, void, partly], today=TODAY) == [recent, partly]

    def test_an_empty_reference_matches_nothing(self) -> None:
        assert duplicates_of(bill("a", ref="", amount=1),
                             [bill("b", ref="", amount=2)], today=TODAY) == []

    def test_the_control_needs_confirmation_and_names_the_other_bill(self) -> None:
        (control, *_) = controls_for(bill("a", ref="INV-9"), [bill("b", ref="INV-9")],
                                     today=TODAY, paid_by_billbot=True)
        assert control.kind is ControlKind.DUPLICATE and control.needs_confirmation
        assert control.short == "Possible duplicate of INV-9"
        assert "INV-9 (GBP 500.00, issued 10 Nov 2026, Open)" in control.detail


class TestFirstPayment:
    def test_no_paid_bill_and_none_by_billbot(self) -> None:
        this = bill("a")
        assert is_first_payment(this, [this, bill("b"), bill("c", status="Void")],
                                paid_by_billbot=False)

    @pytest.mark.parametrize("status", ["Paid", "PartiallyPaid"])
    def test_a_bill_paid_in_the_books_ends_it(self, status: str) -> None:
        assert not is_first_payment(bill("a"), [bill("b", status=status)],
                                    paid_by_billbot=False)

    def test_a_payment_recorded_by_billbot_ends_it(self) -> None:
        assert not is_first_payment(bill("a"), [], paid_by_billbot=True)

    def test_the_bill_itself_partly_paid_ends_it(self) -> None:
        assert not is_first_payment(bill("a", status="PartiallyPaid"), [],
                                    paid_by_billbot=False)

    def test_only_warns(self) -> None:
        (control,) = controls_for(bill("a"), [], today=TODAY, paid_by_billbot=False)
        assert control.kind is ControlKind.FIRST_PAYMENT and not control.needs_confirmation


class TestUnusualAmount:
    @staticmethod
    def paid(*amounts: float) -> list[Bill]:
        return [bill(f"p{n}", amount=a, status="Paid", issued=f"2026-0{n + 1}-01",
                     modified="2026-01-01") for n, a in enumerate(amounts)]

    def test_needs_three_paid_bills(self) -> None:
        assert usual_amount(bill("a"), self.paid(100, 100)) is None
        assert usual_amount(bill("a"), self.paid(100, 300, 200)) == Decimal(200)

    def test_the_median_of_the_last_six(self) -> None:
        # The oldest two (1,000 each) fall out: the last six are 10..60.
        history = self.paid(1000, 1000, 10, 20, 30, 40, 50, 60)
        assert usual_amount(bill("a"), history) == Decimal(35)

    def test_other_currencies_and_open_bills_do_not_count(self) -> None:
        history = [*self.paid(100, 100), bill("x", amount=100, status="Paid", currency="EUR"),
                   bill("y", amount=100)]
        assert usual_amount(bill("a"), history) is None

    def test_more_than_twice_warns(self) -> None:
        history = self.paid(100, 100, 100)
        kinds = [c.kind for c in controls_for(bill("a", amount=200.01), history, today=TODAY,
                                              paid_by_billbot=False)]
        assert kinds == [ControlKind.UNUSUAL_AMOUNT]
        assert controls_for(bill("a", amount=200), history, today=TODAY,
                            paid_by_billbot=False) == []


class TestPayerLimits:
    LIMITS = {"GBP": Decimal(10000), "EUR": Decimal(500)}

    def test_no_limits_pay_anything(self) -> None:
        none: tuple[dict[str, Decimal] | None, ...] = (None, {})
        for limits in none:
            assert payer_limit_problem(limits, currency="USD", amount=Decimal(10**9)) is None

    def test_up_to_the_limit(self) -> None:
        assert payer_limit_problem(self.LIMITS, currency="gbp", amount=Decimal(10000)) is None

    def test_above_the_limit_names_it(self) -> None:
        problem = payer_limit_problem(self.LIMITS, currency="GBP", amount=Decimal("10000.01"))
        assert problem == ("GBP 10,000.01 is above your payment limit of GBP 10,000.00. "
                           "Nothing was recorded.")

    def test_only_the_listed_currencies(self) -> None:
        problem = payer_limit_problem(self.LIMITS, currency="USD", amount=Decimal(1))
        assert problem == ("You may pay bills only in EUR, GBP; this bill is in USD. "
                           "Nothing was recorded.")
