"""Dates and amounts as invoices print them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billbot.domain.document_fields import Money, currency_in, find_date, find_money, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-03", date(2026, 11, 3)),
        ("03/11/2026", date(2026, 11, 3)),
        ("3.11.2026", date(2026, 11, 3)),
        ("11/23/2026", date(2026, 11, 23)),  # only month first makes sense
        ("3 Nov 2026", date(2026, 11, 3)),
        ("3rd November 2026", date(2026, 11, 3)),
        ("03-Nov-2026", date(2026, 11, 3)),
        ("Nov 3, 2026", date(2026, 11, 3)),
        ("September 30 2026", date(2026, 9, 30)),
        ("on 31/02/2026", None),
        ("3 Foo 2026", None),
        ("1999-01-01", None),
        ("no date here", None),
    ],
)
def test_find_date(text: str, expected: date | None) -> None:
    assert find_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("£1,200.00", Money(Decimal("1200.00"), "GBP")),
        ("1.234,50 €", Money(Decimal("1234.50"), "EUR")),
        ("EUR 3,000.00", Money(Decimal("3000.00"), "EUR")),
        ("3000 USD", Money(Decimal("3000"), "USD")),
        ("$12.5", Money(Decimal("12.5"), None)),
        ("US$ 99.00", Money(Decimal("99.00"), "USD")),
        ("2 items 40.00", Money(Decimal("40.00"), None)),
        ("£120.00 by 03/12/2026", Money(Decimal("120.00"), "GBP")),
        ("0.00", None),
        ("nothing", None),
    ],
)
def test_find_money(text: str, expected: Money | None) -> None:
    assert find_money(text) == expected


def test_parse_number_separators() -> None:
    assert parse_number("1,234,567.89") == Decimal("1234567.89")
    assert parse_number("1.234.567,89") == Decimal("1234567.89")
    assert parse_number("1 234,5") == Decimal("1234.5")
    assert parse_number("1,234") == Decimal("1234")


def test_currency_in_names_one_or_none() -> None:
    assert currency_in("Currency: CHF") == "CHF"
    assert currency_in("GBP or EUR accepted") is None
    assert currency_in("ABC XYZ") is None
