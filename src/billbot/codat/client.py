"""An async client for Codat's Bill Pay (sync) API on one injected `httpx.AsyncClient`.

Every call goes through `CodatClient._send`, which owns the three things money depends on:

* **classification**: whether a failed request provably never left (`CodatNotSent`), may
  have been acted on (`CodatOutcomeUnknown`) or was answered for good (`CodatApiError`);
* **retries**: GETs are retried on 408/429/5xx/connection errors; a POST or PUT only when it
  carries an Idempotency-Key, so Codat can replay the first outcome instead of acting twice;
* **taint**: once any attempt of a write had an unknown outcome, the call can only end in
  success or `CodatOutcomeUnknown` (a later "not sent" or 4xx cannot prove the first attempt
  did not land).

Bodies are parsed from the raw bytes by pydantic, so money arrives as exact `Decimal`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, NoReturn, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from .errors import (
    CodatApiError,
    CodatConflict,
    CodatError,
    CodatNotFound,
    CodatNotSent,
    CodatOutcomeUnknown,
)
from .models import (
    AccountOption,
    Attachment,
    BankAccount,
    BankAccountOption,
    BankAccountPrototype,
    Bill,
    BillMappingOptions,
    BillPayment,
    BillPaymentPrototype,
    BillPrototype,
    CodatModel,
    Company,
    CompanyInfo,
    Connection,
    ErrorMessage,
    Page,
    PaymentMappingOptions,
    Supplier,
    SupplierPrototype,
    TaxRateOption,
)
from .retry import RetryPolicy, parse_http_date, parse_retry_after

logger = logging.getLogger("billbot.codat")

DEFAULT_BASE_URL = "https://api.codat.io"

# Path templates double as the names logged for each call (ids never reach the log line).
_COMPANIES = "/companies"
_COMPANY = "/companies/{companyId}"
_CONNECTIONS = "/companies/{companyId}/connections"
_CONNECTION = "/companies/{companyId}/connections/{connectionId}"
_PAYABLES = "/companies/{companyId}/connections/{connectionId}/payables"
_INFO = _PAYABLES + "/info"
_BILL_OPTIONS = _PAYABLES + "/mappingOptions/bills"
_PAYMENT_OPTIONS = _PAYABLES + "/mappingOptions/payments"
_BILLS = _PAYABLES + "/bills"
_BILL = _BILLS + "/{billId}"
_ATTACHMENTS = _BILL + "/attachments"
_ATTACHMENT_DOWNLOAD = _ATTACHMENTS + "/{attachmentId}/download"
_BILL_PAYMENT = _BILL + "/payment"
_SUPPLIERS = _PAYABLES + "/suppliers"
_SUPPLIER = _SUPPLIERS + "/{supplierId}"
_BANK_ACCOUNTS = _PAYABLES + "/bankAccounts"

# Errors raised before a single byte of the request was written.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)

# Characters of Codat's query language that a bare `id=<value>` cannot carry safely.
_QUERY_OPERATORS = ("&&", "||", "{", "}")

_ModelT = TypeVar("_ModelT", bound=BaseModel)
_T = TypeVar("_T")


# --- response envelopes that only the client sees ------------------------------------------


class _Pagination(CodatModel):
    continuation_token: str | None = Field(default=None, alias="continuationToken")


class _TokenPaged(CodatModel):
    pagination: _Pagination | None = None

    @property
    def next_token(self) -> str | None:
        return self.pagination.continuation_token if self.pagination else None


class _ResultsPage(_TokenPaged, Generic[_T]):
    results: list[_T] = Field(default_factory=list)


class _BillOptionsPage(_TokenPaged):
    accounts: list[AccountOption] = Field(default_factory=list)
    tax_rates: list[TaxRateOption] = Field(default_factory=list, alias="taxRates")


class _PaymentOptionsPage(_TokenPaged):
    bank_accounts: list[BankAccountOption] = Field(default_factory=list, alias="bankAccounts")


_PagedT = TypeVar("_PagedT", bound=_TokenPaged)
_ATTACHMENT_LIST = TypeAdapter(list[Attachment])


# --- one request, as the retry loop sees it --------------------------------------------------


@dataclass(frozen=True)
class _Call:
    method: str
    template: str
    path: str
    params: Mapping[str, str | int] | None = None
    json_body: bytes | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    idempotency_key: str | None = None
    accept: str = "application/json"

    @property
    def is_write(self) -> bool:
        return self.method not in ("GET", "HEAD")

    @property
    def may_retry(self) -> bool:
        """A write may only be repeated when Codat can recognise the repeat by its key."""
        return not self.is_write or self.idempotency_key is not None


@dataclass
class _Failure:
    """What one failed attempt means, and whether another attempt may follow."""

    error: CodatError
    retryable: bool
    outcome_unknown: bool
    status: int | None = None
    retry_after: float | None = None


class _Budget:
    """Time one call has used: its attempts (measured) plus its waits (as requested)."""

    def __init__(self, policy: RetryPolicy, monotonic: Callable[[], float]) -> None:
        self._policy = policy
        self._monotonic = monotonic
        self.used = 0.0
        self.retries = 0
        self.conflicts = 0

    async def attempt(self, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        started = self._monotonic()
        try:
            return await send()
        finally:
            self.used += max(0.0, self._monotonic() - started)

    def next_delay(self, failure: _Failure, attempts_made: int) -> float | None:
        """The wait before the next attempt, or None when this call must give up now."""
        remaining = self._policy.max_elapsed - self.used
        if remaining <= 0 or not self._policy.allows_attempt(attempts_made):
            return None
        if failure.retry_after is not None:
            return min(failure.retry_after, remaining)
        return min(self._policy.backoff(self.retries), remaining)


# --- helpers ---------------------------------------------------------------------------------


def _segment(value: str, name: str) -> str:
    """One path segment: ids are free strings, so `/`, `?`, `#` and dot-segments are escaped."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    encoded = quote(value, safe="")
    if encoded in (".", ".."):  # httpx would otherwise collapse them as dot-segments
        encoded = encoded.replace(".", "%2E")
    return encoded


def _path(template: str, **ids: str) -> str:
    return template.format_map({name: _segment(value, name) for name, value in ids.items()})


def _json_body(model: CodatModel) -> bytes:
    """`model.to_api()` as JSON bytes, refusing any amount that would not travel exactly."""
    _check_exact_money(model)
    return json.dumps(model.to_api(), allow_nan=False, separators=(",", ":")).encode()


def _check_exact_money(value: Any) -> None:
    # to_api() writes a Decimal as a JSON number only when that number reads back as the same
    # Decimal; otherwise it would go out as a string, which Codat would reject or misread.
    if isinstance(value, Decimal):
        if not value.is_finite() or Decimal(repr(float(value))) != value:
            raise ValueError(f"amount {value} cannot be sent as an exact JSON number")
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _check_exact_money(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            _check_exact_money(item)


def _synthesized_error(status: int, text: str) -> ErrorMessage:
    snippet = " ".join(text.split())[:200]
    reason = f"HTTP {status}" + (f": {snippet}" if snippet else "")
    return ErrorMessage.model_validate({"statusCode": status, "error": reason})


def _error_message(response: httpx.Response) -> ErrorMessage:
    """Codat's ErrorMessage from the body, or one made up when the body is not one."""
    try:
        message = ErrorMessage.model_validate_json(response.content)
    except ValidationError:
        return _synthesized_error(response.status_code, response.text)
    if message.status_code is None:
        message = message.model_copy(update={"status_code": response.status_code})
    return message


def _retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("Retry-After"),
                             now=parse_http_date(response.headers.get("Date")))


def _idempotency_key(key: str) -> str:
    if not key or not key.strip() or len(key) > 255:
        raise ValueError("idempotency_key must be 1-255 non-blank characters")
    return key


def _classify_response(call: _Call, response: httpx.Response, conflicts: int,
                       policy: RetryPolicy) -> _Failure:
    status = response.status_code
    error = _error_message(response)
    retry_after = _retry_after(response)
    if status == 404:
        return _Failure(CodatNotFound(status, error), retryable=False, outcome_unknown=False,
                        status=status)
    if status == 409 and not call.is_write:
        return _Failure(CodatConflict(status, error),
                        retryable=conflicts < policy.conflict_retries,
                        outcome_unknown=False, status=status, retry_after=retry_after)
    if status == 409 and call.idempotency_key is not None:
        # Idempotency-Conflict: the first request with this key is still being processed.
        message = "Codat is still processing a request with this Idempotency-Key"
        return _Failure(CodatOutcomeUnknown(message, status_code=status, error=error),
                        retryable=True, outcome_unknown=True, status=status,
                        retry_after=retry_after)
    if status == 429 and not call.is_write:
        return _Failure(CodatApiError(status, error), retryable=True, outcome_unknown=False,
                        status=status, retry_after=retry_after)
    if status in (408, 429) or status >= 500:
        message = f"Codat answered {status}; the request may have been acted on"
        return _Failure(CodatOutcomeUnknown(message, status_code=status, error=error),
                        retryable=call.may_retry, outcome_unknown=call.is_write,
                        status=status, retry_after=retry_after)
    return _Failure(CodatApiError(status, error), retryable=False, outcome_unknown=False,
                    status=status)


def _classify_transport_error(call: _Call, exc: httpx.TransportError) -> _Failure:
    if isinstance(exc, _NOT_SENT_ERRORS):
        # Resending would be harmless here, but an unkeyed write is still left to the caller:
        # the rule "writes repeat only under an Idempotency-Key" has no exceptions.
        return _Failure(CodatNotSent(f"request not sent: {type(exc).__name__}: {exc}"),
                        retryable=call.may_retry, outcome_unknown=False)
    if isinstance(exc, httpx.UnsupportedProtocol):  # a bad base URL: retrying cannot help
        return _Failure(CodatNotSent(f"request not sent: {exc}"), retryable=False,
                        outcome_unknown=False)
    message = f"no answer from Codat after sending: {type(exc).__name__}: {exc}"
    return _Failure(CodatOutcomeUnknown(message), retryable=call.may_retry,
                    outcome_unknown=call.is_write)


def _as_outcome_unknown(failure: _Failure) -> CodatOutcomeUnknown:
    """A final failure of a write whose earlier attempt may have landed."""
    error = failure.error
    if isinstance(error, CodatOutcomeUnknown):
        return error
    status = error.status_code if isinstance(error, CodatApiError) else None
    body = error.error if isinstance(error, CodatApiError) else None
    return CodatOutcomeUnknown(
        f"an earlier attempt may have been acted on; the last one ended with: {error}",
        status_code=status, error=body)


# --- the client ------------------------------------------------------------------------------


class CodatClient:
    """Typed calls to Codat Bill Pay (sync); see the module docstring for error semantics.

    Args:
        http: the shared `httpx.AsyncClient` (its transport decides where requests go).
        api_key: the raw Codat API key; sent as `Authorization: Basic base64(key)`.
        base_url: Codat's base URL, or the sandbox's.
        timeout: applied to every request.
        retry: the retry policy; `RetryPolicy()` (about 30 s in total) when None.
        sleep: how to wait between attempts (tests inject a recorder).
        monotonic: how attempt durations are measured for the budget.
    """

    def __init__(self, http: httpx.AsyncClient, *, api_key: str,
                 base_url: str = DEFAULT_BASE_URL, timeout: httpx.Timeout | float = 15.0,
                 retry: RetryPolicy | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        self._http = http
        self._api_key = api_key
        self._authorization = "Basic " + base64.b64encode(api_key.encode()).decode("ascii")
        if httpx.URL(base_url).scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._monotonic = monotonic

    def __repr__(self) -> str:  # never shows the key
        return f"CodatClient(base_url={self._base_url!r})"

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    def with_retry(self, retry: RetryPolicy) -> CodatClient:
        """The same HTTP client, key and base URL under another retry policy."""
        return CodatClient(self._http, api_key=self._api_key, base_url=self._base_url,
                           timeout=self._timeout, retry=retry, sleep=self._sleep,
                           monotonic=self._monotonic)

    def with_limits(self, *, timeout: float, retry: RetryPolicy) -> CodatClient:
        """The same HTTP client, key and base URL under another timeout and retry policy."""
        return CodatClient(self._http, api_key=self._api_key, base_url=self._base_url,
                           timeout=timeout, retry=retry, sleep=self._sleep,
                           monotonic=self._monotonic)

    # --- companies and connections -----------------------------------------------------------

    async def list_companies(self, *, page: int = 1, page_size: int = 100,
                             query: str | None = None) -> Page[Company]:
        params = _page_params(page, page_size, query)
        response = await self._send(_Call("GET", _COMPANIES, _COMPANIES, params=params))
        return _parse(Page[Company], response)

    async def get_company(self, company_id: str) -> Company:
        response = await self._get(_COMPANY, companyId=company_id)
        return _parse(Company, response)

    async def create_company(self, name: str, *, description: str | None = None) -> Company:
        body: dict[str, str] = {"name": name}
        if description is not None:
            body["description"] = description
        response = await self._send(_Call("POST", _COMPANIES, _COMPANIES,
                                          json_body=json.dumps(body).encode()))
        return _parse(Company, response, write=True)

    async def list_connections(self, company_id: str, *, page: int = 1, page_size: int = 100,
                               query: str | None = None) -> Page[Connection]:
        path = _path(_CONNECTIONS, companyId=company_id)
        params = _page_params(page, page_size, query)
        response = await self._send(_Call("GET", _CONNECTIONS, path, params=params))
        return _parse(Page[Connection], response)

    async def get_connection(self, company_id: str, connection_id: str) -> Connection:
        response = await self._get(_CONNECTION, companyId=company_id, connectionId=connection_id)
        return _parse(Connection, response)

    async def create_connection(self, company_id: str, platform_key: str) -> Connection:
        path = _path(_CONNECTIONS, companyId=company_id)
        body = json.dumps({"platformKey": platform_key}).encode()
        response = await self._send(_Call("POST", _CONNECTIONS, path, json_body=body))
        return _parse(Connection, response, write=True)

    # --- company information and mapping options ---------------------------------------------

    async def get_company_info(self, company_id: str, connection_id: str) -> CompanyInfo:
        response = await self._get(_INFO, companyId=company_id, connectionId=connection_id)
        return _parse(CompanyInfo, response)

    async def get_bill_mapping_options(self, company_id: str,
                                       connection_id: str) -> BillMappingOptions:
        """Accounts and tax rates, every continuation page merged into one answer."""
        accounts: list[AccountOption] = []
        tax_rates: list[TaxRateOption] = []
        path = _path(_BILL_OPTIONS, companyId=company_id, connectionId=connection_id)
        async for page in self._token_pages(_BILL_OPTIONS, path, {}, _BillOptionsPage):
            accounts.extend(page.accounts)
            tax_rates.extend(page.tax_rates)
        return BillMappingOptions.model_validate({"accounts": accounts, "taxRates": tax_rates})

    async def get_payment_mapping_options(self, company_id: str, connection_id: str, *,
                                          status_query: str | None = None
                                          ) -> PaymentMappingOptions:
        """Payment accounts (bank and credit), every continuation page merged."""
        accounts: list[BankAccountOption] = []
        path = _path(_PAYMENT_OPTIONS, companyId=company_id, connectionId=connection_id)
        params = {"statusQuery": status_query} if status_query is not None else {}
        async for page in self._token_pages(_PAYMENT_OPTIONS, path, params,
                                            _PaymentOptionsPage):
            accounts.extend(page.bank_accounts)
        return PaymentMappingOptions.model_validate({"bankAccounts": accounts})

    # --- bills ---------------------------------------------------------------------------------

    async def iter_bills(self, company_id: str, connection_id: str, *,
                         query: str | None = None) -> AsyncIterator[Bill]:
        """Bills page by page. With no query Codat returns only Open and PartiallyPaid ones."""
        path = _path(_BILLS, companyId=company_id, connectionId=connection_id)
        params = {"query": query} if query is not None else {}
        async for page in self._token_pages(_BILLS, path, params, _ResultsPage[Bill]):
            for bill in page.results:
                yield bill

    async def list_bills(self, company_id: str, connection_id: str, *,
                         query: str | None = None) -> list[Bill]:
        return [bill async for bill in self.iter_bills(company_id, connection_id, query=query)]

    async def get_bill(self, company_id: str, connection_id: str, bill_id: str) -> Bill:
        """One bill in any status. Codat has no get-bill endpoint: this lists `id=<bill_id>`."""
        _segment(bill_id, "billId")
        if any(op in bill_id for op in _QUERY_OPERATORS):
            raise ValueError(f"bill id {bill_id!r} cannot be expressed in Codat's query language")
        async for bill in self.iter_bills(company_id, connection_id, query=f"id={bill_id}"):
            if bill.id == bill_id:
                return bill
        raise CodatNotFound(404, ErrorMessage.model_validate(
            {"statusCode": 404, "error": f"No bill with id {bill_id!r} was found"}))

    async def create_bill(self, company_id: str, connection_id: str, bill: BillPrototype, *,
                          idempotency_key: str) -> Bill:
        path = _path(_BILLS, companyId=company_id, connectionId=connection_id)
        call = _Call("POST", _BILLS, path, json_body=_json_body(bill),
                     idempotency_key=_idempotency_key(idempotency_key))
        return _parse(Bill, await self._send(call), write=True)

    async def update_bill(self, company_id: str, connection_id: str, bill_id: str,
                          bill: BillPrototype, *, idempotency_key: str) -> Bill:
        path = _path(_BILL, companyId=company_id, connectionId=connection_id, billId=bill_id)
        call = _Call("PUT", _BILL, path, json_body=_json_body(bill),
                     idempotency_key=_idempotency_key(idempotency_key))
        return _parse(Bill, await self._send(call), write=True)

    # --- attachments -----------------------------------------------------------------------

    async def upload_attachment(self, company_id: str, connection_id: str, bill_id: str, *,
                                filename: str, content: bytes, content_type: str) -> Attachment:
        """Multipart upload (part `file`). Codat takes no Idempotency-Key here: never retried."""
        path = _path(_ATTACHMENTS, companyId=company_id, connectionId=connection_id,
                     billId=bill_id)
        call = _Call("POST", _ATTACHMENTS, path,
                     files={"file": (filename, content, content_type)})
        return _parse(Attachment, await self._send(call), write=True)

    async def list_attachments(self, company_id: str, connection_id: str,
                               bill_id: str) -> list[Attachment]:
        response = await self._get(_ATTACHMENTS, companyId=company_id,
                                   connectionId=connection_id, billId=bill_id)
        return _parse_adapter(_ATTACHMENT_LIST, response)

    async def download_attachment(self, company_id: str, connection_id: str, bill_id: str,
                                  attachment_id: str) -> bytes:
        path = _path(_ATTACHMENT_DOWNLOAD, companyId=company_id, connectionId=connection_id,
                     billId=bill_id, attachmentId=attachment_id)
        # The file comes as application/octet-stream; errors still come as JSON.
        call = _Call("GET", _ATTACHMENT_DOWNLOAD, path, accept="*/*")
        return (await self._send(call)).content

    # --- payments ------------------------------------------------------------------------------

    async def create_bill_payment(self, company_id: str, connection_id: str, bill_id: str,
                                  payment: BillPaymentPrototype, *,
                                  idempotency_key: str) -> BillPayment:
        """Pay one bill. Retry a CodatOutcomeUnknown only with the SAME idempotency_key."""
        path = _path(_BILL_PAYMENT, companyId=company_id, connectionId=connection_id,
                     billId=bill_id)
        call = _Call("POST", _BILL_PAYMENT, path, json_body=_json_body(payment),
                     idempotency_key=_idempotency_key(idempotency_key))
        return _parse(BillPayment, await self._send(call), write=True)

    # --- suppliers and bank accounts -----------------------------------------------------------

    async def iter_suppliers(self, company_id: str, connection_id: str, *,
                             query: str | None = None) -> AsyncIterator[Supplier]:
        path = _path(_SUPPLIERS, companyId=company_id, connectionId=connection_id)
        params = {"query": query} if query is not None else {}
        async for page in self._token_pages(_SUPPLIERS, path, params, _ResultsPage[Supplier]):
            for supplier in page.results:
                yield supplier

    async def list_suppliers(self, company_id: str, connection_id: str, *,
                             query: str | None = None) -> list[Supplier]:
        return [s async for s in self.iter_suppliers(company_id, connection_id, query=query)]

    async def create_supplier(self, company_id: str, connection_id: str,
                              supplier: SupplierPrototype, *,
                              idempotency_key: str | None = None) -> Supplier:
        path = _path(_SUPPLIERS, companyId=company_id, connectionId=connection_id)
        key = _idempotency_key(idempotency_key) if idempotency_key is not None else None
        call = _Call("POST", _SUPPLIERS, path, json_body=_json_body(supplier),
                     idempotency_key=key)
        return _parse(Supplier, await self._send(call), write=True)

    async def update_supplier(self, company_id: str, connection_id: str, supplier_id: str,
                              supplier: SupplierPrototype) -> Supplier:
        """Full replace: fields left out are cleared. No Idempotency-Key: never retried."""
        path = _path(_SUPPLIER, companyId=company_id, connectionId=connection_id,
                     supplierId=supplier_id)
        call = _Call("PUT", _SUPPLIER, path, json_body=_json_body(supplier))
        return _parse(Supplier, await self._send(call), write=True)

    async def create_bank_account(self, company_id: str, connection_id: str,
                                  account: BankAccountPrototype, *,
                                  idempotency_key: str | None = None) -> BankAccount:
        path = _path(_BANK_ACCOUNTS, companyId=company_id, connectionId=connection_id)
        key = _idempotency_key(idempotency_key) if idempotency_key is not None else None
        call = _Call("POST", _BANK_ACCOUNTS, path, json_body=_json_body(account),
                     idempotency_key=key)
        return _parse(BankAccount, await self._send(call), write=True)

    # --- plumbing ------------------------------------------------------------------------------

    async def _get(self, template: str, **ids: str) -> httpx.Response:
        return await self._send(_Call("GET", template, _path(template, **ids)))

    async def _token_pages(self, template: str, path: str, params: Mapping[str, str],
                           envelope: type[_PagedT]) -> AsyncIterator[_PagedT]:
        """Follow `pagination.continuationToken` until Codat leaves it out."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            page_params = dict(params)
            if token is not None:
                page_params["continuationToken"] = token
            response = await self._send(_Call("GET", template, path, params=page_params))
            page = _parse(envelope, response)
            yield page
            token = page.next_token
            if not token:
                return
            if token in seen:  # a server bug would otherwise loop forever
                raise CodatApiError(response.status_code, _synthesized_error(
                    response.status_code, f"continuation token repeated on {template}"))
            seen.add(token)

    def _headers(self, call: _Call) -> dict[str, str]:
        headers = {"Authorization": self._authorization, "Accept": call.accept}
        if call.json_body is not None:
            headers["Content-Type"] = "application/json"
        if call.idempotency_key is not None:
            headers["Idempotency-Key"] = call.idempotency_key
        return headers

    async def _send(self, call: _Call) -> httpx.Response:
        """One logical call: attempts, classification, backoff and the taint rule."""
        budget = _Budget(self._retry, self._monotonic)
        url = self._base_url + call.path
        headers = self._headers(call)
        attempt = 0
        tainted = False  # an earlier attempt of this write may have been acted on

        def send() -> Awaitable[httpx.Response]:
            return self._http.request(call.method, url, params=call.params,
                                      content=call.json_body, files=call.files,
                                      headers=headers, timeout=self._timeout)

        while True:
            attempt += 1
            try:
                response = await budget.attempt(send)
            except httpx.TransportError as exc:
                failure = _classify_transport_error(call, exc)
                failure.error.__cause__ = exc
            else:
                if response.is_success:
                    _log_attempt(logging.DEBUG, call, attempt, response.status_code,
                                 _correlation_id(response), "ok")
                    return response
                failure = _classify_response(call, response, budget.conflicts, self._retry)
            tainted = tainted or failure.outcome_unknown
            delay = budget.next_delay(failure, attempt) if failure.retryable else None
            _log_failure(call, attempt, failure, delay)
            if delay is None:
                self._raise_final(failure, tainted)
            if isinstance(failure.error, CodatConflict):
                budget.conflicts += 1
            budget.retries += 1
            budget.used += delay
            await self._sleep(delay)

    @staticmethod
    def _raise_final(failure: _Failure, tainted: bool) -> NoReturn:
        if tainted:
            final = _as_outcome_unknown(failure)
            if final is not failure.error:
                raise final from failure.error
        raise failure.error


def _page_params(page: int, page_size: int, query: str | None) -> dict[str, str | int]:
    if page < 1 or not 1 <= page_size <= 5000:
        raise ValueError("page must be >= 1 and page_size between 1 and 5000")
    params: dict[str, str | int] = {"page": page, "pageSize": page_size}
    if query is not None:
        params["query"] = query
    return params


def _parse(model: type[_ModelT], response: httpx.Response, *, write: bool = False) -> _ModelT:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        _raise_unreadable(response, write, exc)


def _parse_adapter(adapter: TypeAdapter[_T], response: httpx.Response) -> _T:
    try:
        return adapter.validate_json(response.content)
    except ValidationError as exc:
        _raise_unreadable(response, False, exc)


def _raise_unreadable(response: httpx.Response, write: bool, exc: ValidationError) -> NoReturn:
    status = response.status_code
    logger.error("codat answered %s with a body billbot cannot read: %s", status,
                 exc.errors(include_url=False, include_input=False)[:3])
    if write:
        # The write succeeded at Codat (2xx) but we cannot tell what it created.
        raise CodatOutcomeUnknown(f"unreadable {status} answer to a write",
                                  status_code=status) from exc
    raise CodatApiError(status, _synthesized_error(status, "unreadable response body")) from exc


def _correlation_id(response: httpx.Response) -> str | None:
    value = response.headers.get("X-Correlation-Id")
    return str(value) if value is not None else None


def _log_attempt(level: int, call: _Call, attempt: int, status: int | None,
                 correlation_id: str | None, outcome: str) -> None:
    logger.log(level, "codat %s %s attempt=%d status=%s correlationId=%s %s",
               call.method, call.template, attempt, status, correlation_id, outcome,
               extra={"codat_method": call.method, "codat_path": call.template,
                      "codat_status": status, "codat_correlation_id": correlation_id,
                      "codat_attempt": attempt})


def _log_failure(call: _Call, attempt: int, failure: _Failure, delay: float | None) -> None:
    error = failure.error
    correlation_id = error.correlation_id if isinstance(error, CodatApiError) else (
        error.error.correlation_id
        if isinstance(error, CodatOutcomeUnknown) and error.error else None)
    outcome = (f"{type(error).__name__}; retrying in {delay:.3f}s" if delay is not None
               else f"{type(error).__name__}; giving up")
    # A final 4xx is an answer, not an incident; giving up on 5xx/timeouts/refusals is one.
    final_answer = isinstance(error, CodatApiError) and not failure.retryable
    level = logging.INFO if delay is not None or final_answer else logging.WARNING
    _log_attempt(level, call, attempt, failure.status, correlation_id, outcome)


__all__ = ["DEFAULT_BASE_URL", "CodatClient"]
