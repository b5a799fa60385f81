"""Payment accounts beyond Slack's limits (issue 14, problem 9, the pay form's part): more
than 100 accounts are all reachable through a searchable select, and an account id longer
than an option value may be is carried as a short handle and still pays."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.e2e.conftest import (
    PAT,
    Stack,
    approve,
    eventually,
    first_due,
    open_pay_modal,
    pay_values,
    post_digest,
    today,
)
from tests.support.pay_review import submit_pay

LONG_ID = "acct-" + "x" * 195  # 200 characters: over Slack's 150 for an option value


def add_accounts(stack: Stack, count: int) -> list[str]:
    """`count` more Active GBP accounts in the books, the last with a 200-character id."""
    names = []
    for n in range(count):
        account_id = LONG_ID if n == count - 1 else f"sweep-{n:03d}"
        name = f"Sweep account {n:03d}"
        stack.sandbox.main_ledger.bank_accounts[account_id] = {
            "id": account_id, "name": name, "accountNumber": f"{n:08d}", "nominalCode": None,
            "sortCode": None, "currency": "GBP", "status": "Active", "accountType": "Debit",
            "sourceModifiedDate": "2026-05-15T08:00:00Z"}
        names.append(name)
    return names


def account_element(view: Any) -> dict[str, Any]:
    return dict(next(b["element"] for b in view.definition["blocks"]
                     if b.get("block_id") == "account"))


async def search(stack: Stack, typed: str) -> list[dict[str, Any]]:
    answer = await stack.driver.suggest(PAT, "account", "account", typed)
    assert answer.status == 200, answer.body
    options: list[dict[str, Any]] = json.loads(answer.body)["options"]
    return options


async def test_120_accounts_are_all_reachable_through_search(stack: Stack) -> None:
    names = add_accounts(stack, 120)
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    element = account_element(view)
    assert element["type"] == "external_select" and "options" not in element
    everything = await search(stack, "")
    assert len(everything) == 100  # Slack's limit per answer: typing narrows it
    for name in names:
        found = await search(stack, name)
        assert name in [o["text"]["text"].split(" (")[0] for o in found], name
    assert all(len(o["value"]) <= 150 for o in await search(stack, "sweep account"))
    assert stack.workspace.violations == [], stack.workspace.violations


async def test_a_200_character_account_id_pays(stack: Stack) -> None:
    add_accounts(stack, 3)
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    long_option = next(o for o in account_element(view)["options"]
                       if o["text"]["text"].startswith("Sweep account 002"))
    assert len(long_option["value"]) <= 150
    due = str(Decimal(str(bill["amountDue"])))
    await submit_pay(stack.driver, PAT, pay_values(long_option["value"], due, today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    assert stack.payments()[0].account_id == LONG_ID
    assert stack.workspace.violations == [], stack.workspace.violations
