"""Where to look for a bill payment billbot may have written through the async API: the
company's bill payments by reference, the bill's own payment allocations, the record a
push operation wrote, and a refresh of both data types (`resolve.resolve` decides)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from billbot.codat.errors import CodatApiError, CodatNotFound

from .client import AsyncBillPayClient
from .models import PushOperation
from .queries import payments_with_reference
from .resolve import WrittenLookup

DATA_TYPE = "billPayments"


def payment_lookup(client: AsyncBillPayClient, company_id: str, connection_id: str,
                   bill_id: str) -> WrittenLookup:
    async def by_reference(reference: str) -> AsyncIterator[str | None]:
        try:
            async for payment in client.iter_bill_payments(
                    company_id, query=payments_with_reference(reference)):
                if payment.reference == reference:
                    yield payment.id
        except CodatNotFound:
            pass
        async for allocation_ref, payment_id in _allocations(client, company_id, bill_id):
            if allocation_ref == reference:
                yield payment_id

    async def reference_of(record_id: str) -> str | None:
        return (await client.get_bill_payment(company_id, record_id)).reference

    def push_operations() -> AsyncIterator[PushOperation]:
        return client.iter_push_operations(company_id)

    async def request_sync() -> None:
        await client.request_sync(company_id, connection_id, DATA_TYPE)
        await client.request_sync(company_id, connection_id, "bills")

    return WrittenLookup(DATA_TYPE, by_reference, reference_of, push_operations, request_sync)


async def _allocations(client: AsyncBillPayClient, company_id: str,
                       bill_id: str) -> AsyncIterator[tuple[str | None, str | None]]:
    """(reference, payment id) of each payment allocated to the bill in the synced copy."""
    try:
        raw = await client.get_bill_raw(company_id, bill_id)
    except (CodatNotFound, CodatApiError):
        return
    for allocation in raw.get("paymentAllocations") or ():
        payment = allocation.get("payment") if isinstance(allocation, dict) else None
        if isinstance(payment, dict):
            yield payment.get("reference"), payment.get("id")
