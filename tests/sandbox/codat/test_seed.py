"""The standard seed: realistic, dated from `today`, stable, and resizable for benchmarks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from billbot.sandbox.codat import SandboxState
from tests.sandbox.codat.conftest import TODAY

OPEN = ("Open", "PartiallyPaid")


def _due(bill: dict[str, object]) -> date:
    return date.fromisoformat(str(bill["dueDate"])[:10])


def _due_soon(state: SandboxState, days: int = 7) -> list[dict[str, object]]:
    return [b for b in state.main_ledger.bills.values()
            if b["status"] in OPEN and _due(b) <= TODAY + timedelta(days=days)]


def test_main_company_is_acme_on_a_linked_xero_connection_in_gbp() -> None:
    state = SandboxState.seeded(TODAY)
    assert len(state.companies) >= 2
    assert state.companies[state.main_company_id]["name"] == "Acme Trading Ltd"
    connection = state.connections[state.main_company_id][state.main_connection_id]
    assert (connection["platformName"], connection["status"]) == ("Xero", "Linked")
    assert state.main_ledger.base_currency == "GBP"


def test_open_bills_cover_every_due_bucket_and_currency() -> None:
    state = SandboxState.seeded(TODAY)
    bills = list(state.main_ledger.bills.values())
    offsets = {(_due(b) - TODAY).days for b in bills if b["status"] in OPEN}
    assert {-12, -1, 0, 1, 5, 30} <= offsets  # overdue, today, tomorrow, this week, later
    assert {b["currency"] for b in bills if b["status"] in OPEN} == {"GBP", "USD", "EUR"}
    assert {"Open", "PartiallyPaid", "Paid", "Void", "Draft"} <= {b["status"] for b in bills}
    assert any(b["amountDue"] is None for b in bills)
    assert all(b["lineItems"] for b in bills)


def test_amounts_add_up() -> None:
    """totalAmount is the sum of the lines; amountDue never exceeds it."""
    for bill in SandboxState.seeded(TODAY).main_ledger.bills.values():
        assert bill["totalAmount"] == sum(line["totalAmount"] for line in bill["lineItems"])
        if bill["amountDue"] is not None:
            assert Decimal(0) <= bill["amountDue"] <= bill["totalAmount"]
        if bill["status"] == "Paid":
            assert bill["amountDue"] == 0
        if bill["status"] == "PartiallyPaid":
            assert 0 < bill["amountDue"] < bill["totalAmount"]


def test_default_digest_is_readable_but_listing_exceeds_a_page() -> None:
    state = SandboxState.seeded(TODAY)
    assert 10 <= len(_due_soon(state)) <= 20
    assert sum(b["status"] in OPEN for b in state.main_ledger.bills.values()) > state.page_size


def test_bank_accounts_include_each_currency_an_archived_and_a_credit_card() -> None:
    accounts = list(SandboxState.seeded(TODAY).main_ledger.bank_accounts.values())
    active = [a for a in accounts if a["status"] == "Active"]
    assert {a["currency"] for a in active} == {"GBP", "USD", "EUR"}
    assert any(a["status"] == "Archived" for a in accounts)
    assert any(a["accountType"] == "Credit" and a["status"] == "Active" for a in accounts)


def test_some_bills_carry_attachments() -> None:
    ledger = SandboxState.seeded(TODAY).main_ledger
    assert sum(len(files) for files in ledger.attachments.values()) >= 2


def test_seed_is_deterministic_and_ids_are_stable_across_days() -> None:
    one, two = SandboxState.seeded(TODAY), SandboxState.seeded(TODAY)
    assert one.main_ledger.bills == two.main_ledger.bills
    later = SandboxState.seeded(TODAY + timedelta(days=3))
    assert later.main_company_id == one.main_company_id
    assert later.main_connection_id == one.main_connection_id
    assert later.main_ledger.bills["7110700004"]["dueDate"] == "2025-01-11T00:00:00"


def test_reseed_with_a_chosen_number_of_open_bills() -> None:
    state = SandboxState.seeded(TODAY, bills=5000)
    assert sum(b["status"] in OPEN for b in state.main_ledger.bills.values()) == 5000
    assert 10 <= len(_due_soon(state)) <= 20  # the extra bills fall due later
    state.reseed(bills=120)
    assert sum(b["status"] in OPEN for b in state.main_ledger.bills.values()) == 120
    state.reseed(bills=300, due_soon=200)
    assert len(_due_soon(state)) == 200
