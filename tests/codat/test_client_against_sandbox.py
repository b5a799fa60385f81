"""CodatClient against the Codat sandbox over real HTTP, healthy and under every fault.

The sandbox runs under uvicorn on loopback (`codat_sandbox`, whose exchanges the contract
plugin checks against Codat's OpenAPI spec). Fault tests say what the client retries and
what it surfaces; their money assertions read the sandbox's own record of payments.
Injected waits that matter (Retry-After) go to a recording sleep; faults that are about
time (latency, a response held until the client gives up) use short real timeouts and
assert outcomes, never durations.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billbot.codat import (
    CodatApiError,
    CodatClient,
    CodatNotFound,
    CodatNotSent,
    CodatOutcomeUnknown,
    RetryPolicy,
)
from billbot.codat.models import (
    BankAccountPrototype,
    BankAccountType,
    BillLineItem,
    BillPaymentPrototype,
    BillPrototype,
    BillStatus,
    IdRef,
    SupplierPrototype,
    SupplierRef,
)
from billbot.sandbox.codat import FaultKind, SandboxState
from billbot.sandbox.serving import free_port
from tests.plugins.openapi_contract import CodatSandbox

from .conftest import SleepRecorder

GBP_BILL = "7110700004"  # Open, GBP 480.00, Harbour Cleaning Services
PAID_BILL = "7110700018"
SUPPLIER = "4101"
PAY_DATE = "2099-01-01T00:00:00"
# Real but short waits: the sandbox's faults are one-shot or seeded, so retries resolve fast.
FAST = RetryPolicy(initial_interval=0.02, max_interval=0.1, max_elapsed=10.0,
                   rng=random.Random(1))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def client_on(sandbox: CodatSandbox, http: httpx.AsyncClient, *, retry: RetryPolicy = FAST,
              **options: Any) -> CodatClient:
    return CodatClient(http, api_key=sandbox.api_key, base_url=sandbox.base_url, retry=retry,
                       **options)


def ids(sandbox: CodatSandbox) -> tuple[str, str]:
    return sandbox.company_id, sandbox.connection_id


async def gbp_account(client: CodatClient, sandbox: CodatSandbox) -> str:
    options = await client.get_payment_mapping_options(*ids(sandbox))
    return next(a.id for a in options.bank_accounts if a.name == "Business Current Account")


def payment(amount: str, account_id: str) -> BillPaymentPrototype:
    return BillPaymentPrototype(amount=Decimal(amount), date=PAY_DATE,
                                account_ref=IdRef(id=account_id))


def outcomes(state: SandboxState, path_end: str) -> list[str]:
    return [r.outcome for r in state.requests if r.path.endswith(path_end)]


class TestEveryMethod:
    async def test_companies_and_connections(self, codat_sandbox: CodatSandbox,
                                             http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http)
        first = await client.list_companies(page=1, page_size=2)
        second = await client.list_companies(page=2, page_size=2)
        assert first.total_results == 3 and len(first.results) == 2
        assert len(second.results) == 1
        company = await client.get_company(codat_sandbox.company_id)
        assert company.name == "Acme Trading Ltd"
        connections = await client.list_connections(codat_sandbox.company_id)
        assert [c.id for c in connections.results] == [codat_sandbox.connection_id]
        connection = await client.get_connection(*ids(codat_sandbox))
        assert connection.status == "Linked"

        created = await client.create_company("Umbrella Ltd", description="made by a test")
        linked = await client.create_connection(created.id, "gbol")
        assert linked.status == "PendingAuth"
        assert (await client.get_company(created.id)).description == "made by a test"

    async def test_info_and_mapping_options_across_pages(self, codat_sandbox: CodatSandbox,
                                                        http: httpx.AsyncClient) -> None:
        codat_sandbox.state.page_size = 2
        client = client_on(codat_sandbox, http)
        info = await client.get_company_info(*ids(codat_sandbox))
        assert (info.company_name, info.base_currency) == ("Acme Trading Ltd", "GBP")
        bill_options = await client.get_bill_mapping_options(*ids(codat_sandbox))
        ledger = codat_sandbox.state.main_ledger
        assert {a.id for a in bill_options.accounts} == set(ledger.accounts)
        active_rates = {t for t, r in ledger.tax_rates.items() if r["status"] == "Active"}
        assert {t.id for t in bill_options.tax_rates} == active_rates
        active = await client.get_payment_mapping_options(*ids(codat_sandbox))
        everything = await client.get_payment_mapping_options(
            *ids(codat_sandbox), status_query="status=Active||status=Archived")
        assert len(active.bank_accounts) == 4
        assert {a.id for a in everything.bank_accounts} == set(ledger.bank_accounts)
        assert len(outcomes(codat_sandbox.state, "/mappingOptions/payments")) >= 5

    async def test_bills_listing_paging_and_exact_money(self, codat_sandbox: CodatSandbox,
                                                       http: httpx.AsyncClient) -> None:
        codat_sandbox.state.page_size = 7
        client = client_on(codat_sandbox, http)
        bills = await client.list_bills(*ids(codat_sandbox))
        ledger = codat_sandbox.state.main_ledger
        payable = {b["id"] for b in ledger.bills.values()
                   if b["status"] in ("Open", "PartiallyPaid")}
        assert {b.id for b in bills} == payable and len(bills) == len(payable)
        for bill in bills:
            stored = ledger.bills[bill.id]
            assert bill.total_amount == stored["totalAmount"]
            assert bill.amount_due == stored["amountDue"]
        paid = await client.list_bills(*ids(codat_sandbox),
                                       query="status=Paid&&currency=GBP")
        assert paid and all(b.status is BillStatus.PAID and b.currency == "GBP" for b in paid)

    async def test_get_bill_in_any_status_and_not_found(self, codat_sandbox: CodatSandbox,
                                                        http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http)
        assert (await client.get_bill(*ids(codat_sandbox), PAID_BILL)).status is BillStatus.PAID
        assert (await client.get_bill(*ids(codat_sandbox), GBP_BILL)).amount_due == \
            Decimal("480.00")
        with pytest.raises(CodatNotFound):
            await client.get_bill(*ids(codat_sandbox), "no-such-bill")

    async def test_create_and_update_bill_with_exact_amounts(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http)
        prototype = BillPrototype(
            supplier_ref=SupplierRef(id=SUPPLIER), issue_date=date(2026, 11, 1),
            due_date=date(2026, 11, 30), currency="GBP", reference="T-1",
            line_items=[BillLineItem(unit_amount=Decimal("1329.54"), quantity=Decimal(1)),
                        BillLineItem(unit_amount=Decimal("0.1"), quantity=Decimal(1))])
        created = await client.create_bill(*ids(codat_sandbox), prototype,
                                           idempotency_key="create-1")
        stored = codat_sandbox.state.bill(created.id)
        assert stored["totalAmount"] == Decimal("1329.64") == created.total_amount
        changed = prototype.model_copy(update={"reference": "T-1 (corrected)"})
        updated = await client.update_bill(*ids(codat_sandbox), created.id, changed,
                                           idempotency_key="update-1")
        assert updated.reference == "T-1 (corrected)"
        fetched = await client.get_bill(*ids(codat_sandbox), created.id)
        assert fetched.amount_due == Decimal("1329.64")

    async def test_attachments_round_trip(self, codat_sandbox: CodatSandbox,
                                          http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http)
        content = bytes(range(256)) * 3
        uploaded = await client.upload_attachment(*ids(codat_sandbox), GBP_BILL,
                                                  filename="scan.bin", content=content,
                                                  content_type="application/octet-stream")
        listed = await client.list_attachments(*ids(codat_sandbox), GBP_BILL)
        assert [a.id for a in listed] == [uploaded.id]
        downloaded = await client.download_attachment(*ids(codat_sandbox), GBP_BILL,
                                                      uploaded.id)
        assert downloaded == content

    async def test_pay_a_bill_in_part_with_exact_amounts(self, codat_sandbox: CodatSandbox,
                                                         http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http)
        account = await gbp_account(client, codat_sandbox)
        result = await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                                  payment("0.1", account),
                                                  idempotency_key="pay-1")
        [recorded] = codat_sandbox.state.payments
        assert recorded.amount == Decimal("0.1") == result.amount
        assert recorded.idempotency_key == "pay-1" and recorded.payment_id == result.id
        bill = await client.get_bill(*ids(codat_sandbox), GBP_BILL)
        assert bill.amount_due == Decimal("479.90")
        assert bill.status is BillStatus.PARTIALLY_PAID

    async def test_suppliers_and_bank_accounts(self, codat_sandbox: CodatSandbox,
                                               http: httpx.AsyncClient) -> None:
        codat_sandbox.state.page_size = 4
        client = client_on(codat_sandbox, http)
        suppliers = await client.list_suppliers(*ids(codat_sandbox))
        assert len(suppliers) == len(codat_sandbox.state.main_ledger.suppliers)
        created = await client.create_supplier(
            *ids(codat_sandbox), SupplierPrototype(supplier_name="Test Supplies Ltd",
                                                   default_currency="GBP"),
            idempotency_key="sup-1")
        updated = await client.update_supplier(
            *ids(codat_sandbox), created.id,
            SupplierPrototype(supplier_name="Test Supplies Ltd", email_address="ap@t.example",
                              default_currency="GBP"))
        assert updated.email_address == "ap@t.example"
        found = await client.list_suppliers(*ids(codat_sandbox),
                                            query="supplierName=Test Supplies Ltd")
        assert [s.id for s in found] == [created.id]
        account = await client.create_bank_account(
            *ids(codat_sandbox), BankAccountPrototype(
                name="Payroll", account_type=BankAccountType.DEBIT, account_number="1234",
                currency="GBP"), idempotency_key="bank-1")
        options = await client.get_payment_mapping_options(*ids(codat_sandbox))
        assert account.id in {a.id for a in options.bank_accounts}


class TestFinalErrors:
    async def test_a_wrong_key_is_401(self, codat_sandbox: CodatSandbox,
                                      http: httpx.AsyncClient) -> None:
        client = CodatClient(http, api_key="wrong", base_url=codat_sandbox.base_url)
        with pytest.raises(CodatApiError) as caught:
            await client.list_companies()
        assert caught.value.status_code == 401 and caught.value.correlation_id
        assert len(codat_sandbox.state.requests) == 1

    async def test_validation_errors_arrive_with_their_messages(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http)
        account = await gbp_account(client, codat_sandbox)
        with pytest.raises(CodatApiError) as caught:
            await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                             payment("480.01", account), idempotency_key="v")
        assert caught.value.status_code == 400
        assert "greater than the amount due" in caught.value.reason
        assert codat_sandbox.state.payments == []

    async def test_unknown_company_is_not_found(self, codat_sandbox: CodatSandbox,
                                                http: httpx.AsyncClient) -> None:
        with pytest.raises(CodatNotFound):
            await client_on(codat_sandbox, http).get_company(
                "00000000-0000-4000-8000-000000000000")

    async def test_nothing_listening_is_not_sent(self, http: httpx.AsyncClient) -> None:
        sleeps = SleepRecorder()
        client = CodatClient(http, api_key="k", base_url=f"http://127.0.0.1:{free_port()}",
                             retry=RetryPolicy(max_attempts=3), sleep=sleeps)
        with pytest.raises(CodatNotSent):
            await client.create_bill_payment("c", "k", "b", payment("1", "a"),
                                             idempotency_key="never-sent")
        assert len(sleeps.delays) == 2


class TestLatency:
    async def test_steady_latency_is_absorbed(self, codat_sandbox: CodatSandbox,
                                              http: httpx.AsyncClient) -> None:
        codat_sandbox.state.faults.latency_ms = 20
        client = client_on(codat_sandbox, http)
        assert len(await client.list_bills(*ids(codat_sandbox))) > 0

    async def test_a_read_slower_than_the_timeout_is_retried(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        codat_sandbox.state.faults.next(FaultKind.LATENCY, path="/info$", latency_ms=1000)
        client = client_on(codat_sandbox, http, timeout=httpx.Timeout(5.0, read=0.3))
        info = await client.get_company_info(*ids(codat_sandbox))
        assert info.base_currency == "GBP"
        seen = outcomes(codat_sandbox.state, "/info")  # the first may still be sleeping
        assert len(seen) >= 2 and seen[-1] == "handled"

    async def test_a_slow_payment_is_retried_under_its_key_and_lands_once(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        """Timeout, then 409 while the first attempt is still in flight, then the replay."""
        client = client_on(codat_sandbox, http, timeout=httpx.Timeout(5.0, read=0.3))
        account = await gbp_account(client, codat_sandbox)
        codat_sandbox.state.faults.next(FaultKind.LATENCY, path="/payment$", latency_ms=800)
        result = await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                                  payment("480.00", account),
                                                  idempotency_key="slow-1")
        [recorded] = codat_sandbox.state.payments
        assert result.id == recorded.payment_id
        seen = outcomes(codat_sandbox.state, "/payment")
        assert seen[0] == "handled" and seen[-1] == "replayed"
        assert set(seen[1:]) <= {"idempotency_in_flight", "replayed"}
        keys = {r.idempotency_key for r in codat_sandbox.state.requests
                if r.path.endswith("/payment")}
        assert keys == {"slow-1"}


class TestServerErrors:
    async def test_a_share_of_5xx_on_reads_is_retried_away(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        faults = codat_sandbox.state.faults
        faults.error_rate = 0.5
        faults.reseed(11)
        sleeps = SleepRecorder()
        client = client_on(codat_sandbox, http, sleep=sleeps)
        for _ in range(20):
            assert (await client.get_company_info(*ids(codat_sandbox))).company_name
        statuses = [r.status for r in codat_sandbox.state.requests]
        assert statuses.count(200) == 20
        assert len(statuses) - 20 == len(sleeps.delays) > 0
        assert {500, 503} <= set(statuses)

    async def test_reads_that_always_fail_stop_within_the_budget(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        codat_sandbox.state.faults.error_rate = 1.0
        sleeps = SleepRecorder()
        client = client_on(codat_sandbox, http, retry=RetryPolicy(rng=random.Random(3)),
                           sleep=sleeps)
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.list_bills(*ids(codat_sandbox))
        assert caught.value.status_code in (500, 503)
        assert sum(sleeps.delays) <= 30.0
        assert len(codat_sandbox.state.requests) == len(sleeps.delays) + 1

    async def test_a_keyed_payment_is_retried_through_5xx(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http)
        account = await gbp_account(client, codat_sandbox)
        faults = codat_sandbox.state.faults
        faults.next(FaultKind.UNAVAILABLE, count=2, path="/payment$")
        await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                         payment("100", account), idempotency_key="5xx-1")
        assert outcomes(codat_sandbox.state, "/payment") == ["fault_503", "fault_503", "handled"]
        assert len(codat_sandbox.state.payments) == 1

    async def test_an_unkeyed_write_is_not_retried_through_5xx(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        codat_sandbox.state.faults.next(FaultKind.UNAVAILABLE, path="/suppliers$")
        client = client_on(codat_sandbox, http)
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.create_supplier(*ids(codat_sandbox),
                                         SupplierPrototype(supplier_name="No Key Ltd"))
        assert caught.value.status_code == 503
        assert outcomes(codat_sandbox.state, "/suppliers") == ["fault_503"]

    async def test_a_cached_5xx_is_replayed_and_surfaces_as_unknown(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        """Codat stores a 5xx under its key; retrying the key only replays it."""
        client = client_on(codat_sandbox, http, retry=RetryPolicy(
            initial_interval=0.0, max_interval=0.0, max_attempts=3))
        account = await gbp_account(client, codat_sandbox)
        faults = codat_sandbox.state.faults
        faults.cache_injected_errors = True
        faults.next(FaultKind.SERVER_ERROR, path="/payment$")
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                             payment("100", account), idempotency_key="c-1")
        assert caught.value.status_code == 500
        assert outcomes(codat_sandbox.state, "/payment") == ["fault_500", "replayed",
                                                             "replayed"]
        assert codat_sandbox.state.payments == []


class TestRateLimit:
    async def test_retry_after_is_honoured_on_reads(self, codat_sandbox: CodatSandbox,
                                                    http: httpx.AsyncClient) -> None:
        faults = codat_sandbox.state.faults
        faults.rate_limit_next, faults.retry_after_seconds = 2, 3
        sleeps = SleepRecorder()
        await client_on(codat_sandbox, http, sleep=sleeps).list_companies()
        assert sleeps.delays == [3.0, 3.0]

    async def test_retry_after_is_honoured_on_a_keyed_payment(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        sleeps = SleepRecorder()
        client = client_on(codat_sandbox, http, sleep=sleeps)
        account = await gbp_account(client, codat_sandbox)
        faults = codat_sandbox.state.faults
        faults.rate_limit_next, faults.retry_after_seconds = 1, 5
        await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                         payment("100", account), idempotency_key="429-1")
        assert sleeps.delays == [5.0]
        assert outcomes(codat_sandbox.state, "/payment") == ["fault_429", "handled"]
        assert len(codat_sandbox.state.payments) == 1

    async def test_a_payment_rate_limited_past_the_budget_is_unknown(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        sleeps = SleepRecorder()
        client = client_on(codat_sandbox, http, sleep=sleeps,
                           retry=RetryPolicy(max_elapsed=10.0))
        account = await gbp_account(client, codat_sandbox)
        faults = codat_sandbox.state.faults
        faults.rate_limit_next, faults.retry_after_seconds = 100, 4
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                             payment("100", account), idempotency_key="429-2")
        assert caught.value.status_code == 429
        assert sleeps.delays[:2] == [4.0, 4.0] and sum(sleeps.delays) <= 10.0
        assert codat_sandbox.state.payments == []

    async def test_an_unkeyed_write_is_not_retried_after_429(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        codat_sandbox.state.faults.rate_limit_next = 1
        sleeps = SleepRecorder()
        with pytest.raises(CodatOutcomeUnknown):
            await client_on(codat_sandbox, http, sleep=sleeps).create_company("Rate Ltd")
        assert sleeps.delays == [] and len(codat_sandbox.state.requests) == 1


class TestLostResponses:
    """The sandbox commits the write, then never delivers the answer."""

    async def test_timeout_then_replay_yields_one_payment(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http, timeout=httpx.Timeout(5.0, read=0.3))
        account = await gbp_account(client, codat_sandbox)
        codat_sandbox.state.faults.lose_response_hold_seconds = 30
        codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, path="/payment$")
        result = await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                                  payment("480.00", account),
                                                  idempotency_key="lost-1")
        [recorded] = codat_sandbox.state.payments
        assert result.id == recorded.payment_id
        first, *retries = outcomes(codat_sandbox.state, "/payment")
        assert first == "handled+lost" and retries and set(retries) == {"replayed"}

    async def test_connection_cut_mid_answer_then_replay(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http)
        account = await gbp_account(client, codat_sandbox)
        codat_sandbox.state.faults.lose_response_hold_seconds = 0.05
        codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, path="/payment$")
        result = await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                                  payment("480.00", account),
                                                  idempotency_key="cut-1")
        assert result.id == codat_sandbox.state.payments[0].payment_id
        assert len(codat_sandbox.state.payments) == 1

    async def test_without_retries_the_loss_surfaces_and_the_same_key_recovers(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http, timeout=httpx.Timeout(5.0, read=0.3))
        account = await gbp_account(client, codat_sandbox)
        codat_sandbox.state.faults.lose_response_hold_seconds = 30
        codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, path="/payment$")
        once = client.with_retry(RetryPolicy.none())
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await once.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                           payment("480.00", account), idempotency_key="l-2")
        assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
        [recorded] = codat_sandbox.state.payments  # it landed: the intent must stay open
        patient = client_on(codat_sandbox, http, retry=RetryPolicy.none())
        again = await patient.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                               payment("480.00", account),
                                               idempotency_key="l-2")
        assert again.id == recorded.payment_id and len(codat_sandbox.state.payments) == 1

    async def test_lost_then_unreachable_is_still_unknown(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        """The sandbox goes away after the lost answer: connect errors cannot hide the payment."""

        async def stop_sandbox(seconds: float) -> None:
            await asyncio.to_thread(codat_sandbox.server.stop)

        client = client_on(codat_sandbox, http, timeout=httpx.Timeout(5.0, read=0.3),
                           sleep=stop_sandbox, retry=RetryPolicy(max_attempts=3))
        account = await gbp_account(client, codat_sandbox)
        codat_sandbox.state.faults.lose_response_hold_seconds = 30
        codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, path="/payment$")
        with pytest.raises(CodatOutcomeUnknown) as caught:
            await client.create_bill_payment(*ids(codat_sandbox), GBP_BILL,
                                             payment("480.00", account), idempotency_key="l-3")
        assert isinstance(caught.value.__cause__, CodatNotSent)
        assert len(codat_sandbox.state.payments) == 1

    async def test_an_unkeyed_write_is_lost_once_and_not_repeated(
            self, codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
        client = client_on(codat_sandbox, http, timeout=httpx.Timeout(5.0, read=0.3))
        codat_sandbox.state.faults.lose_response_hold_seconds = 30
        codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, path="/suppliers$")
        with pytest.raises(CodatOutcomeUnknown):
            await client.create_supplier(*ids(codat_sandbox),
                                         SupplierPrototype(supplier_name="Ghost Ltd"))
        names = [s["supplierName"] for s in codat_sandbox.state.main_ledger.suppliers.values()]
        assert names.count("Ghost Ltd") == 1
        assert outcomes(codat_sandbox.state, "/suppliers") == ["handled+lost"]
