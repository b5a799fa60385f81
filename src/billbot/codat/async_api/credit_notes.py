"""Supplier credit notes through Codat's async Bill Pay API: the open ones of a supplier (from
the synced copy), one by id, and a new one pushed (`push/billCreditNotes`).

A credit note is allocated to a bill by a bill payment whose lines link the bill (negative:
money off the bill) and the credit note (positive: credit used), `services/push_payments`
builds that body. The supplier's credit note number is what tells billbot's own records
apart when an answer is lost (`credit_note_lookup`, for `resolve.resolve`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import Field

from billbot.codat.errors import CodatNotFound
from billbot.codat.models import CodatModel, IdRef, Money, SupplierRef

from . import paths
from .client import AsyncBillPayClient
from .models import PushOperation
from .queries import safe_value
from .raw import deleted
from .resolve import WrittenLookup

DATA_TYPE = "billCreditNotes"
ALLOCATABLE = ("Submitted", "PartiallyPaid")


class CreditNote(CodatModel):
    id: str
    number: str | None = Field(default=None, alias="billCreditNoteNumber")
    supplier_ref: SupplierRef | None = Field(default=None, alias="supplierRef")
    total_amount: Money | None = Field(default=None, alias="totalAmount")
    remaining_credit: Money | None = Field(default=None, alias="remainingCredit")
    status: str | None = None
    currency: str | None = None
    issue_date: str | None = Field(default=None, alias="issueDate")

    @property
    def open(self) -> bool:
        """Credit left that may be allocated."""
        return self.status in ALLOCATABLE and (self.remaining_credit or Decimal(0)) > 0

    @property
    def label(self) -> str:
        return self.number or self.id


@dataclass(frozen=True)
class NewCreditNote:
    """What a person types to record a credit note: the supplier's number, amount, date."""

    supplier_id: str
    number: str
    amount: Decimal
    currency: str
    issue_date: date
    account_id: str | None = None  # the expense account the credit reverses (the bill's)

    def body(self) -> CreditNoteBody:
        line: dict[str, Any] = {"description": f"Credit note {self.number}",
                                "unitAmount": self.amount, "quantity": 1,
                                "subTotal": self.amount, "taxAmount": 0,
                                "totalAmount": self.amount}
        if self.account_id:
            line["accountRef"] = {"id": self.account_id}
        return CreditNoteBody.model_validate({
            "billCreditNoteNumber": self.number, "supplierRef": {"id": self.supplier_id},
            "totalAmount": self.amount, "subTotal": self.amount,
            "issueDate": f"{self.issue_date.isoformat()}T00:00:00", "currency": self.currency,
            "lineItems": [line]})


class CreditNoteLine(CodatModel):
    description: str
    unit_amount: Money = Field(alias="unitAmount")
    quantity: Money
    sub_total: Money = Field(alias="subTotal")
    tax_amount: Money = Field(alias="taxAmount")
    total_amount: Money = Field(alias="totalAmount")
    account_ref: IdRef | None = Field(default=None, alias="accountRef")


class CreditNoteBody(CodatModel):
    """The BillCreditNote billbot pushes: no tax or discount, one line, Submitted."""

    number: str = Field(alias="billCreditNoteNumber")
    supplier_ref: IdRef = Field(alias="supplierRef")
    total_amount: Money = Field(alias="totalAmount")
    total_discount: Money = Field(default=Decimal(0), alias="totalDiscount")
    sub_total: Money = Field(alias="subTotal")
    total_tax_amount: Money = Field(default=Decimal(0), alias="totalTaxAmount")
    discount_percentage: Money = Field(default=Decimal(0), alias="discountPercentage")
    status: str = "Submitted"
    issue_date: str = Field(alias="issueDate")
    currency: str
    line_items: list[CreditNoteLine] = Field(alias="lineItems")


def _supplier_query(supplier_id: str, number: str | None = None) -> str:
    query = f"supplierRef.id={safe_value(supplier_id)}"
    return query if number is None else f"{query}&&billCreditNoteNumber={safe_value(number)}"


async def iter_credit_notes(client: AsyncBillPayClient, company_id: str, supplier_id: str, *,
                            number: str | None = None) -> AsyncIterator[CreditNote]:
    async for raw in client.iter_data(paths.BILL_CREDIT_NOTES,
                                      _supplier_query(supplier_id, number),
                                      companyId=company_id):
        if not deleted(raw):
            yield CreditNote.model_validate(raw)


async def open_credit_notes(client: AsyncBillPayClient, company_id: str, supplier_id: str,
                            currency: str) -> list[CreditNote]:
    """The supplier's credit notes in `currency` with credit left, oldest first."""
    found = [note async for note in iter_credit_notes(client, company_id, supplier_id)
             if note.open and (note.currency or currency).upper() == currency.upper()]
    return sorted(found, key=lambda n: (n.issue_date or "", n.label))


async def get_credit_note(client: AsyncBillPayClient, company_id: str,
                          note_id: str) -> CreditNote:
    return CreditNote.model_validate(await client.get_data(
        paths.BILL_CREDIT_NOTE, companyId=company_id, billCreditNoteId=note_id))


async def push_credit_note(client: AsyncBillPayClient, company_id: str, connection_id: str,
                           note: NewCreditNote) -> PushOperation:
    """Send one credit note; never retried by the client (a lost answer is unknown)."""
    safe_value(note.number)
    return await client.push(paths.PUSH_BILL_CREDIT_NOTES, note.body(), companyId=company_id,
                             connectionId=connection_id)


def credit_note_lookup(client: AsyncBillPayClient, company_id: str, connection_id: str,
                       supplier_id: str) -> WrittenLookup:
    """Where a credit note billbot may have recorded is: by its number (its "reference")."""
    async def by_number(number: str) -> AsyncIterator[str | None]:
        try:
            async for note in iter_credit_notes(client, company_id, supplier_id, number=number):
                if note.number == number:
                    yield note.id
        except CodatNotFound:
            return

    async def number_of(record_id: str) -> str | None:
        return (await get_credit_note(client, company_id, record_id)).number

    def push_operations() -> AsyncIterator[PushOperation]:
        return client.iter_push_operations(company_id)

    async def request_sync() -> None:
        await client.request_sync(company_id, connection_id, DATA_TYPE)

    return WrittenLookup(DATA_TYPE, by_number, number_of, push_operations, request_sync)


__all__ = ["ALLOCATABLE", "DATA_TYPE", "CreditNote", "NewCreditNote", "credit_note_lookup",
           "get_credit_note", "iter_credit_notes", "open_credit_notes", "push_credit_note"]
