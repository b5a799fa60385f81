"""Codat's async Bill Pay API (v1) behind the interface the product uses (`CodatBackend`).

Reads come from Codat's synced copy of the books (`/companies/{id}/data/...`), filtered with
Codat's query language and paged with page/pageSize. Every write is a push operation: the
POST answers at once with its key and status Pending, and the books change later (Success)
or not at all (Failed, TimedOut). `billbot.codat.async_api.follow` follows one to its end.

Requests go through the sync client's retry loop and error classification
(`CodatClient.send_call`): reads are retried; a push is never repeated by the client, since
this API has no Idempotency-Key (a lost answer is `CodatOutcomeUnknown`, which the caller
resolves by reading push operations and payments before sending anything again).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from billbot.codat.calls import _Call, _json_body, _parse, _path
from billbot.codat.client import CodatClient
from billbot.codat.errors import CodatApiError, CodatNotFound, CodatOutcomeUnknown
from billbot.codat.models import (
    AccountOption,
    Attachment,
    BankAccount,
    BankAccountOption,
    BankAccountPrototype,
    Bill,
    BillMappingOptions,
    BillPrototype,
    CompanyInfo,
    PaymentMappingOptions,
    Supplier,
    SupplierPrototype,
    TaxRateOption,
)
from billbot.codat.retry import RetryPolicy

from . import paths
from .follow import FollowPolicy, follow
from .models import (
    Account,
    AsyncBillPayment,
    AttachmentList,
    NumberedPage,
    PushOperation,
    PushOption,
    PushStatus,
    TaxRate,
)
from .queries import OPEN_BILLS
from .raw import as_bill, deleted, parse_json, push_error

API = "async"
_T = TypeVar("_T", bound=BaseModel)


class AsyncBillPayClient:
    """Typed calls to Codat's async Bill Pay API over one `CodatClient`'s HTTP and key."""

    api = API

    def __init__(self, transport: CodatClient, *, page_size: int = 500,
                 follow_policy: FollowPolicy | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if not 1 <= page_size <= 2000:
            raise ValueError("page_size must be between 1 and 2000")
        self._codat = transport
        self._page_size = page_size
        self._follow = follow_policy or FollowPolicy()
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"AsyncBillPayClient({self._codat!r})"

    @property
    def follow_policy(self) -> FollowPolicy:
        return self._follow

    def with_limits(self, *, timeout: float, retry: RetryPolicy) -> AsyncBillPayClient:
        return AsyncBillPayClient(self._codat.with_limits(timeout=timeout, retry=retry),
                                  page_size=self._page_size, follow_policy=self._follow,
                                  sleep=self._sleep)

    def with_retry(self, retry: RetryPolicy) -> AsyncBillPayClient:
        return AsyncBillPayClient(self._codat.with_retry(retry), page_size=self._page_size,
                                  follow_policy=self._follow, sleep=self._sleep)

    # --- reads ---------------------------------------------------------------------------

    async def iter_bills(self, company_id: str, connection_id: str, *,
                         query: str | None = None) -> AsyncIterator[Bill]:
        """Bills from the synced copy. No query: Open and PartiallyPaid ones, as the sync API."""
        async for raw in self._pages(paths.BILLS, {"companyId": company_id},
                                     OPEN_BILLS if query is None else query):
            if not deleted(raw):
                yield as_bill(raw)

    async def list_bills(self, company_id: str, connection_id: str, *,
                         query: str | None = None) -> list[Bill]:
        return [bill async for bill in self.iter_bills(company_id, connection_id, query=query)]

    async def get_bill(self, company_id: str, connection_id: str, bill_id: str) -> Bill:
        return as_bill(await self.get_bill_raw(company_id, bill_id))

    async def get_bill_raw(self, company_id: str, bill_id: str) -> dict[str, Any]:
        """The bill as Codat sends it (payment allocations included)."""
        return parse_json(await self._get(paths.BILL, companyId=company_id, billId=bill_id))

    async def get_company_info(self, company_id: str, connection_id: str) -> CompanyInfo:
        return _parse(CompanyInfo, await self._get(paths.INFO, companyId=company_id))

    async def list_accounts(self, company_id: str, *, query: str | None = None) -> list[Account]:
        return [Account.model_validate(raw) async for raw in
                self._pages(paths.ACCOUNTS, {"companyId": company_id}, query)]

    async def get_payment_mapping_options(self, company_id: str, connection_id: str, *,
                                          status_query: str | None = None
                                          ) -> PaymentMappingOptions:
        """Payment accounts: the accounts with `isBankAccount=true` (the seed's advice)."""
        accounts = await self.list_accounts(company_id, query="isBankAccount=true")
        options = [BankAccountOption.model_validate({
            "id": a.id, "name": a.name, "nominalCode": a.nominal_code, "currency": a.currency,
            "status": a.status if a.status in ("Active", "Archived") else None,
        }) for a in accounts if a.is_bank_account is not False]
        return PaymentMappingOptions(bank_accounts=options)

    async def get_bill_mapping_options(self, company_id: str,
                                       connection_id: str) -> BillMappingOptions:
        """Expense accounts and tax rates for bill lines: the company's active ones."""
        accounts = await self.list_accounts(company_id, query="status=Active")
        rates = [TaxRate.model_validate(raw) async for raw in
                 self._pages(paths.TAX_RATES, {"companyId": company_id}, None)]
        return BillMappingOptions(
            accounts=[AccountOption.model_validate({
                "id": a.id, "nominalCode": a.nominal_code, "name": a.name, "type": a.type,
                "currency": a.currency, "status": "Active"})
                for a in accounts if not a.is_bank_account],
            tax_rates=[TaxRateOption.model_validate({
                "id": r.id, "name": r.name, "code": r.code,
                "effectiveTaxRate": r.effective_tax_rate, "totalTaxRate": r.total_tax_rate,
                "status": r.status if r.status in ("Active", "Archived") else None})
                for r in rates])

    async def bank_account_currencies(self, company_id: str, connection_id: str) -> list[str]:
        """The currencies a new bank account may have (empty: any currency)."""
        response = await self._get(paths.BANK_ACCOUNT_MODEL, companyId=company_id,
                                   connectionId=connection_id)
        return _parse(PushOption, response).choices("currency")

    async def iter_suppliers(self, company_id: str, connection_id: str, *,
                             query: str | None = None) -> AsyncIterator[Supplier]:
        async for raw in self._pages(paths.SUPPLIERS, {"companyId": company_id}, query):
            if not deleted(raw):
                yield Supplier.model_validate(raw)

    async def list_suppliers(self, company_id: str, connection_id: str, *,
                             query: str | None = None) -> list[Supplier]:
        return [s async for s in self.iter_suppliers(company_id, connection_id, query=query)]

    async def list_attachments(self, company_id: str, connection_id: str,
                               bill_id: str) -> list[Attachment]:
        response = await self._get(paths.ATTACHMENTS, companyId=company_id,
                                   connectionId=connection_id, billId=bill_id)
        listed = _parse(AttachmentList, response).attachments or []
        return [Attachment.model_validate(raw) for raw in listed]

    async def download_attachment(self, company_id: str, connection_id: str, bill_id: str,
                                  attachment_id: str) -> bytes:
        path = _path(paths.ATTACHMENT_DOWNLOAD, companyId=company_id,
                     connectionId=connection_id, billId=bill_id, attachmentId=attachment_id)
        call = _Call("GET", paths.ATTACHMENT_DOWNLOAD, path, accept="*/*")
        return (await self._codat.send_call(call)).content

    # --- bill payments and push operations -------------------------------------------------

    async def iter_bill_payments(self, company_id: str, *,
                                 query: str | None = None) -> AsyncIterator[AsyncBillPayment]:
        async for raw in self._pages(paths.BILL_PAYMENTS, {"companyId": company_id}, query):
            if not deleted(raw):
                yield AsyncBillPayment.model_validate(raw)

    async def get_bill_payment(self, company_id: str, payment_id: str) -> AsyncBillPayment:
        response = await self._get(paths.BILL_PAYMENT, companyId=company_id,
                                   billPaymentId=payment_id)
        return _parse(AsyncBillPayment, response)

    async def push_bill_payment(self, company_id: str, connection_id: str,
                                payment: AsyncBillPayment) -> PushOperation:
        """Send one bill payment; the answer is its push operation (Pending, usually).

        Never retried by the client: a lost answer raises CodatOutcomeUnknown.
        """
        return await self._push(paths.PUSH_BILL_PAYMENTS, payment, companyId=company_id,
                                connectionId=connection_id)

    async def get_push_operation(self, company_id: str, key: str) -> PushOperation:
        return _parse(PushOperation, await self._get(paths.PUSH_OPERATION, companyId=company_id,
                                                     pushOperationKey=key))

    async def iter_push_operations(self, company_id: str, *, query: str | None = None
                                   ) -> AsyncIterator[PushOperation]:
        async for raw in self._pages(paths.PUSH_OPERATIONS, {"companyId": company_id}, query):
            yield PushOperation.model_validate(raw)

    async def request_sync(self, company_id: str, connection_id: str, data_type: str) -> None:
        """Ask Codat to refresh one data type from the books (a pull operation, async)."""
        path = _path(paths.QUEUE, companyId=company_id, dataType=data_type)
        await self._codat.send_call(_Call("POST", paths.QUEUE, path,
                                          params={"connectionId": connection_id}))

    async def follow(self, company_id: str, operation: PushOperation) -> PushOperation:
        """Poll a push operation with backoff until it ends or the follow budget runs out."""
        return await follow(self, company_id, operation, self._follow, sleep=self._sleep)

    # --- other writes: pushed, then followed to their end ------------------------------------

    async def create_bill(self, company_id: str, connection_id: str, bill: BillPrototype, *,
                          idempotency_key: str) -> Bill:
        done = await self._push_and_follow(paths.PUSH_BILLS, bill, companyId=company_id,
                                           connectionId=connection_id)
        return await self._written_bill(company_id, connection_id, done)

    async def update_bill(self, company_id: str, connection_id: str, bill_id: str,
                          bill: BillPrototype, *, idempotency_key: str) -> Bill:
        done = await self._push_and_follow(paths.PUSH_BILL, bill, companyId=company_id,
                                           connectionId=connection_id, billId=bill_id,
                                           method="PUT")
        return await self._written_bill(company_id, connection_id, done, bill_id)

    async def create_supplier(self, company_id: str, connection_id: str,
                              supplier: SupplierPrototype, *,
                              idempotency_key: str | None = None) -> Supplier:
        done = await self._push_and_follow(paths.PUSH_SUPPLIERS, supplier,
                                           companyId=company_id, connectionId=connection_id)
        return Supplier.model_validate({**supplier.to_api(), **(done.data or {}),
                                        "id": done.record_id})

    async def create_bank_account(self, company_id: str, connection_id: str,
                                  account: BankAccountPrototype, *,
                                  idempotency_key: str | None = None) -> BankAccount:
        body = {"accountName": account.name, "accountType": account.account_type.value,
                "accountNumber": account.account_number, "currency": account.currency,
                "nominalCode": account.nominal_code, "sortCode": account.sort_code}
        done = await self._push_and_follow(
            paths.PUSH_BANK_ACCOUNTS, {k: v for k, v in body.items() if v is not None},
            companyId=company_id, connectionId=connection_id)
        return BankAccount.model_validate({**account.to_api(), "id": done.record_id,
                                           "status": "Active"})

    async def upload_attachment(self, company_id: str, connection_id: str, bill_id: str, *,
                                filename: str, content: bytes, content_type: str) -> Attachment:
        path = _path(paths.PUSH_ATTACHMENTS, companyId=company_id, connectionId=connection_id,
                     billId=bill_id)
        call = _Call("POST", paths.PUSH_ATTACHMENTS, path,
                     files={"file": (filename, content, content_type)})
        await self._codat.send_call(call)
        for attachment in reversed(await self.list_attachments(company_id, connection_id,
                                                                bill_id)):
            if attachment.name == filename:
                return attachment
        return Attachment(id="", name=filename, content_type=content_type,
                          file_size=len(content))

    # --- deletes (Undo payment, Delete bill): the push alone, so the key can be committed ----

    async def push_delete_bill_payment(self, company_id: str, connection_id: str,
                                       payment_id: str) -> PushOperation:
        """Ask for a bill payment's deletion (its allocations are undone); never retried."""
        return await self._push(paths.PUSH_BILL_PAYMENT, None, "DELETE", companyId=company_id,
                                connectionId=connection_id, billPaymentId=payment_id)

    async def push_delete_bill(self, company_id: str, connection_id: str,
                               bill_id: str) -> PushOperation:
        """Ask for a bill's deletion (refused by the books while payments are allocated)."""
        return await self._push(paths.PUSH_BILL, None, "DELETE", companyId=company_id,
                                connectionId=connection_id, billId=bill_id)

    async def delete_bill_payment(self, company_id: str, connection_id: str,
                                  payment_id: str) -> PushOperation:
        return await self._settled(company_id, await self.push_delete_bill_payment(
            company_id, connection_id, payment_id))

    async def delete_bill(self, company_id: str, connection_id: str,
                          bill_id: str) -> PushOperation:
        return await self._settled(company_id, await self.push_delete_bill(
            company_id, connection_id, bill_id))

    async def record_exists(self, company_id: str, data_type: str, record_id: str) -> bool:
        """Whether Codat's synced copy still has the bill or bill payment (a deleted one is
        flagged `isDeleted` or gone). Request a sync first to see a recent delete."""
        try:
            if data_type == "bills":
                raw = await self.get_bill_raw(company_id, record_id)
            else:
                raw = await self.get_data(paths.BILL_PAYMENT, companyId=company_id,
                                          billPaymentId=record_id)
        except CodatNotFound:
            return False
        return not deleted(raw)

    # --- for the other record types' modules (credit_notes.py) ------------------------------

    def iter_data(self, template: str, query: str | None = None,
                  **ids: str) -> AsyncIterator[dict[str, Any]]:
        return self._pages(template, ids, query)  # raw records, deleted ones included

    async def get_data(self, template: str, **ids: str) -> dict[str, Any]:
        return parse_json(await self._get(template, **ids))

    async def push(self, template: str, body: BaseModel, **ids: str) -> PushOperation:
        return await self._push(template, body, **ids)  # never retried: no Idempotency-Key

    # --- plumbing -----------------------------------------------------------------------

    async def _get(self, template: str, **ids: str) -> httpx.Response:
        return await self._codat.send_call(_Call("GET", template, _path(template, **ids)))

    async def _pages(self, template: str, ids: Mapping[str, str],
                     query: str | None) -> AsyncIterator[dict[str, Any]]:
        """Every result of a page/pageSize listing, page by page."""
        path = _path(template, **ids)
        page = 1
        while True:
            params: dict[str, str | int] = {"page": page, "pageSize": self._page_size}
            if query is not None:
                params["query"] = query
            response = await self._codat.send_call(_Call("GET", template, path, params=params))
            envelope = _parse(NumberedPage[dict[str, Any]], response)
            for raw in envelope.results:
                yield raw
            if envelope.last:
                return
            page += 1

    async def _push(self, template: str, body: BaseModel | Mapping[str, Any] | None,
                    method: str = "POST", **ids: str) -> PushOperation:
        content = (None if body is None else
                   _json_body(body) if isinstance(body, BaseModel)  # type: ignore[arg-type]
                   else json.dumps(body, separators=(",", ":")).encode())
        call = _Call(method, template, _path(template, **ids), json_body=content)
        return _parse(PushOperation, await self._codat.send_call(call), write=True)

    async def _push_and_follow(self, template: str, body: BaseModel | Mapping[str, Any],
                               method: str = "POST", **ids: str) -> PushOperation:
        """Push, follow to the end; Failed is a final error, Pending past the budget unknown."""
        return await self._settled(ids["companyId"], await self._push(template, body, method,
                                                                      **ids))

    async def _settled(self, company_id: str, pushed: PushOperation) -> PushOperation:
        done = await self.follow(company_id, pushed)
        if done.status is PushStatus.SUCCESS:
            return done
        if done.status is PushStatus.FAILED:
            raise CodatApiError(done.status_code or 400, push_error(done))
        raise CodatOutcomeUnknown(f"push operation {done.push_operation_key} is "
                                  f"{done.status.value}; the books may still change")

    async def _written_bill(self, company_id: str, connection_id: str, done: PushOperation,
                            bill_id: str | None = None) -> Bill:
        if done.data:
            try:
                return as_bill({**done.data, "id": done.record_id or bill_id})
            except ValueError:
                pass
        record = done.record_id or bill_id
        assert record is not None, "a successful bill push names its bill"
        await self.request_sync(company_id, connection_id, "bills")
        return await self.get_bill(company_id, connection_id, record)


__all__ = ["API", "AsyncBillPayClient", "as_bill"]
