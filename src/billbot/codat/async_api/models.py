"""Typed views of the async Bill Pay (v1) schemas billbot reads and writes that the sync API
does not have: push operations, bill payments with lines and links, accounts, paging.

Bills, suppliers and attachments read as the sync models (`billbot.codat.models`): their
fields agree, and unknown fields are ignored.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import Field

from billbot.codat.models import (
    CodatDateTime,
    CodatModel,
    IdRef,
    Money,
    SupplierRef,
    Validation,
)

T = TypeVar("T")


class PushStatus(StrEnum):
    PENDING = "Pending"
    FAILED = "Failed"
    SUCCESS = "Success"
    TIMED_OUT = "TimedOut"

    @property
    def final(self) -> bool:
        return self is not PushStatus.PENDING


class RecordRef(CodatModel):
    id: str | None = None
    data_type: str | None = Field(default=None, alias="dataType")


class PushChange(CodatModel):
    type: str | None = None
    record_ref: RecordRef | None = Field(default=None, alias="recordRef")
    attachment_id: str | None = Field(default=None, alias="attachmentId")


class PushOperation(CodatModel):
    """A write Codat applies to the books later: Pending, then Success, Failed or TimedOut.

    A create answer carries the record as `data` too (deprecated by Codat, kept raw here).
    """

    push_operation_key: str = Field(alias="pushOperationKey")
    company_id: str | None = Field(default=None, alias="companyId")
    data_connection_key: str | None = Field(default=None, alias="dataConnectionKey")
    data_type: str | None = Field(default=None, alias="dataType")
    status: PushStatus
    status_code: int | None = Field(default=None, alias="statusCode")
    requested_on: CodatDateTime | None = Field(default=None, alias="requestedOnUtc")
    completed_on: CodatDateTime | None = Field(default=None, alias="completedOnUtc")
    error_message: str | None = Field(default=None, alias="errorMessage")
    validation: Validation | None = None
    changes: list[PushChange] | None = None
    data: dict[str, Any] | None = None

    @property
    def record_id(self) -> str | None:
        """The id of the record the operation wrote (its first change), else the data's id."""
        for change in self.changes or ():
            if change.record_ref is not None and change.record_ref.id:
                return change.record_ref.id
        value = (self.data or {}).get("id")
        return str(value) if value else None

    @property
    def reason(self) -> str:
        """Codat's reason for a failure: the message plus the validation errors."""
        parts = [self.error_message] if self.error_message else []
        if self.validation and self.validation.errors:
            parts.extend(i.message for i in self.validation.errors if i.message)
        return "; ".join(parts) or f"the push operation ended {self.status.value}"


class LinkType(StrEnum):
    BILL = "Bill"
    CREDIT_NOTE = "CreditNote"
    BILL_PAYMENT = "BillPayment"
    PAYMENT_ON_ACCOUNT = "PaymentOnAccount"
    OTHER = "Other"
    UNKNOWN = "Unknown"


class PaymentLink(CodatModel):
    type: str
    id: str | None = None
    amount: Money | None = None
    currency_rate: Money | None = Field(default=None, alias="currencyRate")


class PaymentLine(CodatModel):
    amount: Money
    links: list[PaymentLink] | None = None
    allocated_on_date: str | None = Field(default=None, alias="allocatedOnDate")


class AsyncBillPayment(CodatModel):
    """A bill payment as the async API writes and reads it (`lines` allocate it to bills)."""

    id: str | None = None
    supplier_ref: SupplierRef | None = Field(default=None, alias="supplierRef")
    account_ref: IdRef | None = Field(default=None, alias="accountRef")
    total_amount: Money | None = Field(default=None, alias="totalAmount")
    currency: str | None = None
    currency_rate: Money | None = Field(default=None, alias="currencyRate")
    date: str
    note: str | None = None
    reference: str | None = None
    lines: list[PaymentLine] | None = None

    def bill_ids(self) -> set[str]:
        return {link.id for line in self.lines or () for link in line.links or ()
                if link.type == LinkType.BILL and link.id}


class Account(CodatModel):
    id: str
    name: str | None = None
    nominal_code: str | None = Field(default=None, alias="nominalCode")
    currency: str | None = None
    status: str | None = None
    type: str | None = None
    is_bank_account: bool | None = Field(default=None, alias="isBankAccount")


class TaxRate(CodatModel):
    id: str
    name: str | None = None
    code: str | None = None
    effective_tax_rate: Money | None = Field(default=None, alias="effectiveTaxRate")
    total_tax_rate: Money | None = Field(default=None, alias="totalTaxRate")
    status: str | None = None


class NumberedPage(CodatModel, Generic[T]):
    """One page of a page/pageSize listing (every data endpoint, push operations)."""

    results: list[T] = Field(default_factory=list)
    page_number: int = Field(alias="pageNumber")
    page_size: int = Field(alias="pageSize")
    total_results: int = Field(alias="totalResults")

    @property
    def last(self) -> bool:
        return not self.results or self.page_number * self.page_size >= self.total_results


class PushOptionChoice(CodatModel):
    value: str | None = None


class PushOption(CodatModel):
    """A create model (`options/...`): the fields and the values each may take."""

    type: str | None = None
    display_name: str | None = Field(default=None, alias="displayName")
    properties: dict[str, PushOption] | None = None
    options: list[PushOptionChoice] | None = None

    def choices(self, field: str) -> list[str]:
        """The allowed values of `field` (empty: any value, or the field is unknown)."""
        prop = (self.properties or {}).get(field)
        return [c.value for c in (prop.options or ()) if c.value] if prop else []


class AttachmentList(CodatModel):
    attachments: list[dict[str, Any]] | None = None
