"""The two paging styles of the API.

Payables lists page by an opaque `continuationToken`, present only while more results
remain (D). The spec's example token is base64 of `{"page":2,"pageSize":100,"pageCount":11}`,
so the sandbox makes its tokens the same way (I). Companies and connections page by
`page`/`pageSize` with HAL `_links` (D).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from billbot.sandbox.codat.errors import ApiError

T = TypeVar("T")

MAX_PAGE_SIZE = 5000  # docs (`using-the-api/paging.md`); the PagingInfo schema says 2000


def encode_token(page: int, page_size: int, page_count: int) -> str:
    raw = json.dumps({"page": page, "pageSize": page_size, "pageCount": page_count},
                     separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_token(token: str) -> int:
    """The 1-based page a token points at; 400 when it is not one of ours."""
    try:
        payload = json.loads(base64.b64decode(token, validate=True))
        page = payload["page"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ApiError(400, "Error processing request - invalid continuation token.") from None
    if not isinstance(page, int) or page < 1:
        raise ApiError(400, "Error processing request - invalid continuation token.")
    return page


@dataclass(frozen=True)
class TokenPage:
    start: int
    stop: int
    next_token: str | None

    def pagination(self) -> dict[str, Any]:
        # (D) the token is "not present" once no more results exist
        return {"continuationToken": self.next_token} if self.next_token else {}


def token_page(total: int, page_size: int, token: str | None) -> TokenPage:
    page = decode_token(token) if token else 1
    page_count = max(1, -(-total // page_size))
    start = (page - 1) * page_size
    stop = min(start + page_size, total)
    next_token = encode_token(page + 1, page_size, page_count) if stop < total else None
    return TokenPage(start=min(start, total), stop=stop, next_token=next_token)


def parse_page_params(page_text: str | None, size_text: str | None) -> tuple[int, int]:
    try:
        page = int(page_text) if page_text is not None else 1
        size = int(size_text) if size_text is not None else 100
    except ValueError:
        raise ApiError(400, "Error processing request - page and pageSize must be integers.") \
            from None
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise ApiError(400, f"Error processing request - page must be >= 1 and pageSize "
                            f"between 1 and {MAX_PAGE_SIZE}.")
    return page, size


def numbered_page(items: Sequence[T], page: int, size: int, path: str,
                  extra: dict[str, str]) -> dict[str, Any]:
    """A `Companies`/`Connections` envelope (PagingInfo with `_links`)."""
    start = (page - 1) * size
    results = list(items[start:start + size])

    def href(number: int) -> dict[str, str]:
        return {"href": f"{path}?{urlencode({**extra, 'page': number, 'pageSize': size})}"}

    links: dict[str, Any] = {"self": {"href": path}, "current": href(page)}
    if start + size < len(items):
        links["next"] = href(page + 1)
    if page > 1:
        links["previous"] = href(page - 1)
    return {"results": results, "pageNumber": page, "pageSize": size,
            "totalResults": len(items), "_links": links}
