"""The grouping key shared by the review's payment counts and the tie of a pay run's
intents: 'supplier' groups by supplier and currency, 'batch' puts every base-currency bill in
one payment and falls back to the supplier's for other currencies, 'each' groups nothing."""

from __future__ import annotations

from decimal import Decimal

from billbot.services.payment_groups import (
    BATCH,
    EACH,
    SUPPLIER,
    group_key,
    payment_count,
    within_limit,
)

# (supplier id, currency, amount): two GBP suppliers with two bills each, one USD supplier
# with two, one with one.
BILLS = [(s, c, Decimal(100)) for s, c in (
    ("s1", "GBP"), ("s1", "GBP"), ("s2", "GBP"), ("s2", "gbp"), ("s3", "USD"), ("s3", "USD"),
    ("s4", "USD"))]


def test_each_bill_its_own_payment() -> None:
    assert group_key(EACH, supplier_id="s1", currency="GBP", base_currency="GBP") is None
    assert payment_count(EACH, BILLS, "GBP") == 7


def test_one_payment_per_supplier_and_currency() -> None:
    assert group_key(SUPPLIER, supplier_id="s1", currency="gbp", base_currency="GBP") == (
        "s1", "GBP")
    assert payment_count(SUPPLIER, BILLS, "GBP") == 4


def test_a_batch_takes_the_base_currency_and_other_currencies_fall_back() -> None:
    assert group_key(BATCH, supplier_id="s1", currency="GBP", base_currency="gbp") == ("", "GBP")
    assert group_key(BATCH, supplier_id="s3", currency="USD", base_currency="GBP") == (
        "s3", "USD")
    assert payment_count(BATCH, BILLS, "GBP") == 3  # the GBP batch, s3's USD, s4's USD


def test_without_a_known_base_currency_a_batch_is_per_supplier() -> None:
    assert payment_count(BATCH, BILLS, None) == payment_count(SUPPLIER, BILLS, None)



def test_no_payment_of_a_group_exceeds_the_payers_limit() -> None:
    """A payer's limit is the most one payment may be: a group above it is split, in order."""
    amounts = [Decimal(a) for a in ("60", "50", "40", "100", "10")]
    assert within_limit(amounts, Decimal(100)) == [[0], [1, 2], [3], [4]]
    assert within_limit(amounts, None) == [[0, 1, 2, 3, 4]]
    assert within_limit([], Decimal(1)) == []
    # GBP 400 of batch at a GBP 250 limit: two payments; USD has no limit listed here.
    limits = {"GBP": Decimal(250), "USD": Decimal(10_000)}
    assert payment_count(BATCH, BILLS, "GBP", limits) == 4
    assert payment_count(SUPPLIER, BILLS, "GBP", {"GBP": Decimal(150)}) == 6
    assert payment_count(BATCH, BILLS, "GBP", {}) == 3  # {}: a payer without limits
