"""AsyncBillPayClient against the Codat sandbox's async API over real HTTP: reads from the
synced data with the query language and paging, a payment as a push operation followed to
Success, a failed push with Codat's reason, and the resolver that tells whether a payment
whose answer was lost is in the books (by its reference) before anything is sent again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from billbot.codat import CodatClient
from billbot.codat.async_api import (
    AsyncBillPayClient,
    AsyncBillPayment,
    FollowPolicy,
    PaymentLine,
    PaymentLink,
    PushStatus,
)
from billbot.codat.async_api.payment_lookup import payment_lookup
from billbot.codat.async_api.queries import bills_query
from billbot.codat.async_api.resolve import Absent, Found, Undecided, resolve
from billbot.codat.errors import CodatOutcomeUnknown
from billbot.codat.models import IdRef, SupplierRef
from billbot.sandbox.codat import FaultKind
from tests.plugins.openapi_contract import CodatSandbox

from .conftest import FAST, GBP_BILL

PUSH_PATH = r"/push/billPayments$"


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def client(codat_sandbox: CodatSandbox) -> AsyncIterator[AsyncBillPayClient]:
    async with httpx.AsyncClient() as http:
        sync = CodatClient(http, api_key=codat_sandbox.api_key,
                           base_url=codat_sandbox.base_url, retry=FAST, timeout=5)
        yield AsyncBillPayClient(sync, page_size=7, sleep=_no_sleep,
                                 follow_policy=FollowPolicy(initial_delay=0.01, budget=1.0))


def _payment(bill_id: str, supplier: str, account: str, amount: Decimal,
             reference: str) -> AsyncBillPayment:
    return AsyncBillPayment(
        supplier_ref=SupplierRef(id=supplier), account_ref=IdRef(id=account),
        total_amount=amount, currency="GBP", date="2026-12-01T00:00:00", reference=reference,
        lines=[PaymentLine(amount=amount, links=[PaymentLink(type="Bill", id=bill_id,
                                                             amount=-amount)])])


async def _gbp_account(client: AsyncBillPayClient, sandbox: CodatSandbox) -> str:
    options = await client.get_payment_mapping_options(sandbox.company_id,
                                                       sandbox.connection_id)
    return next(a.id for a in options.bank_accounts
                if a.currency == "GBP" and a.status is not None and a.status.value == "Active")


async def test_reads_page_through_the_synced_data(client: AsyncBillPayClient,
                                                  codat_sandbox: CodatSandbox) -> None:
    """Open bills over several pages of 7; a due-date query narrows them; payment accounts
    are the accounts with isBankAccount=true."""
    company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
    bills = await client.list_bills(company, connection)
    ledger = codat_sandbox.state.main_ledger
    expected = {b["id"] for b in ledger.bills.values()
                if b["status"] in ("Open", "PartiallyPaid")}
    assert {b.id for b in bills} == expected and len(bills) > 7
    soon = codat_sandbox.state.today + timedelta(days=7)
    due = await client.list_bills(company, connection, query=bills_query(due_by=soon))
    assert due and {b.id for b in due} < expected
    assert all(b.due_date <= soon for b in due)
    accounts = (await client.get_payment_mapping_options(company, connection)).bank_accounts
    assert {a.id for a in accounts} == set(ledger.bank_accounts)
    info = await client.get_company_info(company, connection)
    assert info.base_currency == "GBP"
    bill = await client.get_bill(company, connection, GBP_BILL)
    assert bill.id == GBP_BILL and bill.amount_due == Decimal("480.00")


async def test_a_payment_is_a_push_operation_followed_to_success(
        client: AsyncBillPayClient, codat_sandbox: CodatSandbox) -> None:
    company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
    bill = await client.get_bill(company, connection, GBP_BILL)
    account = await _gbp_account(client, codat_sandbox)
    reference = f"billbot-{uuid.uuid4().hex}"
    pushed = await client.push_bill_payment(company, connection, _payment(
        bill.id, bill.supplier_ref.id, account, Decimal("100.00"), reference))
    assert pushed.status is PushStatus.PENDING
    done = await client.follow(company, pushed)
    assert done.status is PushStatus.SUCCESS and done.record_id
    [paid] = [p for p in codat_sandbox.state.payments if p.bill_id == GBP_BILL]
    assert paid.reference == reference and paid.amount == Decimal("100.00")
    # The synced copy shows it only after a sync; then it is found by its reference.
    lookup = payment_lookup(client, company, connection, GBP_BILL)
    await client.request_sync(company, connection, "billPayments")
    found = await resolve(lookup, reference=reference, connection_id=connection,
                          sent_since=datetime.now(UTC) - timedelta(minutes=1), other_keys=())
    assert isinstance(found, Found) and found.record_id == done.record_id
    assert found.push_key == pushed.push_operation_key


async def test_a_failed_push_carries_codats_reason_and_writes_nothing(
        client: AsyncBillPayClient, codat_sandbox: CodatSandbox) -> None:
    company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
    bill = await client.get_bill(company, connection, GBP_BILL)
    account = await _gbp_account(client, codat_sandbox)
    codat_sandbox.state.faults.next(FaultKind.PUSH_FAILED, 1, path=PUSH_PATH)
    pushed = await client.push_bill_payment(company, connection, _payment(
        bill.id, bill.supplier_ref.id, account, Decimal("10.00"), "billbot-failed"))
    done = await client.follow(company, pushed)
    assert done.status is PushStatus.FAILED and done.reason
    assert [p for p in codat_sandbox.state.payments if p.bill_id == GBP_BILL] == []


async def test_a_lost_answer_is_undecided_until_the_push_ends_then_found_or_absent(
        client: AsyncBillPayClient, codat_sandbox: CodatSandbox) -> None:
    """The answer never arrives: the push is listed as a candidate (pending: wait), then
    found by the reference its record carries; a request that never landed is absent."""
    company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
    bill = await client.get_bill(company, connection, GBP_BILL)
    account = await _gbp_account(client, codat_sandbox)
    state = codat_sandbox.state
    sent_at = datetime.now(UTC)
    lookup = payment_lookup(client, company, connection, GBP_BILL)
    assert isinstance(await resolve(lookup, reference="billbot-never", connection_id=connection,
                                    sent_since=sent_at, other_keys=()), Absent)

    state.faults.lose_response_hold_seconds = 2.0
    state.faults.next(FaultKind.LOSE_RESPONSE, 1, path=PUSH_PATH)
    reference = f"billbot-{uuid.uuid4().hex}"
    async with httpx.AsyncClient() as http:
        impatient = AsyncBillPayClient(CodatClient(
            http, api_key=codat_sandbox.api_key, base_url=codat_sandbox.base_url, timeout=0.3,
            retry=FAST))
        with pytest.raises(CodatOutcomeUnknown):
            await impatient.push_bill_payment(company, connection, _payment(
                bill.id, bill.supplier_ref.id, account, Decimal("20.00"), reference))
    verdicts = []
    for _ in range(5):
        verdict = await resolve(lookup, reference=reference, connection_id=connection,
                                sent_since=sent_at, other_keys=())
        verdicts.append(verdict)
        if isinstance(verdict, Found):
            break
    assert isinstance(verdicts[0], Undecided), verdicts
    assert isinstance(verdicts[-1], Found), verdicts
    assert len([p for p in state.payments if p.reference == reference]) == 1
