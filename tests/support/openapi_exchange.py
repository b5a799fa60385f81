"""One HTTP request/response pair as it crossed the wire, and the openapi-core view of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers

# --------------------------------------------------------------------------- the exchange


HeaderInput = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _header_pairs(headers: HeaderInput) -> tuple[tuple[str, str], ...]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((_text(name), _text(value)) for name, value in items)


@dataclass(frozen=True)
class HttpExchange:
    """One request and its response, as bytes on the wire.

    `path` is the raw (still percent-encoded) path, so an id holding `%2F` stays one
    segment; `query_string` is the raw query without the `?`.
    """

    method: str
    path: str
    query_string: str = ""
    request_headers: tuple[tuple[str, str], ...] = ()
    request_body: bytes = b""
    status: int = 200
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes = b""

    @classmethod
    def build(cls, method: str, path: str, *, query_string: str | bytes = "",
              request_headers: HeaderInput = (), request_body: bytes = b"",
              status: int = 200, response_headers: HeaderInput = (),
              response_body: bytes = b"") -> HttpExchange:
        return cls(method=method.upper(), path=path, query_string=_text(query_string),
                   request_headers=_header_pairs(request_headers), request_body=request_body,
                   status=status, response_headers=_header_pairs(response_headers),
                   response_body=response_body)

    @property
    def label(self) -> str:
        query = f"?{self.query_string}" if self.query_string else ""
        return f"{self.method} {self.path}{query}"


class _RecordedRequest(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query_string(self) -> str: ...
    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def body(self) -> bytes: ...


class _RecordedResponse(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def body(self) -> bytes: ...


class SandboxExchange(Protocol):
    """The shape of billbot.sandbox.codat.exchange.Exchange (matched by shape, not import)."""

    @property
    def request(self) -> _RecordedRequest: ...
    @property
    def response(self) -> _RecordedResponse: ...


def as_http_exchange(exchange: HttpExchange | SandboxExchange) -> HttpExchange:
    """Accept an HttpExchange or the sandbox's own exchange record."""
    if isinstance(exchange, HttpExchange):
        return exchange
    request, response = exchange.request, exchange.response
    return HttpExchange.build(
        request.method, request.path, query_string=request.query_string,
        request_headers=request.headers, request_body=request.body, status=response.status,
        response_headers=response.headers, response_body=response.body)


# ------------------------------------------------------------------------ the openapi-core view


@dataclass
class _OpenApiRequest:
    """openapi_core.protocols.Request over an HttpExchange (host is the spec's server)."""

    host_url: str
    path: str
    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters


@dataclass
class _OpenApiResponse:
    """openapi_core.protocols.Response over an HttpExchange."""

    status_code: int
    headers: Headers
    data: bytes | None
    content_type: str


def _content_type(headers: Headers) -> str:
    # openapi-core matches the media type case-insensitively but parses the multipart
    # boundary from this string, so the parameters keep their case.
    return headers.get("Content-Type") or "application/octet-stream"
