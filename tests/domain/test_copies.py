"""What a copy of a bill showed, whether it is still the bill, and the header it adds up to."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from billbot.codat.models import Bill
from billbot.domain.copies import (
    nothing_due,
    shown_of,
    stale_copy_reason,
    summarise_shown,
    version_token,
)

TODAY = date(2026, 11, 22)


def make(bill_id: str = "b1", **changes: Any) -> Bill:
    data: dict[str, Any] = {
        "id": bill_id, "reference": "INV-1", "supplierRef": {"id": "s1", "supplierName": "Acme"},
        "issueDate": "2026-11-01T00:00:00", "dueDate": "2026-11-20T00:00:00",
        "currency": "GBP", "status": "Open", "totalAmount": 100, "amountDue": 100,
        "sourceModifiedDate": "2026-11-01T10:00:00Z"}
    data.update(changes)
    return Bill.model_validate(data)


def test_the_token_follows_the_figures_not_the_modification_time() -> None:
    base = version_token(make())
    assert version_token(make(sourceModifiedDate="2026-11-21T10:00:00Z")) == base
    assert version_token(make(amountDue=60, status="PartiallyPaid")) != base
    assert version_token(make(dueDate="2026-11-21T00:00:00")) != base


def test_a_stale_copy_is_refused_with_the_current_figures() -> None:
    shown = version_token(make())
    assert stale_copy_reason(shown, make()) is None
    assert stale_copy_reason(None, make()) is None  # a message billbot did not index
    reason = stale_copy_reason(shown, make(totalAmount=110, amountDue=110))
    assert reason is not None and "GBP 110.00" in reason and "nothing was recorded" in reason


def test_paid_void_and_zero_due_bills_have_nothing_due() -> None:
    assert not nothing_due(make())
    assert nothing_due(make(status="Paid", amountDue=0))
    assert nothing_due(make(status="Void"))
    assert nothing_due(make(amountDue=0))


def test_the_header_counts_only_bills_still_due() -> None:
    shown = [shown_of(make("a")), shown_of(make("b", status="Paid", amountDue=0)),
             shown_of(make("c", currency="USD", amountDue=5, dueDate=str(TODAY + timedelta(3)))),
             shown_of(make("d", amountDue=None))]
    summary = summarise_shown(shown, today=TODAY)
    assert summary.count == 3
    assert summary.overdue == 2  # a and d; b is paid, c not yet due
    assert summary.totals == {"GBP": Decimal(100), "USD": Decimal(5)}
    assert summary.unknown_amounts == 1
