"""Accounts in the pay form beyond Slack's limits: handles for long ids, search, the element."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from billbot.codat.models import AccountStatus, BankAccountOption
from billbot.slackapp.account_choices import (
    MAX_OPTION_VALUE,
    MAX_SELECT_OPTIONS,
    OfferedAccounts,
    account_element,
    account_value,
    find_account,
    matching_options,
)


def account(account_id: str, name: str = "Current") -> BankAccountOption:
    return BankAccountOption(id=account_id, name=name, currency="GBP", status=AccountStatus.ACTIVE)


@given(st.text(min_size=1, max_size=400))
def test_every_account_id_fits_an_option_value_and_resolves_back(account_id: str) -> None:
    accounts = [account(account_id), account(account_id + "-other")]
    value = account_value(accounts[0])
    assert len(value) <= MAX_OPTION_VALUE
    assert find_account(accounts, value) is accounts[0]


def test_short_ids_are_carried_as_they_are_and_unknown_values_find_nothing() -> None:
    accounts = [account("acc-1")]
    assert account_value(accounts[0]) == "acc-1"
    assert find_account(accounts, "acc-2") is None
    assert find_account(accounts, "acct:" + "0" * 40) is None


def test_up_to_100_accounts_are_a_static_select_beyond_that_a_search() -> None:
    hundred = [account(f"a{n}", f"Account {n}") for n in range(MAX_SELECT_OPTIONS)]
    assert account_element(hundred)["type"] == "static_select"
    assert len(account_element(hundred)["options"]) == MAX_SELECT_OPTIONS
    more = [*hundred, account("a100", "Account 100")]
    element = account_element(more)
    assert element["type"] == "external_select" and "101" in element["placeholder"]["text"]


def test_search_matches_every_word_in_any_case_and_answers_at_most_100() -> None:
    accounts = [account(f"a{n}", f"Sweep {n:03d}") for n in range(150)]
    accounts.append(account("usd", "Dollar Reserve"))
    assert len(matching_options(accounts, "")) == MAX_SELECT_OPTIONS
    assert [o["value"] for o in matching_options(accounts, "dollar RESERVE")] == ["usd"]
    assert [o["value"] for o in matching_options(accounts, "sweep 149")] == ["a149"]


def test_offered_accounts_are_recalled_per_form_and_bounded() -> None:
    offered = OfferedAccounts()
    offered.remember("form-1", [account("a")])
    assert [a.id for a in offered.recall("form-1") or []] == ["a"]
    assert offered.recall("form-2") is None
    for n in range(2100):
        offered.remember(f"f{n}", [])
    assert offered.recall("form-1") is None
