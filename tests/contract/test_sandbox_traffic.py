"""Drive every Codat operation through billbot's client against the validated sandbox.

Happy paths and error paths (400, 401, 403, 404, 409, 422, 429, 500, 503) all go over real
HTTP; the `codat_sandbox` fixture checks each exchange against Codat's OpenAPI spec. Each
test here also insists that its own traffic kept the contract, so a violation fails the
test that caused it, not only the run.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from billbot.codat import CodatApiError, CodatClient, CodatError, CodatNotFound, RetryPolicy
from billbot.codat.models import (
    BankAccountPrototype,
    BankAccountType,
    Bill,
    BillLineItem,
    BillPaymentPrototype,
    BillPrototype,
    BillStatus,
    IdRef,
    SupplierPrototype,
    SupplierRef,
    SupplierStatus,
)
from billbot.sandbox.codat import FaultKind
from tests.plugins.openapi_contract import CodatSandbox
from tests.support.openapi_contract import ContractRecorder, session_recorder

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
# Retry at once: the faults here are one-shot, and the tests must not sleep.
IMMEDIATE_RETRY = RetryPolicy(initial_interval=0.0, max_interval=0.0, max_elapsed=10.0)


@pytest.fixture(autouse=True)
def contract_kept() -> Iterator[ContractRecorder]:
    """Fail the test itself if any of its exchanges broke the spec."""
    recorder = session_recorder()
    recorder.flush()
    validated_before = recorder.validated
    yield recorder
    violations = recorder.flush()
    assert recorder.validated > validated_before, "the test sent no Codat traffic"
    assert not violations, "\n".join(str(v) for v in violations)


def basic(api_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(api_key.encode()).decode()}


def payables(sandbox: CodatSandbox) -> str:
    return (f"{sandbox.base_url}/companies/{sandbox.company_id}"
            f"/connections/{sandbox.connection_id}/payables")


async def open_bill(client: CodatClient, sandbox: CodatSandbox, currency: str = "GBP") -> Bill:
    bills = await client.list_bills(sandbox.company_id, sandbox.connection_id,
                                    query=f"currency={currency}&&status=Open")
    return next(b for b in bills if b.amount_due and b.amount_due > 0)


async def bank_account_id(client: CodatClient, sandbox: CodatSandbox, currency: str) -> str:
    options = await client.get_payment_mapping_options(sandbox.company_id,
                                                       sandbox.connection_id)
    return next(a.id for a in options.bank_accounts
                if a.currency == currency and a.status == "Active")


def payment(amount: str, account_id: str, reference: str | None = None) -> BillPaymentPrototype:
    return BillPaymentPrototype(amount=Decimal(amount), date="2099-01-01T00:00:00",
                                account_ref=IdRef(id=account_id), reference=reference)


class TestPlatform:
    async def test_companies(self, codat_client: CodatClient,
                             codat_sandbox: CodatSandbox) -> None:
        first = await codat_client.list_companies()
        assert codat_sandbox.company_id in {c.id for c in first.results}
        second = await codat_client.list_companies(page=2, page_size=1)
        assert second.page_number == 2 and len(second.results) == 1
        await codat_client.list_companies(query="name~Acme")
        company = await codat_client.get_company(codat_sandbox.company_id)
        assert company.name == "Acme Trading Ltd"
        created = await codat_client.create_company("Contract Co", description="made by a test")
        assert (await codat_client.get_company(created.id)).description == "made by a test"

    async def test_connections(self, codat_client: CodatClient,
                               codat_sandbox: CodatSandbox) -> None:
        company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
        listed = await codat_client.list_connections(company)
        assert connection in {c.id for c in listed.results}
        assert (await codat_client.get_connection(company, connection)).status == "Linked"
        created = await codat_client.create_connection(company, "gbol")
        assert created.status == "PendingAuth"

    async def test_the_platform_operations_the_client_does_not_wrap(
            self, codat_sandbox: CodatSandbox) -> None:
        """Replace, update and delete companies; unlink and delete connections (plain httpx)."""
        auth = basic(codat_sandbox.api_key)
        async with httpx.AsyncClient(base_url=codat_sandbox.base_url, headers=auth) as http:
            created = (await http.post("/companies", json={"name": "Temp Ltd"})).json()
            company = f"/companies/{created['id']}"
            assert (await http.put(company, json={"name": "Temp Two Ltd"})).status_code == 200
            assert (await http.patch(company, json={"description": "d"})).status_code == 200
            connection = (await http.post(f"{company}/connections",
                                          json={"platformKey": "qhyg"})).json()
            path = f"{company}/connections/{connection['id']}"
            assert (await http.patch(path, json={"status": "Unlinked"})).status_code == 200
            assert (await http.delete(path)).status_code == 200
            assert (await http.delete(company)).status_code == 204


class TestPayables:
    async def test_company_info_and_mapping_options(self, codat_client: CodatClient,
                                                    codat_sandbox: CodatSandbox) -> None:
        company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
        codat_sandbox.state.page_size = 2  # make the mapping options page
        info = await codat_client.get_company_info(company, connection)
        assert info.base_currency == "GBP"
        bill_options = await codat_client.get_bill_mapping_options(company, connection)
        assert len(bill_options.accounts) > 2 and bill_options.tax_rates
        everything = await codat_client.get_payment_mapping_options(
            company, connection, status_query="status=Active||status=Archived")
        active = await codat_client.get_payment_mapping_options(company, connection)
        assert len(everything.bank_accounts) > len(active.bank_accounts) > 2

    async def test_bill_listing_paging_and_queries(self, codat_client: CodatClient,
                                                   codat_sandbox: CodatSandbox) -> None:
        company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
        codat_sandbox.state.page_size = 25
        listed = await codat_client.list_bills(company, connection)
        assert len(listed) > 25
        assert {b.status for b in listed} <= {BillStatus.OPEN, BillStatus.PARTIALLY_PAID}
        for query in ("status=Paid", "status=Void||status=Draft",
                      "{totalAmount > 1000 || totalAmount < 50} && status != Paid",
                      f"supplierRef.id={listed[0].supplier_ref.id}",
                      "dueDate<2000-01-01", "currency=USD"):
            await codat_client.list_bills(company, connection, query=query)
        draft = (await codat_client.list_bills(company, connection, query="status=Draft"))[0]
        assert (await codat_client.get_bill(company, connection, draft.id)).id == draft.id

    async def test_create_and_update_a_bill(self, codat_client: CodatClient,
                                            codat_sandbox: CodatSandbox) -> None:
        company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
        supplier = (await codat_client.list_suppliers(company, connection))[0]
        options = await codat_client.get_bill_mapping_options(company, connection)
        line = BillLineItem(description="Contract test", unit_amount=Decimal("1329.54"),
                            quantity=Decimal("1"), tax_amount=Decimal("0"),
                            total_amount=Decimal("1329.54"),
                            account_ref=IdRef(id=options.accounts[0].id))
        prototype = BillPrototype(
            supplier_ref=SupplierRef(id=supplier.id), issue_date="2026-11-01T00:00:00",
            due_date="2026-12-01T00:00:00", currency="GBP", reference="CT-1", line_items=[line])
        created = await codat_client.create_bill(company, connection, prototype,
                                                 idempotency_key=str(uuid.uuid4()))
        assert created.total_amount == Decimal("1329.54") == created.amount_due
        changed = prototype.model_copy(update={"reference": "CT-1b"})
        updated = await codat_client.update_bill(company, connection, created.id, changed,
                                                 idempotency_key=str(uuid.uuid4()))
        assert updated.reference == "CT-1b"

    async def test_attachments(self, codat_client: CodatClient,
                               codat_sandbox: CodatSandbox) -> None:
        company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
        bill = await open_bill(codat_client, codat_sandbox)
        content = bytes(range(256)) * 4
        uploaded = await codat_client.upload_attachment(
            company, connection, bill.id, filename="scan.png", content=content,
            content_type="image/png")
        listed = await codat_client.list_attachments(company, connection, bill.id)
        assert uploaded.id in {a.id for a in listed}
        assert await codat_client.download_attachment(company, connection, bill.id,
                                                      uploaded.id) == content

    async def test_pay_a_bill_replay_and_reuse_the_key(self, codat_client: CodatClient,
                                                       codat_sandbox: CodatSandbox) -> None:
        company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
        bill = await open_bill(codat_client, codat_sandbox)
        account = await bank_account_id(codat_client, codat_sandbox, "GBP")
        key = str(uuid.uuid4())
        first = await codat_client.create_bill_payment(
            company, connection, bill.id, payment("10.01", account, "part"), idempotency_key=key)
        replay = await codat_client.create_bill_payment(
            company, connection, bill.id, payment("10.01", account, "part"), idempotency_key=key)
        assert replay.id == first.id and len(codat_sandbox.state.payments) == 1
        with pytest.raises(CodatApiError) as reused:  # same key, another body: 422 (docs)
            await codat_client.create_bill_payment(
                company, connection, bill.id, payment("10.02", account), idempotency_key=key)
        assert reused.value.status_code == 422
        paid = await codat_client.get_bill(company, connection, bill.id)
        assert paid.status == BillStatus.PARTIALLY_PAID

    async def test_suppliers_and_bank_accounts(self, codat_client: CodatClient,
                                               codat_sandbox: CodatSandbox) -> None:
        company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
        await codat_client.list_suppliers(company, connection, query="status=Active")
        created = await codat_client.create_supplier(
            company, connection,
            SupplierPrototype(supplier_name="Contract Supplies", status=SupplierStatus.ACTIVE,
                              email_address="ap@contract.example", default_currency="GBP"),
            idempotency_key=str(uuid.uuid4()))
        updated = await codat_client.update_supplier(
            company, connection, created.id,
            SupplierPrototype(supplier_name="Contract Supplies Ltd", status=SupplierStatus.ACTIVE))
        assert updated.email_address is None  # a PUT clears what it leaves out
        account = await codat_client.create_bank_account(
            company, connection,
            BankAccountPrototype(name="Contract EUR", account_type=BankAccountType.DEBIT,
                                 account_number="DE89370400440532013000", currency="EUR"),
            idempotency_key=str(uuid.uuid4()))
        options = await codat_client.get_payment_mapping_options(company, connection)
        assert account.id in {a.id for a in options.bank_accounts}


class TestErrorPaths:
    async def test_400_refusals(self, codat_client: CodatClient,
                                codat_sandbox: CodatSandbox) -> None:
        company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
        bill = await open_bill(codat_client, codat_sandbox)
        account = await bank_account_id(codat_client, codat_sandbox, "GBP")
        assert bill.amount_due is not None
        too_much = str(bill.amount_due + Decimal("0.01"))
        with pytest.raises(CodatApiError) as overpaid:
            await codat_client.create_bill_payment(company, connection, bill.id,
                                                   payment(too_much, account),
                                                   idempotency_key=str(uuid.uuid4()))
        assert overpaid.value.status_code == 400
        with pytest.raises(CodatApiError) as malformed:
            await codat_client.list_bills(company, connection, query="{status=Open")
        assert malformed.value.status_code == 400
        paid = (await codat_client.list_bills(company, connection, query="status=Paid"))[0]
        with pytest.raises(CodatApiError):
            await codat_client.create_bill_payment(company, connection, paid.id,
                                                   payment("1.00", account),
                                                   idempotency_key=str(uuid.uuid4()))

    async def test_spec_breaking_requests_are_refused(self, codat_sandbox: CodatSandbox) -> None:
        """Requests that break the spec itself: the sandbox must refuse them with a 4xx."""
        auth = basic(codat_sandbox.api_key)
        bills = payables(codat_sandbox) + "/bills"
        async with httpx.AsyncClient(headers=auth) as http:
            assert (await http.get(f"{codat_sandbox.base_url}/companies",
                                   params={"page": 0})).status_code == 400
            assert (await http.get(f"{codat_sandbox.base_url}/companies",
                                   params={"pageSize": "many"})).status_code == 400
            assert (await http.get(f"{codat_sandbox.base_url}/companies/acme")).status_code == 404
            no_amount = {"date": "2099-01-01T00:00:00", "accountRef": {"id": "x"}}
            bill_id = next(iter(codat_sandbox.state.main_ledger.bills))
            response = await http.post(f"{bills}/{bill_id}/payment", json=no_amount,
                                       headers={"Idempotency-Key": str(uuid.uuid4())})
            assert response.status_code == 400
            response = await http.post(bills, content=b"not json",
                                       headers={"Content-Type": "application/json"})
            assert response.status_code == 400
            upload = await http.post(f"{bills}/{bill_id}/attachments",
                                     files={"document": ("a.txt", b"a", "text/plain")})
            assert upload.status_code == 400

    async def test_401_for_a_wrong_or_missing_key(self, codat_sandbox: CodatSandbox) -> None:
        async with httpx.AsyncClient() as http:
            wrong = CodatClient(http, api_key="not-the-key", base_url=codat_sandbox.base_url)
            with pytest.raises(CodatApiError) as refused:
                await wrong.list_companies()
            assert refused.value.status_code == 401
            response = await http.get(payables(codat_sandbox) + "/bills")
            assert response.status_code == 401

    async def test_403_on_a_connection_that_is_not_linked(self, codat_client: CodatClient,
                                                          codat_sandbox: CodatSandbox) -> None:
        pending = await codat_client.create_connection(codat_sandbox.company_id, "qhyg")
        with pytest.raises(CodatApiError) as refused:
            await codat_client.get_company_info(codat_sandbox.company_id, pending.id)
        assert refused.value.status_code == 403

    async def test_404_for_unknown_things(self, codat_client: CodatClient,
                                          codat_sandbox: CodatSandbox) -> None:
        company, connection = codat_sandbox.company_id, codat_sandbox.connection_id
        bill = await open_bill(codat_client, codat_sandbox)
        account = await bank_account_id(codat_client, codat_sandbox, "GBP")
        attempts = [
            codat_client.get_company(UNKNOWN_ID),
            codat_client.get_connection(company, UNKNOWN_ID),
            codat_client.list_bills(UNKNOWN_ID, connection),
            codat_client.list_attachments(company, connection, "NO-SUCH-BILL"),
            codat_client.list_attachments(company, connection, "INV/2026 #7?"),  # encoded id
            codat_client.download_attachment(company, connection, bill.id, UNKNOWN_ID),
            codat_client.create_bill_payment(company, connection, "NO-SUCH-BILL",
                                             payment("1.00", account),
                                             idempotency_key=str(uuid.uuid4())),
        ]
        for attempt in attempts:
            with pytest.raises(CodatNotFound):
                await attempt

    async def test_409_while_the_same_key_is_in_flight(self, codat_client: CodatClient,
                                                       codat_sandbox: CodatSandbox) -> None:
        bill = await open_bill(codat_client, codat_sandbox)
        account = await bank_account_id(codat_client, codat_sandbox, "GBP")
        url = f"{payables(codat_sandbox)}/bills/{bill.id}/payment"
        body = payment("5.00", account).to_api()
        headers = {**basic(codat_sandbox.api_key), "Idempotency-Key": str(uuid.uuid4())}
        # The first attempt is held inside the sandbox while the second arrives.
        codat_sandbox.state.faults.next(FaultKind.LATENCY, path="/payment$", latency_ms=500)
        async with httpx.AsyncClient(headers=headers) as http:
            first = asyncio.create_task(http.post(url, json=body))
            for _ in range(500):  # until the sandbox holds the key (the only one so far)
                if len(codat_sandbox.state.idempotency) == 1:
                    break
                await asyncio.sleep(0.01)
            second = await http.post(url, json=body)
            assert not first.done()
            assert (await first).status_code == 201
        assert second.status_code == 409

    async def test_429_then_success(self, codat_client: CodatClient,
                                    codat_sandbox: CodatSandbox) -> None:
        codat_sandbox.state.faults.retry_after_seconds = 0
        codat_sandbox.state.faults.next(FaultKind.RATE_LIMIT, count=2, path="/info$")
        info = await codat_client.with_retry(IMMEDIATE_RETRY).get_company_info(
            codat_sandbox.company_id, codat_sandbox.connection_id)
        assert info.company_name
        assert [r.status for r in codat_sandbox.state.requests][-3:] == [429, 429, 200]

    async def test_500_and_503_then_success(self, codat_client: CodatClient,
                                            codat_sandbox: CodatSandbox) -> None:
        faults = codat_sandbox.state.faults
        faults.next(FaultKind.SERVER_ERROR, path="/bills$")
        faults.next(FaultKind.UNAVAILABLE, path="/info$")
        client = codat_client.with_retry(IMMEDIATE_RETRY)
        await client.list_bills(codat_sandbox.company_id, codat_sandbox.connection_id)
        await client.get_company_info(codat_sandbox.company_id, codat_sandbox.connection_id)
        statuses = [r.status for r in codat_sandbox.state.requests]
        assert 500 in statuses and 503 in statuses
        faults.next(FaultKind.SERVER_ERROR, count=50, path="/info$")
        with pytest.raises(CodatError):
            await codat_client.with_retry(RetryPolicy(max_attempts=2, initial_interval=0.0)
                                          ).get_company_info(codat_sandbox.company_id,
                                                             codat_sandbox.connection_id)
