"""Codat's official Python SDK (codat-sync-for-payables 10.0.0) against the sandbox over
real HTTP: an independent client checking the stand-in's shapes and semantics."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from codat_sync_for_payables.models import errors
from codat_sync_for_payables.models.shared.security import Security
from codat_sync_for_payables.sdk import CodatSyncPayables
from codat_sync_for_payables.utils.retries import BackoffStrategy, RetryConfig

from billbot.sandbox.codat import FaultKind, SandboxState
from billbot.sandbox.serving import ServedApp
from tests.sandbox.codat.conftest import API_KEY

BILL = "7110700004"  # Open, GBP 480.00
NO_RETRIES = RetryConfig("none")
QUICK_RETRIES = RetryConfig("backoff", BackoffStrategy(initial_interval=10, max_interval=50,
                                                       exponent=1.5, max_elapsed_time=10_000))


@pytest.fixture
def sdk(served: ServedApp) -> Iterator[Any]:
    """The SDK client, typed Any: its generated method names (`list`) confuse mypy."""
    auth = "Basic " + base64.b64encode(API_KEY.encode()).decode()
    with CodatSyncPayables(security=Security(auth_header=auth), server_url=served.base_url,
                           retry_config=NO_RETRIES) as client:
        yield client


@pytest.fixture
def ids(state: SandboxState) -> dict[str, str]:
    return {"company_id": state.main_company_id, "connection_id": state.main_connection_id}


def gbp_account(sdk: Any, ids: dict[str, str]) -> str:
    options = sdk.bill_payments.get_payment_options(request=ids)
    return next(str(a.id) for a in options.bank_accounts
                if a.name == "Business Current Account")


def payment(ids: dict[str, str], account: str, amount: Any, key: str | None,
            bill: str = BILL) -> dict[str, Any]:
    return {**ids, "bill_id": bill, "idempotency_key": key,
            "bill_payment_prototype": {"amount": amount, "date": "2025-01-08T00:00:00",
                                       "account_ref": {"id": account}}}


def test_sdk_discovers_the_seeded_company(sdk: Any, state: SandboxState) -> None:
    companies = sdk.companies.list(request={}).results
    acme = next(c for c in companies if c.name == "Acme Trading Ltd")
    assert acme.id == state.main_company_id
    info = sdk.company_information.get(request={"company_id": acme.id,
                                                "connection_id": state.main_connection_id})
    assert info.base_currency == "GBP"


def test_sdk_lists_bills_across_pages(sdk: Any, ids: dict[str, str],
                                      state: SandboxState) -> None:
    state.page_size = 25
    seen, token, pages = [], None, 0
    while True:
        page = sdk.bills.list(request={**ids, "continuation_token": token})
        pages += 1
        seen += page.results
        token = page.pagination.continuation_token if page.pagination else None
        if not token:
            break
    expected = [b["id"] for b in state.main_ledger.bills.values()
                if b["status"] in ("Open", "PartiallyPaid")]
    assert [b.id for b in seen] == expected and pages == 5
    assert seen[0].amount_due == Decimal("1500.01")  # Decimal, no float rounding
    paid = sdk.bills.list(request={**ids, "query": "status=Paid&&currency=EUR"}).results
    assert paid and {b.status.value for b in paid} == {"Paid"}


def test_sdk_reads_payment_mapping_options(sdk: Any, ids: dict[str, str]) -> None:
    accounts = sdk.bill_payments.get_payment_options(request=ids).bank_accounts
    assert {(a.currency, a.account_type.value) for a in accounts} == {
        ("GBP", "Debit"), ("USD", "Debit"), ("EUR", "Debit"), ("GBP", "Credit")}
    options = sdk.bills.get_bill_options(request=ids)
    assert options.tax_rates and options.accounts


def test_sdk_pays_and_a_replayed_key_returns_the_same_payment(
        sdk: Any, ids: dict[str, str], state: SandboxState) -> None:
    account = gbp_account(sdk, ids)
    first = sdk.bill_payments.create(request=payment(ids, account, 480, "sdk-key-1"))
    again = sdk.bill_payments.create(request=payment(ids, account, 480, "sdk-key-1"))
    assert first.id == again.id and first.amount == Decimal(480)
    assert len(state.payments) == 1 and state.payments[0].idempotency_key == "sdk-key-1"
    assert state.bill(BILL)["status"] == "Paid"


def test_sdk_parses_an_overpayment_as_error_message(sdk: Any,
                                                    ids: dict[str, str],
                                                    state: SandboxState) -> None:
    account = gbp_account(sdk, ids)
    with pytest.raises(errors.ErrorMessage) as raised:
        sdk.bill_payments.create(request=payment(ids, account, 480.01, "sdk-over"))
    error: Any = raised.value
    assert error.status_code == 400
    assert error.data.correlation_id and error.data.can_be_retried == "Unknown"
    assert error.data.validation is not None
    assert "greater than the amount due" in error.data.validation.errors[0].message
    assert state.payments == []


def test_sdk_paying_an_unknown_bill_is_a_404(sdk: Any, ids: dict[str, str]) -> None:
    account = gbp_account(sdk, ids)
    with pytest.raises(errors.ErrorMessage) as raised:
        sdk.bill_payments.create(request=payment(ids, account, 1, "sdk-404", bill="nope"))
    assert raised.value.status_code == 404
    assert raised.value.data.error == "Bill nope not found"


def test_sdk_retries_a_429_with_the_same_key(sdk: Any, ids: dict[str, str],
                                             state: SandboxState) -> None:
    account = gbp_account(sdk, ids)
    state.faults.retry_after_seconds = 0
    state.faults.next(FaultKind.RATE_LIMIT, path="/payment$")
    sdk.bill_payments.create(request=payment(ids, account, 10, "sdk-429"),
                             retries=QUICK_RETRIES)
    assert [r.status for r in state.requests if r.path.endswith("/payment")] == [429, 201]
    assert len(state.payments) == 1


def test_sdk_retry_after_a_lost_response_gets_the_stored_answer(
        sdk: Any, ids: dict[str, str], state: SandboxState) -> None:
    """The write commits, the SDK times out and retries with the same key: one payment."""
    account = gbp_account(sdk, ids)
    state.faults.lose_response_hold_seconds = 30
    state.faults.next(FaultKind.LOSE_RESPONSE, path="/payment$")
    result = sdk.bill_payments.create(request=payment(ids, account, 50, "sdk-lost"),
                                      retries=QUICK_RETRIES, timeout_ms=500)
    assert [r.outcome for r in state.requests if r.path.endswith("/payment")] == [
        "handled+lost", "replayed"]
    assert len(state.payments) == 1 and result.id == state.payments[0].payment_id


def test_sdk_uploads_and_lists_attachments(sdk: Any, ids: dict[str, str]) -> None:
    uploaded = sdk.bills.upload_attachment(request={
        **ids, "bill_id": BILL,
        "attachment_upload": {"file": {"file_name": "receipt.txt", "content": b"paid"}}})
    assert uploaded.file_size == 4
    listed = sdk.bills.list_attachments(request={**ids, "bill_id": BILL})
    assert [a.id for a in listed] == [uploaded.id]
