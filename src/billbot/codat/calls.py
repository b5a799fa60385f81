"""One Codat request as the client's retry loop sees it: the call, how a failure is classified
(never sent, outcome unknown, answered), the retry budget, the private response envelopes, and
parsing and logging. Package-private: only `codat/client.py` uses these."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, NoReturn, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from billbot import metrics

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
    BankAccountOption,
    CodatModel,
    ErrorMessage,
    TaxRateOption,
)
from .retry import RetryPolicy, parse_http_date, parse_retry_after

logger = logging.getLogger("billbot.codat")


# Errors raised before a single byte of the request was written.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)

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


async def _counted(call: _Call, sending: Awaitable[httpx.Response]) -> httpx.Response:
    """One attempt, counted in billbot_codat_calls_total by operation and outcome."""
    operation = f"{call.method} {call.template}"
    try:
        response = await sending
    except httpx.TransportError:
        metrics.codat_call(operation, "transport_error")
        raise
    status = response.status_code
    metrics.codat_call(operation, "ok" if response.is_success else "rate_limited" if status == 429
                       else "server_error" if status >= 500 else "client_error")
    return response


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

def _raise_final(failure: _Failure, tainted: bool) -> NoReturn:
    """The call's error; once a write was tainted, only "outcome unknown" is honest."""
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

