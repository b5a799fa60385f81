"""CodatClient against the Codat sandbox over real HTTP, healthy and under every fault.

The sandbox runs under uvicorn on loopback (`codat_sandbox`, whose exchanges the contract
plugin checks against Codat's OpenAPI spec). Fault tests say what the client retries and
what it surfaces; their money assertions read the sandbox's own record of payments.
Injected waits that matter (Retry-After) go to a recording sleep; faults that are about
time (latency, a response held until the client gives up) use short real timeouts and
assert outcomes, never durations.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from billbot.codat import (
    CodatApiError,
    CodatClient,
    CodatNotFound,
    CodatNotSent,
    RetryPolicy,
)
from billbot.codat.models import (
    BankAccountPrototype,
    BankAccountType,
    BillLineItem,
    BillPrototype,
    BillStatus,
    SupplierPrototype,
    SupplierRef,
)
from billbot.sandbox.codat import FaultKind
from billbot.sandbox.serving import free_port
from tests.plugins.openapi_contract import CodatSandbox

from .conftest import (
    GBP_BILL,
    PAID_BILL,
    SUPPLIER,
    SleepRecorder,
    client_on,
    gbp_account,
    ids,
    outcomes,
    payment,
)


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

    async def test_get_bill_with_a_2000_character_id(self, codat_sandbox: CodatSandbox,
                                                     http: httpx.AsyncClient) -> None:
        """Codat bill ids are free strings: a long one is read through `query=id=...`, which
        the sandbox (like Codat) takes up to its query length limit."""
        ledger = codat_sandbox.state.main_ledger
        long_id = "Q" * 1996 + "2000"
        ledger.bills[long_id] = {**ledger.bills[GBP_BILL], "id": long_id}
        bill = await client_on(codat_sandbox, http).get_bill(*ids(codat_sandbox), long_id)
        assert bill.id == long_id and bill.amount_due == Decimal("480.00")

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
