"""Typed views of the Codat Bill Pay (sync) API schemas that billbot reads and writes.

Money is `Decimal` end to end: Codat sends JSON numbers, which pydantic parses into
`Decimal` from their text (never through float). Dates arrive as ISO-8601 strings that may
carry no timezone; `issueDate`/`dueDate` are exposed as `date` since billbot reasons in days.
Unknown fields are ignored so a richer real API does not break the bot.
"""

from __future__ import annotations

import weakref
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar, cast

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer


def _parse_codat_date(value: Any) -> Any:
    """Accept `2024-01-31`, `2024-01-31T00:00:00`, `...Z` and offsets; keep the calendar day."""
    if isinstance(value, str) and "T" in value:
        return value.split("T", 1)[0]
    if isinstance(value, datetime):
        return value.date()
    return value


def _parse_codat_datetime(value: Any) -> Any:
    if isinstance(value, str) and value.endswith("Z"):
        return value[:-1] + "+00:00"
    return value


def _decimal_to_json(value: Decimal) -> Any:
    # JSON has no decimal type; a number literal written from the exact string keeps every
    # digit (httpx serialises floats, so we hand it a float only when it is exact).
    return float(value) if Decimal(repr(float(value))) == value else str(value)


CodatDate = Annotated[
    date,
    BeforeValidator(_parse_codat_date),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
]
CodatDateTime = Annotated[
    datetime,
    BeforeValidator(_parse_codat_datetime),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
]
# Equal amounts parsed again and again (a quantity or rate of 1, the same price or tax on
# many bills), one object each. Decimals cannot be weakly referenced, so the table is bounded
# (emptied when full): the frequent values are back in it at once.
SHARED_DECIMALS_LIMIT = 1_024
_DECIMALS: dict[tuple[bool, int | str, Decimal], Decimal] = {}


def _shared_decimal(value: Decimal) -> Decimal:
    # Keyed by what tells equal Decimals apart (1 == 1.00 and 0 == -0, but not in JSON).
    key = (value.is_signed(), value.as_tuple().exponent, value)
    kept = _DECIMALS.get(key)
    if kept is not None:
        return kept
    if len(_DECIMALS) >= SHARED_DECIMALS_LIMIT:
        _DECIMALS.clear()
    _DECIMALS[key] = value
    return value


Money = Annotated[Decimal, AfterValidator(_shared_decimal), PlainSerializer(_decimal_to_json)]


# Equal sets of the fields set, one object each (see `CodatModel.model_post_init`).
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


class CodatModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    def model_post_init(self, context: Any, /) -> None:
        """Share one set of the fields set among the models with an equal one.

        Pydantic keeps that set per instance (728 bytes for a bill or a line item): about
        3 KB of a parsed bill's 7, the same few sets over and over, 16 MB of a 5,000-bill
        read. Sharing is safe: the models are frozen, so nothing adds to the set, and a copy
        (`model_copy`, `copy`) gets a set of its own before any change.
        """
        fields = self.__pydantic_fields_set__
        shared = _FIELDS_SETS.setdefault(frozenset(fields), fields)
        if shared is not fields:
            object.__setattr__(self, "__pydantic_fields_set__", shared)

    def to_api(self) -> dict[str, Any]:
        """The JSON body Codat expects: camelCase aliases, no unset optional fields."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class BillStatus(StrEnum):
    UNKNOWN = "Unknown"
    OPEN = "Open"
    PARTIALLY_PAID = "PartiallyPaid"
    PAID = "Paid"
    VOID = "Void"
    DRAFT = "Draft"

    @property
    def payable(self) -> bool:
        return self in (BillStatus.OPEN, BillStatus.PARTIALLY_PAID)


class AccountStatus(StrEnum):
    ACTIVE = "Active"
    ARCHIVED = "Archived"


class BankAccountType(StrEnum):
    UNKNOWN = "Unknown"
    CREDIT = "Credit"
    DEBIT = "Debit"


class SupplierStatus(StrEnum):
    UNKNOWN = "Unknown"
    ACTIVE = "Active"
    ARCHIVED = "Archived"


class ConnectionStatus(StrEnum):
    PENDING_AUTH = "PendingAuth"
    LINKED = "Linked"
    UNLINKED = "Unlinked"
    DEAUTHORIZED = "Deauthorized"


# --- companies and connections -------------------------------------------------------------


class Connection(CodatModel):
    id: str
    integration_id: str = Field(alias="integrationId")
    integration_key: str | None = Field(default=None, alias="integrationKey")
    source_id: str = Field(alias="sourceId")
    source_type: str = Field(alias="sourceType")
    platform_name: str = Field(alias="platformName")
    link_url: str = Field(alias="linkUrl")
    status: ConnectionStatus
    created: CodatDateTime
    last_sync: CodatDateTime | None = Field(default=None, alias="lastSync")


class Company(CodatModel):
    id: str
    name: str
    redirect: str
    description: str | None = None
    created: CodatDateTime | None = None
    last_sync: CodatDateTime | None = Field(default=None, alias="lastSync")
    tags: dict[str, str] | None = None
    data_connections: list[Connection] | None = Field(default=None, alias="dataConnections")


class CompanyInfo(CodatModel):
    company_name: str | None = Field(default=None, alias="companyName")
    base_currency: str | None = Field(default=None, alias="baseCurrency")


T = TypeVar("T")


class Page(CodatModel, Generic[T]):
    """One page of a page/pageSize listing (companies, connections)."""

    results: list[T]
    page_number: int = Field(alias="pageNumber")
    page_size: int = Field(alias="pageSize")
    total_results: int = Field(alias="totalResults")


# --- bills -----------------------------------------------------------------------------------


# The references alive, by class and value: held weakly, so only as long as a bill holds them.
_REFS: weakref.WeakValueDictionary[tuple[object, ...], Any] = weakref.WeakValueDictionary()

R = TypeVar("R", bound="CodatModel | None")


def _one_of_each(ref: R) -> R:
    """An equal reference already alive, or this one: bills name the same few suppliers,
    accounts and tax rates over and over, and they are frozen, so one object serves all."""
    if ref is None:
        return ref
    key = (type(ref), tuple(ref.__dict__.values()), id(ref.__pydantic_fields_set__))
    kept = _REFS.get(key)
    if kept is None:
        _REFS[key] = kept = ref
    return cast(R, kept)


# On the fields that hold a reference (a validator on the reference itself may not hand back
# another object when the reference is built by its constructor).
Shared = AfterValidator(_one_of_each)


class SupplierRef(CodatModel):
    id: str
    supplier_name: str | None = Field(default=None, alias="supplierName")


class IdRef(CodatModel):
    id: str


class TrackingRef(CodatModel):
    id: str | None = None
    data_type: str | None = Field(default=None, alias="dataType")
    is_billable: bool | None = Field(default=None, alias="isBillable")


class BillLineItem(CodatModel):
    description: str | None = None
    unit_amount: Money = Field(alias="unitAmount")
    quantity: Money
    tax_amount: Money | None = Field(default=None, alias="taxAmount")
    total_amount: Money | None = Field(default=None, alias="totalAmount")
    account_ref: Annotated[IdRef | None, Shared] = Field(default=None, alias="accountRef")
    tax_rate_ref: Annotated[IdRef | None, Shared] = Field(default=None, alias="taxRateRef")
    tracking_refs: list[Annotated[TrackingRef, Shared]] | None = Field(
        default=None, alias="trackingRefs")


class Bill(CodatModel):
    id: str
    reference: str | None = None
    supplier_ref: Annotated[SupplierRef, Shared] = Field(alias="supplierRef")
    issue_date: CodatDate = Field(alias="issueDate")
    due_date: CodatDate = Field(alias="dueDate")
    currency: str
    currency_rate: Money | None = Field(default=None, alias="currencyRate")
    line_items: list[BillLineItem] | None = Field(default=None, alias="lineItems")
    status: BillStatus
    total_amount: Money | None = Field(default=None, alias="totalAmount")
    amount_due: Money | None = Field(default=None, alias="amountDue")
    source_modified_date: CodatDateTime | None = Field(default=None, alias="sourceModifiedDate")


class BillPrototype(CodatModel):
    supplier_ref: SupplierRef = Field(alias="supplierRef")
    issue_date: CodatDate = Field(alias="issueDate")
    due_date: CodatDate = Field(alias="dueDate")
    currency: str
    status: BillStatus = BillStatus.OPEN
    reference: str | None = None
    currency_rate: Money | None = Field(default=None, alias="currencyRate")
    line_items: list[BillLineItem] | None = Field(default=None, alias="lineItems")


class Attachment(CodatModel):
    id: str
    name: str | None = None
    content_type: str | None = Field(default=None, alias="contentType")
    date_created: CodatDateTime | None = Field(default=None, alias="dateCreated")
    file_size: int | None = Field(default=None, alias="fileSize")
    include_when_sent: bool | None = Field(default=None, alias="includeWhenSent")


# --- payments and mapping options ------------------------------------------------------------


class BillPaymentPrototype(CodatModel):
    amount: Money
    date: str  # ISO date-time at midnight, e.g. 2026-11-22T00:00:00 (contract: no timezone)
    account_ref: IdRef = Field(alias="accountRef")
    reference: str | None = None
    currency_rate: Money | None = Field(default=None, alias="currencyRate")


class BillPayment(CodatModel):
    id: str
    amount: Money
    date: str
    reference: str | None = None
    account_ref: IdRef | None = Field(default=None, alias="accountRef")
    currency_rate: Money | None = Field(default=None, alias="currencyRate")


class BankAccountOption(CodatModel):
    """A payment account from `mappingOptions/payments` (credit accounts included)."""

    id: str
    name: str | None = None
    account_number: str | None = Field(default=None, alias="accountNumber")
    nominal_code: str | None = Field(default=None, alias="nominalCode")
    sort_code: str | None = Field(default=None, alias="sortCode")
    currency: str | None = None
    status: AccountStatus | None = None
    account_type: BankAccountType | None = Field(default=None, alias="accountType")


class PaymentMappingOptions(CodatModel):
    bank_accounts: list[BankAccountOption] = Field(default_factory=list, alias="bankAccounts")


class AccountOption(CodatModel):
    id: str
    nominal_code: str | None = Field(default=None, alias="nominalCode")
    name: str | None = None
    type: str | None = None
    currency: str | None = None
    status: AccountStatus | None = None


class TaxRateOption(CodatModel):
    id: str
    name: str | None = None
    code: str | None = None
    effective_tax_rate: Money | None = Field(default=None, alias="effectiveTaxRate")
    total_tax_rate: Money | None = Field(default=None, alias="totalTaxRate")
    status: AccountStatus | None = None


class BillMappingOptions(CodatModel):
    accounts: list[AccountOption] = Field(default_factory=list)
    tax_rates: list[TaxRateOption] = Field(default_factory=list, alias="taxRates")


# --- suppliers and bank accounts -------------------------------------------------------------


class Address(CodatModel):
    type: str = "Unknown"
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    postal_code: str | None = Field(default=None, alias="postalCode")


class SupplierPrototype(CodatModel):
    supplier_name: str = Field(alias="supplierName")
    status: SupplierStatus = SupplierStatus.ACTIVE
    contact_name: str | None = Field(default=None, alias="contactName")
    email_address: str | None = Field(default=None, alias="emailAddress")
    phone: str | None = None
    addresses: list[Address] | None = None
    balance: Money | None = None
    default_currency: str | None = Field(default=None, alias="defaultCurrency")


class Supplier(SupplierPrototype):
    id: str
    source_modified_date: CodatDateTime | None = Field(default=None, alias="sourceModifiedDate")


class BankAccountPrototype(CodatModel):
    name: str
    account_type: BankAccountType = Field(alias="accountType")
    account_number: str = Field(alias="accountNumber")
    currency: str
    nominal_code: str | None = Field(default=None, alias="nominalCode")
    sort_code: str | None = Field(default=None, alias="sortCode")


class BankAccount(BankAccountPrototype):
    id: str
    status: AccountStatus | None = None
    source_modified_date: CodatDateTime | None = Field(default=None, alias="sourceModifiedDate")


# --- errors ------------------------------------------------------------------------------------


class ValidationItem(CodatModel):
    item_id: str | None = Field(default=None, alias="itemId")
    message: str | None = None
    validator_name: str | None = Field(default=None, alias="validatorName")


class Validation(CodatModel):
    errors: list[ValidationItem] | None = None
    warnings: list[ValidationItem] | None = None


class ErrorMessage(CodatModel):
    status_code: int | None = Field(default=None, alias="statusCode")
    service: str | None = None
    error: str | None = None
    correlation_id: str | None = Field(default=None, alias="correlationId")
    validation: Validation | None = None
    can_be_retried: str | None = Field(default=None, alias="canBeRetried")
    detailed_error_code: int | None = Field(default=None, alias="detailedErrorCode")
