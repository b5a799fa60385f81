"""The one interface the product uses for a company's bills in Codat, whichever Bill Pay API
serves them: `CodatClient` (the sync API) and `AsyncBillPayClient` (the async API, push
operations) both satisfy it. Payments are not in it: each API records one its own way
(`services/payment_runner.py`: an Idempotency-Key, or a reference and a push operation)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from .models import (
    Attachment,
    BankAccount,
    BankAccountPrototype,
    Bill,
    BillMappingOptions,
    BillPrototype,
    CompanyInfo,
    PaymentMappingOptions,
    Supplier,
    SupplierPrototype,
)

API_SYNC = "sync"
API_ASYNC = "async"


class CodatBackend(Protocol):
    """A company's bills, suppliers, accounts and attachments, read and written."""

    def iter_bills(self, company_id: str, connection_id: str, *,
                   query: str | None = None) -> AsyncIterator[Bill]: ...

    async def list_bills(self, company_id: str, connection_id: str, *,
                         query: str | None = None) -> list[Bill]: ...

    async def get_bill(self, company_id: str, connection_id: str, bill_id: str) -> Bill: ...

    async def get_company_info(self, company_id: str, connection_id: str) -> CompanyInfo: ...

    async def get_payment_mapping_options(self, company_id: str, connection_id: str, *,
                                          status_query: str | None = None
                                          ) -> PaymentMappingOptions: ...

    async def get_bill_mapping_options(self, company_id: str,
                                       connection_id: str) -> BillMappingOptions: ...

    def iter_suppliers(self, company_id: str, connection_id: str, *,
                       query: str | None = None) -> AsyncIterator[Supplier]: ...

    async def list_suppliers(self, company_id: str, connection_id: str, *,
                             query: str | None = None) -> list[Supplier]: ...

    async def create_supplier(self, company_id: str, connection_id: str,
                              supplier: SupplierPrototype, *,
                              idempotency_key: str | None = None) -> Supplier: ...

    async def create_bill(self, company_id: str, connection_id: str, bill: BillPrototype, *,
                          idempotency_key: str) -> Bill: ...

    async def update_bill(self, company_id: str, connection_id: str, bill_id: str,
                          bill: BillPrototype, *, idempotency_key: str) -> Bill: ...

    async def list_attachments(self, company_id: str, connection_id: str,
                               bill_id: str) -> list[Attachment]: ...

    async def download_attachment(self, company_id: str, connection_id: str, bill_id: str,
                                  attachment_id: str) -> bytes: ...

    async def upload_attachment(self, company_id: str, connection_id: str, bill_id: str, *,
                                filename: str, content: bytes,
                                content_type: str) -> Attachment: ...

    async def create_bank_account(self, company_id: str, connection_id: str,
                                  account: BankAccountPrototype, *,
                                  idempotency_key: str | None = None) -> BankAccount: ...


__all__ = ["API_ASYNC", "API_SYNC", "CodatBackend"]
