"""Create bill payment: the money rules (codat.md section 7, rules 6-11)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from billbot.clock import FixedClock
from billbot.sandbox.codat import SandboxState
from tests.sandbox.codat.conftest import Api
from tests.sandbox.codat.helpers import assert_error, messages

GBP_BILL = "7110700004"  # Open, GBP 480.00, due today, issued 30 days ago
USD_BILL = "7110700002"  # Open, USD 4,800.00, overdue
EUR_PARTLY_PAID = "7110700003"  # PartiallyPaid, EUR 1,200.00 of 3,000.00 due
PAY_DATE = "2025-01-08T00:00:00"


def payment(api: Api, amount: Any, account: str = "Business Current Account",
            **extra: Any) -> dict[str, Any]:
    return {"amount": amount, "date": PAY_DATE, "accountRef": {"id": api.account_id(account)},
            **extra}


def test_paying_in_full_marks_the_bill_paid_and_records_the_payment(
        api: Api, state: SandboxState, clock: FixedClock) -> None:
    clock.set(datetime(2025, 1, 8, 11, 30, tzinfo=UTC))
    response = api.pay(GBP_BILL, payment(api, 480.00, reference="Jan cleaning"), key="k-1")
    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == 480 and body["date"] == PAY_DATE
    assert body["accountRef"] == {"id": api.account_id("Business Current Account")}
    assert body["reference"] == "Jan cleaning" and body["id"]
    bill = state.bill(GBP_BILL)
    assert (bill["status"], bill["amountDue"]) == ("Paid", Decimal(0))
    assert bill["sourceModifiedDate"] == "2025-01-08T11:30:00Z"
    [record] = state.payments
    assert (record.bill_id, record.amount, record.idempotency_key, record.payment_id) == (
        GBP_BILL, Decimal("480.00"), "k-1", body["id"])
    assert (record.company_id, record.connection_id) == (state.main_company_id,
                                                         state.main_connection_id)
    assert GBP_BILL not in {b["id"] for b in api.all_bills()}  # Paid leaves the default list


def test_partial_payments_reduce_amount_due_until_paid(api: Api, state: SandboxState) -> None:
    assert api.pay(GBP_BILL, payment(api, 100.5)).status_code == 201
    bill = state.bill(GBP_BILL)
    assert (bill["status"], bill["amountDue"]) == ("PartiallyPaid", Decimal("379.50"))
    assert api.pay(GBP_BILL, payment(api, 379.5)).status_code == 201
    assert (state.bill(GBP_BILL)["status"], state.bill(GBP_BILL)["amountDue"]) == ("Paid", 0)
    assert [p.amount for p in state.payments] == [Decimal("100.5"), Decimal("379.5")]


def test_amount_is_exact_decimal_not_float(api: Api, state: SandboxState) -> None:
    """0.1 + 0.2 in float is not 0.3; the sandbox keeps the digits it was sent."""
    for amount in ("0.10", "0.20"):
        account = api.account_id("Business Current Account")
        content = f'{{"amount": {amount}, "date": "{PAY_DATE}", "accountRef": {{"id": "{account}"}}}}'
        response = api.client.post(f"{api.payables}/bills/{GBP_BILL}/payment", content=content,
                                   headers={"Content-Type": "application/json"})
        assert response.status_code == 201
    assert state.bill(GBP_BILL)["amountDue"] == Decimal("479.70")


@pytest.mark.parametrize("amount, expected", [
    (480.01, "greater than the amount due"),
    (0, "greater than 0"),
    (-5, "greater than 0"),
    (10.001, "more decimal places"),
    ("10", "must be a number"),
])
def test_bad_amounts_are_refused_and_nothing_moves(api: Api, state: SandboxState,
                                                   amount: Any, expected: str) -> None:
    response = api.pay(GBP_BILL, payment(api, amount))
    assert_error(response, 400)
    assert any(expected in m for m in messages(response)), messages(response)
    assert state.payments == [] and state.bill(GBP_BILL)["amountDue"] == Decimal("480.00")


@pytest.mark.parametrize("bill_id, status", [
    ("7110700018", "Paid"), ("7110700019", "Void"), ("7110700020", "Draft")])
def test_only_open_or_partially_paid_bills_can_be_paid(api: Api, state: SandboxState,
                                                       bill_id: str, status: str) -> None:
    assert state.bill(bill_id)["status"] == status
    response = api.pay(bill_id, payment(api, 1))
    assert_error(response, 400)
    assert any(status in m for m in messages(response))
    assert state.payments == []


def test_a_bill_with_unknown_amount_due_cannot_be_paid(api: Api, state: SandboxState) -> None:
    unknown = next(b for b in state.main_ledger.bills.values() if b["amountDue"] is None)
    assert_error(api.pay(unknown["id"], payment(api, 1)), 400)


def test_partially_paid_bill_can_be_paid_up_to_what_remains(api: Api,
                                                           state: SandboxState) -> None:
    assert_error(api.pay(EUR_PARTLY_PAID, payment(api, 1200.01, "EUR Operating Account")), 400)
    assert api.pay(EUR_PARTLY_PAID, payment(api, 1200, "EUR Operating Account")).status_code == 201
    assert state.bill(EUR_PARTLY_PAID)["status"] == "Paid"


def test_account_must_be_an_active_bank_account_in_bill_or_base_currency(api: Api) -> None:
    unknown = {"amount": 1, "date": PAY_DATE, "accountRef": {"id": "no-such-account"}}
    assert any("not a bank account" in m for m in messages(api.pay(USD_BILL, unknown)))
    archived = api.pay(GBP_BILL, payment(api, 1, "Business Savings (closed)"))
    assert any("archived" in m for m in messages(archived))
    wrong_currency = api.pay(USD_BILL, payment(api, 1, "EUR Operating Account"))
    assert_error(wrong_currency, 400)
    assert any("neither the bill currency" in m for m in messages(wrong_currency))
    # the bill's own currency, the base currency, and a credit card all work
    assert api.pay(USD_BILL, payment(api, 1, "USD Operating Account")).status_code == 201
    assert api.pay(USD_BILL, payment(api, 1, "Business Current Account",
                                     currencyRate=0.78)).status_code == 201
    assert api.pay(GBP_BILL, payment(api, 1, "Company Credit Card")).status_code == 201


def test_bad_currency_rate_is_refused(api: Api) -> None:
    response = api.pay(USD_BILL, payment(api, 1, "Business Current Account", currencyRate=0))
    assert any("Currency Rate must be greater than 0" in m for m in messages(response))


def test_payment_date_cannot_precede_the_issue_date(api: Api, state: SandboxState) -> None:
    issued = state.bill(GBP_BILL)["issueDate"][:10]
    early = {**payment(api, 1), "date": "2024-12-08T00:00:00"}
    assert issued == "2024-12-09"
    assert any("issue date" in m for m in messages(api.pay(GBP_BILL, early)))
    on_the_day = {**payment(api, 1), "date": "2024-12-09"}
    assert api.pay(GBP_BILL, on_the_day).status_code == 201


def test_required_fields_are_all_reported(api: Api) -> None:
    response = api.pay(GBP_BILL, {})
    assert_error(response, 400)
    assert messages(response) == ["Amount is required.", "Date is required.",
                                  "Account Ref Id is required."]
    not_a_date = {**payment(api, 1), "date": "8th of January"}
    assert messages(api.pay(GBP_BILL, not_a_date)) == ["Date must be an ISO-8601 date."]
    garbage = api.client.post(f"{api.payables}/bills/{GBP_BILL}/payment", content=b"{nope",
                              headers={"Content-Type": "application/json"})
    assert_error(garbage, 400)


def test_unknown_bill_company_or_connection_is_a_404(api: Api, state: SandboxState) -> None:
    assert_error(api.pay("no-such-bill", payment(api, 1)), 404)
    other = "00000000-0000-4000-8000-000000000000"
    response = api.client.post(
        f"/companies/{other}/connections/{state.main_connection_id}/payables/bills/"
        f"{GBP_BILL}/payment", json=payment(api, 1))
    assert assert_error(response, 404)["error"] == f"No company was found with ID {other}"
    response = api.client.post(f"{api.company}/connections/{other}/payables/bills/{GBP_BILL}"
                               "/payment", json=payment(api, 1))
    assert assert_error(response, 404)["error"] == f"Data connection {other} not found"
    assert state.payments == []


def test_payables_on_a_connection_that_is_not_linked_are_refused(api: Api,
                                                                 state: SandboxState) -> None:
    initech = next(cid for cid, c in state.companies.items() if c["name"] == "Initech GmbH")
    [connection] = state.connections[initech]
    response = api.client.get(f"/companies/{initech}/connections/{connection}/payables/bills")
    assert_error(response, 403)


def test_concurrent_payments_of_one_bill_never_overpay(api: Api, state: SandboxState) -> None:
    """Ten threads each try to pay the whole bill; writes are atomic, so one wins."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    def pay_once(_: int) -> int:
        with httpx.Client(base_url=api.base_url, headers=dict(api.client.headers)) as client:
            return client.post(f"{api.payables}/bills/{GBP_BILL}/payment",
                               json=payment(api, 480)).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(pay_once, range(10)))
    assert statuses == [201] + [400] * 9
    assert len(state.payments) == 1 and state.bill(GBP_BILL)["amountDue"] == 0
