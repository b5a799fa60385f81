"""The Add bank account form's inline checks (pure)."""

from __future__ import annotations

from billbot.domain.bank_account_input import AccountInput, read_input


def fields(**over: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = {"name": " Barclays  Payables ", "account_type": "Debit",
                                   "account_number": "41234567", "currency": "gbp",
                                   "sort_code": "200000", "nominal_code": None}
    return {**base, **over}


def test_a_good_uk_account_is_read_and_normalised() -> None:
    account, errors = read_input(fields())
    assert errors == {}
    assert account == AccountInput(name="Barclays Payables", account_type="Debit",
                                   account_number="41234567", currency="GBP",
                                   sort_code="20-00-00")


def test_each_bad_field_gets_its_own_message() -> None:
    account, errors = read_input(fields(name="  ", account_type="Savings", currency="GB",
                                        account_number="12/34", sort_code="1234",
                                        nominal_code="a b"))
    assert account is None
    assert set(errors) == {"name", "account_type", "currency", "account_number", "sort_code",
                           "nominal_code"}


def test_a_uk_bank_account_needs_its_sort_code_but_an_iban_or_a_card_does_not() -> None:
    assert set(read_input(fields(sort_code=None))[1]) == {"sort_code"}
    assert read_input(fields(sort_code=None, account_type="Credit"))[1] == {}
    iban, errors = read_input(fields(sort_code=None, currency="EUR",
                                     account_number="de89 3704 0044 0532 0130 00"))
    assert errors == {} and iban is not None
    assert iban.account_number == "DE89 3704 0044 0532 0130 00"
