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

import httpx

from . import paths
from .calls import (
    _ATTACHMENT_LIST,
    _BillOptionsPage,
    _Budget,
    _Call,
    _classify_response,
    _classify_transport_error,
    _correlation_id,
    _counted,
    _idempotency_key,
    _json_body,
    _log_attempt,
    _log_failure,
    _page_params,
    _PagedT,
    _parse,
    _parse_adapter,
    _path,
    _PaymentOptionsPage,
    _raise_final,
    _ResultsPage,
    _segment,
)
from .errors import (
    CodatConflict,
    CodatNotFound,
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
from .pacing import CodatPace
from .pages import token_pages
from .rate_limits import RateLimits
from .retry import RetryPolicy

logger = logging.getLogger("billbot.codat")

DEFAULT_BASE_URL = "https://api.codat.io"

# Path templates double as the names logged for each call (ids never reach the log line).
# Characters of Codat's query language that a bare `id=<value>` cannot carry safely.
_QUERY_OPERATORS = ("&&", "||", "{", "}")


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
        rate_limits: where every response's `X-Rate-Limit-*` headers go (shared by clones).
        pace: the per-minute bucket each attempt takes a slot in first (shared by clones);
            None sends at once.
    """

    def __init__(self, http: httpx.AsyncClient, *, api_key: str,
                 base_url: str = DEFAULT_BASE_URL, timeout: httpx.Timeout | float = 15.0,
                 retry: RetryPolicy | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 monotonic: Callable[[], float] = time.monotonic,
                 rate_limits: RateLimits | None = None, pace: CodatPace | None = None) -> None:
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
        self.rate_limits = rate_limits or RateLimits()
        self.pace = pace

    def __repr__(self) -> str:  # never shows the key
        return f"CodatClient(base_url={self._base_url!r})"

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry

    def with_retry(self, retry: RetryPolicy) -> CodatClient:
        """The same HTTP client, key and base URL under another retry policy."""
        return self.with_limits(timeout=self._timeout, retry=retry)

    def with_limits(self, *, timeout: httpx.Timeout | float, retry: RetryPolicy) -> CodatClient:
        """The same HTTP client, key, base URL and allowance under another timeout and retry."""
        return CodatClient(self._http, api_key=self._api_key, base_url=self._base_url,
                           timeout=timeout, retry=retry, sleep=self._sleep,
                           monotonic=self._monotonic, rate_limits=self.rate_limits,
                           pace=self.pace)

    # --- companies and connections -----------------------------------------------------------

    async def list_companies(self, *, page: int = 1, page_size: int = 100,
                             query: str | None = None) -> Page[Company]:
        params = _page_params(page, page_size, query)
        response = await self._send(_Call("GET", paths.COMPANIES, paths.COMPANIES, params=params))
        return _parse(Page[Company], response)

    async def get_company(self, company_id: str) -> Company:
        response = await self._get(paths.COMPANY, companyId=company_id)
        return _parse(Company, response)

    async def create_company(self, name: str, *, description: str | None = None) -> Company:
        body: dict[str, str] = {"name": name}
        if description is not None:
            body["description"] = description
        response = await self._send(_Call("POST", paths.COMPANIES, paths.COMPANIES,
                                          json_body=json.dumps(body).encode()))
        return _parse(Company, response, write=True)

    async def list_connections(self, company_id: str, *, page: int = 1, page_size: int = 100,
                               query: str | None = None) -> Page[Connection]:
        path = _path(paths.CONNECTIONS, companyId=company_id)
        params = _page_params(page, page_size, query)
        response = await self._send(_Call("GET", paths.CONNECTIONS, path, params=params))
        return _parse(Page[Connection], response)

    async def get_connection(self, company_id: str, connection_id: str) -> Connection:
        response = await self._get(paths.CONNECTION, companyId=company_id, connectionId=connection_id)
        return _parse(Connection, response)

    async def create_connection(self, company_id: str, platform_key: str) -> Connection:
        path = _path(paths.CONNECTIONS, companyId=company_id)
        body = json.dumps({"platformKey": platform_key}).encode()
        response = await self._send(_Call("POST", paths.CONNECTIONS, path, json_body=body))
        return _parse(Connection, response, write=True)

    # --- company information and mapping options ---------------------------------------------

    async def get_company_info(self, company_id: str, connection_id: str) -> CompanyInfo:
        response = await self._get(paths.INFO, companyId=company_id, connectionId=connection_id)
        return _parse(CompanyInfo, response)

    async def get_bill_mapping_options(self, company_id: str,
                                       connection_id: str) -> BillMappingOptions:
        """Accounts and tax rates, every continuation page merged into one answer."""
        accounts: list[AccountOption] = []
        tax_rates: list[TaxRateOption] = []
        path = _path(paths.BILL_OPTIONS, companyId=company_id, connectionId=connection_id)
        async for page in self._token_pages(paths.BILL_OPTIONS, path, {}, _BillOptionsPage):
            accounts.extend(page.accounts)
            tax_rates.extend(page.tax_rates)
        return BillMappingOptions.model_validate({"accounts": accounts, "taxRates": tax_rates})

    async def get_payment_mapping_options(self, company_id: str, connection_id: str, *,
                                          status_query: str | None = None
                                          ) -> PaymentMappingOptions:
        """Payment accounts (bank and credit), every continuation page merged."""
        accounts: list[BankAccountOption] = []
        path = _path(paths.PAYMENT_OPTIONS, companyId=company_id, connectionId=connection_id)
        params = {"statusQuery": status_query} if status_query is not None else {}
        async for page in self._token_pages(paths.PAYMENT_OPTIONS, path, params,
                                            _PaymentOptionsPage):
            accounts.extend(page.bank_accounts)
        return PaymentMappingOptions.model_validate({"bankAccounts": accounts})

    # --- bills ---------------------------------------------------------------------------------

    async def iter_bills(self, company_id: str, connection_id: str, *,
                         query: str | None = None) -> AsyncIterator[Bill]:
        """Bills page by page. With no query Codat returns only Open and PartiallyPaid ones."""
        path = _path(paths.BILLS, companyId=company_id, connectionId=connection_id)
        params = {"query": query} if query is not None else {}
        async for page in self._token_pages(paths.BILLS, path, params, _ResultsPage[Bill]):
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
        path = _path(paths.BILLS, companyId=company_id, connectionId=connection_id)
        call = _Call("POST", paths.BILLS, path, json_body=_json_body(bill),
                     idempotency_key=_idempotency_key(idempotency_key))
        return _parse(Bill, await self._send(call), write=True)

    async def update_bill(self, company_id: str, connection_id: str, bill_id: str,
                          bill: BillPrototype, *, idempotency_key: str) -> Bill:
        path = _path(paths.BILL, companyId=company_id, connectionId=connection_id, billId=bill_id)
        call = _Call("PUT", paths.BILL, path, json_body=_json_body(bill),
                     idempotency_key=_idempotency_key(idempotency_key))
        return _parse(Bill, await self._send(call), write=True)

    # --- attachments -----------------------------------------------------------------------

    async def upload_attachment(self, company_id: str, connection_id: str, bill_id: str, *,
                                filename: str, content: bytes, content_type: str) -> Attachment:
        """Multipart upload (part `file`). Codat takes no Idempotency-Key here: never retried."""
        path = _path(paths.ATTACHMENTS, companyId=company_id, connectionId=connection_id,
                     billId=bill_id)
        call = _Call("POST", paths.ATTACHMENTS, path,
                     files={"file": (filename, content, content_type)})
        return _parse(Attachment, await self._send(call), write=True)

    async def list_attachments(self, company_id: str, connection_id: str,
                               bill_id: str) -> list[Attachment]:
        response = await self._get(paths.ATTACHMENTS, companyId=company_id,
                                   connectionId=connection_id, billId=bill_id)
        return _parse_adapter(_ATTACHMENT_LIST, response)

    async def download_attachment(self, company_id: str, connection_id: str, bill_id: str,
                                  attachment_id: str) -> bytes:
        path = _path(paths.ATTACHMENT_DOWNLOAD, companyId=company_id, connectionId=connection_id,
                     billId=bill_id, attachmentId=attachment_id)
        # The file comes as application/octet-stream; errors still come as JSON.
        call = _Call("GET", paths.ATTACHMENT_DOWNLOAD, path, accept="*/*")
        return (await self._send(call)).content

    # --- payments ------------------------------------------------------------------------------

    async def create_bill_payment(self, company_id: str, connection_id: str, bill_id: str,
                                  payment: BillPaymentPrototype, *,
                                  idempotency_key: str) -> BillPayment:
        """Pay one bill. Retry a CodatOutcomeUnknown only with the SAME idempotency_key."""
        path = _path(paths.BILL_PAYMENT, companyId=company_id, connectionId=connection_id,
                     billId=bill_id)
        call = _Call("POST", paths.BILL_PAYMENT, path, json_body=_json_body(payment),
                     idempotency_key=_idempotency_key(idempotency_key))
        return _parse(BillPayment, await self._send(call), write=True)

    # --- suppliers and bank accounts -----------------------------------------------------------

    async def iter_suppliers(self, company_id: str, connection_id: str, *,
                             query: str | None = None) -> AsyncIterator[Supplier]:
        path = _path(paths.SUPPLIERS, companyId=company_id, connectionId=connection_id)
        params = {"query": query} if query is not None else {}
        async for page in self._token_pages(paths.SUPPLIERS, path, params, _ResultsPage[Supplier]):
            for supplier in page.results:
                yield supplier

    async def list_suppliers(self, company_id: str, connection_id: str, *,
                             query: str | None = None) -> list[Supplier]:
        return [s async for s in self.iter_suppliers(company_id, connection_id, query=query)]

    async def create_supplier(self, company_id: str, connection_id: str,
                              supplier: SupplierPrototype, *,
                              idempotency_key: str | None = None) -> Supplier:
        path = _path(paths.SUPPLIERS, companyId=company_id, connectionId=connection_id)
        key = _idempotency_key(idempotency_key) if idempotency_key is not None else None
        call = _Call("POST", paths.SUPPLIERS, path, json_body=_json_body(supplier),
                     idempotency_key=key)
        return _parse(Supplier, await self._send(call), write=True)

    async def update_supplier(self, company_id: str, connection_id: str, supplier_id: str,
                              supplier: SupplierPrototype) -> Supplier:
        """Full replace: fields left out are cleared. No Idempotency-Key: never retried."""
        path = _path(paths.SUPPLIER, companyId=company_id, connectionId=connection_id,
                     supplierId=supplier_id)
        call = _Call("PUT", paths.SUPPLIER, path, json_body=_json_body(supplier))
        return _parse(Supplier, await self._send(call), write=True)

    async def create_bank_account(self, company_id: str, connection_id: str,
                                  account: BankAccountPrototype, *,
                                  idempotency_key: str | None = None) -> BankAccount:
        path = _path(paths.BANK_ACCOUNTS, companyId=company_id, connectionId=connection_id)
        key = _idempotency_key(idempotency_key) if idempotency_key is not None else None
        call = _Call("POST", paths.BANK_ACCOUNTS, path, json_body=_json_body(account),
                     idempotency_key=key)
        return _parse(BankAccount, await self._send(call), write=True)

    # --- plumbing ------------------------------------------------------------------------------

    async def send_call(self, call: _Call) -> httpx.Response:
        """One request through this client's retry loop and error classification (the async
        Bill Pay client, `billbot.codat.async_api`, shares them)."""
        return await self._send(call)

    async def _get(self, template: str, **ids: str) -> httpx.Response:
        return await self._send(_Call("GET", template, _path(template, **ids)))

    def _token_pages(self, template: str, path: str, params: Mapping[str, str],
                     envelope: type[_PagedT]) -> AsyncIterator[_PagedT]:
        return token_pages(self._send, template, path, params, envelope)

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
            return _counted(call, self._http.request(
                call.method, url, params=call.params, content=call.json_body, files=call.files,
                headers=headers, timeout=self._timeout))

        while True:
            attempt += 1
            if self.pace is not None:
                await self.pace.turn()  # not counted in the budget: no attempt was made
            try:
                response = await budget.attempt(send)
            except httpx.TransportError as exc:
                failure = _classify_transport_error(call, exc)
                failure.error.__cause__ = exc
            else:
                self.rate_limits.observe(response.headers)
                if response.is_success:
                    _log_attempt(logging.DEBUG, call, attempt, response.status_code,
                                 _correlation_id(response), "ok")
                    return response
                failure = _classify_response(call, response, budget.conflicts, self._retry)
            tainted = tainted or failure.outcome_unknown
            delay = budget.next_delay(failure, attempt) if failure.retryable else None
            _log_failure(call, attempt, failure, delay)
            if delay is None:
                _raise_final(failure, tainted)
            if failure.status == 429 and self.pace is not None:
                # The deployment's other background calls wait it out too.
                await self.pace.hold(failure.retry_after if failure.retry_after is not None
                                     else delay)
            if isinstance(failure.error, CodatConflict):
                budget.conflicts += 1
            budget.retries += 1
            budget.used += delay
            await self._sleep(delay)


__all__ = ["DEFAULT_BASE_URL", "CodatClient"]
