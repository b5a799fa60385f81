"""The pay form's amount rule: what people type is read, anything ambiguous is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billbot.domain.typed_amount import (
    AmountRefused,
    rate_from_amounts,
    read_typed_amount,
    read_typed_rate,
)
from billbot.money import format_money, minor_units


@pytest.mark.parametrize(("text", "currency", "expected"), [
    ("1,500.01", "GBP", "1500.01"),
    ("£1,500.01", "GBP", "1500.01"),
    ("GBP 1500.01", "GBP", "1500.01"),
    ("gbp1500.01", "GBP", "1500.01"),
    ("1500", "GBP", "1500"),
    ("1,500.01 GBP", "GBP", "1500.01"),
    (" 1500.10 ", "GBP", "1500.10"),
    ("$1,000.00", "USD", "1000.00"),
    ("USD 1,000", "USD", "1000"),
    ("¥1,200", "JPY", "1200"),
    ("1.234", "KWD", "1.234"),
    ("1500.010", "GBP", "1500.01"),
])
def test_amounts_typed_the_way_people_type_them_are_read(text: str, currency: str,
                                                          expected: str) -> None:
    assert read_typed_amount(text, currency) == Decimal(expected)


@pytest.mark.parametrize(("text", "currency", "says"), [
    ("1e3", "GBP", "digits"),
    ("1E3", "GBP", "digits"),
    ("nan", "GBP", "digits"),
    ("NaN", "GBP", "digits"),
    ("inf", "GBP", "digits"),
    ("Infinity", "GBP", "digits"),
    ("$1,500.01", "GBP", "not GBP"),
    ("€10", "GBP", "not GBP"),
    ("USD 10", "GBP", "USD is not"),
    ("10 eur", "GBP", "EUR is not"),
    ("1500.001", "GBP", "at most 2 decimals"),
    ("1200.5", "JPY", "no decimals"),
    ("0", "GBP", "more than zero"),
    ("0.00", "GBP", "more than zero"),
    ("-5", "GBP", "more than zero"),
    ("£-5", "GBP", "more than zero"),
    ("(5.00)", "GBP", "more than zero"),
    ("1,50.00", "GBP", "digits"),
    ("12a3", "GBP", "digits"),
    ("12abc", "GBP", "ABC is not"),
    ("", "GBP", "Enter the amount"),
    ("1" * 41, "GBP", "too long"),
    ("0x10", "GBP", "digits"),
    ("1_000", "GBP", "digits"),
])
def test_non_amounts_are_refused_with_a_reason(text: str, currency: str, says: str) -> None:
    with pytest.raises(AmountRefused, match=says):
        read_typed_amount(text, currency)


_CURRENCIES = st.sampled_from(["GBP", "USD", "EUR", "JPY", "KWD"])


@given(cents=st.integers(min_value=1, max_value=10**13), currency=_CURRENCIES)
def test_billbot_reads_back_every_amount_it_shows(cents: int, currency: str) -> None:
    amount = Decimal(cents).scaleb(-minor_units(currency))
    shown = format_money(amount, currency)  # "GBP 1,500.01"
    assert read_typed_amount(shown, currency) == amount
    assert read_typed_amount(shown.split(" ", 1)[1], currency) == amount


@given(text=st.text(max_size=45), currency=_CURRENCIES)
def test_anything_read_is_a_positive_finite_amount_in_the_currency_decimals(
        text: str, currency: str) -> None:
    try:
        value = read_typed_amount(text, currency)
    except AmountRefused:
        return
    assert value.is_finite() and value > 0
    assert value == value.quantize(Decimal(1).scaleb(-minor_units(currency)))
    assert "e" not in text.lower().replace(currency.lower(), "").replace("eur", "")


@given(mantissa=st.integers(min_value=1, max_value=999), exponent=st.integers(-5, 5))
def test_exponents_are_never_read(mantissa: int, exponent: int) -> None:
    with pytest.raises(AmountRefused):
        read_typed_amount(f"{mantissa}e{exponent}", "GBP")


def test_a_typed_rate_is_plain_digits_and_positive() -> None:
    assert read_typed_rate(" 0.781 ", base="GBP", currency="USD") == Decimal("0.781")
    for bad in ("1e-3", "0", "-0.7", "nan", "0.7812345678", "abc", ""):
        with pytest.raises(AmountRefused):
            read_typed_rate(bad, base="GBP", currency="USD")


def test_the_rate_follows_from_the_amount_leaving_the_account() -> None:
    assert rate_from_amounts(Decimal("1000.00"), Decimal("781.00")) == Decimal("0.781")
    assert rate_from_amounts(Decimal("3"), Decimal("1")) == Decimal("0.333333333")
