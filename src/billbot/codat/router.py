"""Every Codat call of the product, each sent through the API its company is bound to.

The product calls `bot.codat` as it always did; the router asks `api_of(company,
connection)` (the binding's `codat_api`, read from the database and remembered briefly)
and hands the call to the sync client or the async one. Companies and connections are the
same endpoints in both APIs and always go through the sync client.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

from .async_api.client import AsyncBillPayClient
from .backend import API_ASYNC, CodatBackend
from .client import CodatClient
from .models import (
    Attachment,
    BankAccount,
    BankAccountPrototype,
    Bill,
    BillMappingOptions,
    BillPayment,
    BillPaymentPrototype,
    BillPrototype,
    Company,
    CompanyInfo,
    Connection,
    Page,
    PaymentMappingOptions,
    Supplier,
    SupplierPrototype,
)
from .retry import RetryPolicy

ApiOf = Callable[[str, str], Awaitable[str]]


class CodatRouter:
    """`CodatBackend` for every company, plus the platform calls (companies, connections)."""

    def __init__(self, sync: CodatClient, push: AsyncBillPayClient, api_of: ApiOf, *,
                 remember_for: float = 10.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.sync = sync
        self.push = push
        self._api_of = api_of
        self._remember_for = remember_for
        self._monotonic = monotonic
        self._apis: dict[tuple[str, str], tuple[str, float]] = {}
        self._platforms: dict[tuple[str, str], str] = {}

    def __repr__(self) -> str:
        return f"CodatRouter({self.sync!r})"

    def with_limits(self, *, timeout: float, retry: RetryPolicy) -> CodatRouter:
        return CodatRouter(self.sync.with_limits(timeout=timeout, retry=retry),
                           self.push.with_limits(timeout=timeout, retry=retry), self._api_of,
                           remember_for=self._remember_for, monotonic=self._monotonic)

    def with_retry(self, retry: RetryPolicy) -> CodatRouter:
        return CodatRouter(self.sync.with_retry(retry), self.push.with_retry(retry),
                           self._api_of, remember_for=self._remember_for,
                           monotonic=self._monotonic)

    async def api(self, company_id: str, connection_id: str) -> str:
        key = (company_id, connection_id)
        known = self._apis.get(key)
        now = self._monotonic()
        if known is not None and known[1] > now:
            return known[0]
        api = await self._api_of(company_id, connection_id)
        self._apis[key] = (api, now + self._remember_for)
        return api

    def forget(self, company_id: str, connection_id: str) -> None:
        """A binding of this company changed here: ask again on the next call."""
        self._apis.pop((company_id, connection_id), None)

    async def backend(self, company_id: str, connection_id: str) -> CodatBackend:
        if await self.api(company_id, connection_id) == API_ASYNC:
            return self.push
        return self.sync

    async def deletes(self, company_id: str, connection_id: str) -> AsyncBillPayClient | None:
        """The client that deletes bills and bill payments (Undo payment, Delete bill): only
        async bindings have one, since the sync API has no delete."""
        return self.push if await self.api(company_id, connection_id) == API_ASYNC else None

    # --- platform: the same in both APIs ------------------------------------------------

    async def list_companies(self, *, page: int = 1, page_size: int = 100,
                             query: str | None = None) -> Page[Company]:
        return await self.sync.list_companies(page=page, page_size=page_size, query=query)

    async def get_company(self, company_id: str) -> Company:
        return await self.sync.get_company(company_id)

    async def create_company(self, name: str, *, description: str | None = None) -> Company:
        return await self.sync.create_company(name, description=description)

    async def get_connection(self, company_id: str, connection_id: str) -> Connection:
        return await self.sync.get_connection(company_id, connection_id)

    async def create_connection(self, company_id: str, platform_key: str) -> Connection:
        return await self.sync.create_connection(company_id, platform_key)

    async def platform(self, company_id: str, connection_id: str) -> str:
        """The connection's `platformName` ("Xero", ...), read from Codat once: a connection
        is made for one platform and keeps it."""
        key = (company_id, connection_id)
        if key not in self._platforms:
            connection = await self.get_connection(company_id, connection_id)
            self._platforms[key] = connection.platform_name
        return self._platforms[key]

    # --- a company's bills: through its binding's API ---------------------------------------

    async def iter_bills(self, company_id: str, connection_id: str, *,
                         query: str | None = None) -> AsyncIterator[Bill]:
        backend = await self.backend(company_id, connection_id)
        async for bill in backend.iter_bills(company_id, connection_id, query=query):
            yield bill

    async def list_bills(self, company_id: str, connection_id: str, *,
                         query: str | None = None) -> list[Bill]:
        backend = await self.backend(company_id, connection_id)
        return await backend.list_bills(company_id, connection_id, query=query)

    async def get_bill(self, company_id: str, connection_id: str, bill_id: str) -> Bill:
        backend = await self.backend(company_id, connection_id)
        return await backend.get_bill(company_id, connection_id, bill_id)

    async def get_company_info(self, company_id: str, connection_id: str) -> CompanyInfo:
        backend = await self.backend(company_id, connection_id)
        return await backend.get_company_info(company_id, connection_id)

    async def get_payment_mapping_options(self, company_id: str, connection_id: str, *,
                                          status_query: str | None = None
                                          ) -> PaymentMappingOptions:
        backend = await self.backend(company_id, connection_id)
        return await backend.get_payment_mapping_options(company_id, connection_id,
                                                         status_query=status_query)

    async def get_bill_mapping_options(self, company_id: str,
                                       connection_id: str) -> BillMappingOptions:
        backend = await self.backend(company_id, connection_id)
        return await backend.get_bill_mapping_options(company_id, connection_id)

    async def iter_suppliers(self, company_id: str, connection_id: str, *,
                             query: str | None = None) -> AsyncIterator[Supplier]:
        backend = await self.backend(company_id, connection_id)
        async for supplier in backend.iter_suppliers(company_id, connection_id, query=query):
            yield supplier

    async def list_suppliers(self, company_id: str, connection_id: str, *,
                             query: str | None = None) -> list[Supplier]:
        backend = await self.backend(company_id, connection_id)
        return await backend.list_suppliers(company_id, connection_id, query=query)

    async def create_supplier(self, company_id: str, connection_id: str,
                              supplier: SupplierPrototype, *,
                              idempotency_key: str | None = None) -> Supplier:
        backend = await self.backend(company_id, connection_id)
        return await backend.create_supplier(company_id, connection_id, supplier,
                                             idempotency_key=idempotency_key)

    async def create_bill(self, company_id: str, connection_id: str, bill: BillPrototype, *,
                          idempotency_key: str) -> Bill:
        backend = await self.backend(company_id, connection_id)
        return await backend.create_bill(company_id, connection_id, bill,
                                         idempotency_key=idempotency_key)

    async def update_bill(self, company_id: str, connection_id: str, bill_id: str,
                          bill: BillPrototype, *, idempotency_key: str) -> Bill:
        backend = await self.backend(company_id, connection_id)
        return await backend.update_bill(company_id, connection_id, bill_id, bill,
                                         idempotency_key=idempotency_key)

    async def list_attachments(self, company_id: str, connection_id: str,
                               bill_id: str) -> list[Attachment]:
        backend = await self.backend(company_id, connection_id)
        return await backend.list_attachments(company_id, connection_id, bill_id)

    async def download_attachment(self, company_id: str, connection_id: str, bill_id: str,
                                  attachment_id: str) -> bytes:
        backend = await self.backend(company_id, connection_id)
        return await backend.download_attachment(company_id, connection_id, bill_id,
                                                 attachment_id)

    async def upload_attachment(self, company_id: str, connection_id: str, bill_id: str, *,
                                filename: str, content: bytes, content_type: str) -> Attachment:
        backend = await self.backend(company_id, connection_id)
        return await backend.upload_attachment(company_id, connection_id, bill_id,
                                               filename=filename, content=content,
                                               content_type=content_type)

    async def create_bank_account(self, company_id: str, connection_id: str,
                                  account: BankAccountPrototype, *,
                                  idempotency_key: str | None = None) -> BankAccount:
        backend = await self.backend(company_id, connection_id)
        return await backend.create_bank_account(company_id, connection_id, account,
                                                 idempotency_key=idempotency_key)

    # --- payments through the sync API (the async one has its own path) ------------------

    async def create_bill_payment(self, company_id: str, connection_id: str, bill_id: str,
                                  payment: BillPaymentPrototype, *,
                                  idempotency_key: str) -> BillPayment:
        """The sync API's payment: only for intents made on a sync binding (the runner sends
        an async intent through `push`, whatever the binding says now)."""
        return await self.sync.create_bill_payment(company_id, connection_id, bill_id, payment,
                                                   idempotency_key=idempotency_key)


__all__ = ["ApiOf", "CodatRouter"]
