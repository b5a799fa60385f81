"""Payment accounts in the pay form beyond Slack's limits.

Slack's selects take at most 100 options and option values of at most 150 characters. More
accounts are offered through a searchable `external_select` (answered from `block_suggestion`
within Slack's 3 seconds, from the accounts read when the form opened); a longer account id is
carried as a short handle derived from it, resolved on submission against the accounts
re-read from Codat, so nothing is trusted from the form and no account is silently dropped.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

from billbot.codat.models import BankAccountOption
from billbot.slackapp.blocks import _plain, account_label

ACTION_ACCOUNT = "account"  # the account select's action_id (and its block's id)
MAX_SELECT_OPTIONS = 100  # Slack: options in a select, and in a block_suggestion answer
MAX_OPTION_VALUE = 150  # Slack: characters in an option's value
HANDLE_PREFIX = "acct:"
_REMEMBERED = 2000  # forms whose accounts are kept for their suggestions
_KEEP_SECONDS = 30 * 60  # a pay form's signed context lives 30 minutes


def account_value(account: BankAccountOption) -> str:
    """The option value for an account: its id, or a short handle when the id is too long."""
    if len(account.id) <= MAX_OPTION_VALUE:
        return account.id
    return HANDLE_PREFIX + hashlib.sha256(account.id.encode()).hexdigest()[:40]


def find_account(accounts: list[BankAccountOption], value: str) -> BankAccountOption | None:
    """The account an option value names (its id, or its handle), among `accounts`."""
    return next((a for a in accounts if account_value(a) == value), None)


def option(account: BankAccountOption) -> dict[str, Any]:
    return {"text": _plain(account_label(account), 75), "value": account_value(account)}


def matching_options(accounts: list[BankAccountOption], query: str) -> list[dict[str, Any]]:
    """Up to 100 options whose label contains every word typed (any case)."""
    words = query.casefold().split()
    found = [a for a in accounts
             if all(w in f"{account_label(a)} {a.id}".casefold() for w in words)]
    return [option(a) for a in found[:MAX_SELECT_OPTIONS]]


def account_element(accounts: list[BankAccountOption]) -> dict[str, Any]:
    """A static select for up to 100 accounts; a searchable external select beyond."""
    if len(accounts) <= MAX_SELECT_OPTIONS:
        return {"type": "static_select", "action_id": ACTION_ACCOUNT,
                "placeholder": _plain("Choose an account", 150),
                "options": [option(a) for a in accounts]}
    return {"type": "external_select", "action_id": ACTION_ACCOUNT, "min_query_length": 0,
            "placeholder": _plain(f"Type to search {len(accounts)} accounts", 150)}


class OfferedAccounts:
    """The accounts each open pay form offered (by the form's signed context), so a search
    is answered at once; bounded, and forgotten after the form's lifetime."""

    def __init__(self) -> None:
        self._forms: OrderedDict[str, tuple[float, list[BankAccountOption]]] = OrderedDict()

    def remember(self, form_key: str, accounts: list[BankAccountOption]) -> None:
        self._forms[form_key] = (time.monotonic(), accounts)
        self._forms.move_to_end(form_key)
        while len(self._forms) > _REMEMBERED:
            self._forms.popitem(last=False)

    def recall(self, form_key: str) -> list[BankAccountOption] | None:
        kept = self._forms.get(form_key)
        if kept is None or time.monotonic() - kept[0] > _KEEP_SECONDS:
            return None
        return kept[1]


__all__ = ["ACTION_ACCOUNT", "HANDLE_PREFIX", "MAX_OPTION_VALUE", "MAX_SELECT_OPTIONS", "OfferedAccounts",
           "account_element", "account_value", "find_account", "matching_options", "option"]
