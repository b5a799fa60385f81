"""One Codat API request and the response the sandbox produced, for contract validators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ExchangeRequest:
    method: str
    path: str  # raw, still percent-encoded
    query_string: str  # raw, without the "?"
    headers: tuple[tuple[str, str], ...]  # names lower-cased, as received
    body: bytes


@dataclass(frozen=True)
class ExchangeResponse:
    status: int
    headers: tuple[tuple[str, str], ...]  # names lower-cased
    body: bytes

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k == "content-type"), "")


@dataclass(frozen=True)
class Exchange:
    request: ExchangeRequest
    response: ExchangeResponse
    # False when a "lose the response" fault kept this response from the client.
    delivered: bool = True


ExchangeHook = Callable[[Exchange], None]
