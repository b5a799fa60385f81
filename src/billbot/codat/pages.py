"""Codat's continuation-token paging (the sync API's list endpoints)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import httpx

from .calls import _Call, _PagedT, _parse, _synthesized_error
from .errors import CodatApiError


async def token_pages(send: Callable[[_Call], Awaitable[httpx.Response]], template: str,
                      path: str, params: Mapping[str, str],
                      envelope: type[_PagedT]) -> AsyncIterator[_PagedT]:
    """Follow `pagination.continuationToken` until Codat leaves it out."""
    token: str | None = None
    seen: set[str] = set()
    while True:
        page_params = dict(params)
        if token is not None:
            page_params["continuationToken"] = token
        response = await send(_Call("GET", template, path, params=page_params))
        page = _parse(envelope, response)
        yield page
        token = page.next_token
        if not token:
            return
        if token in seen:  # a server bug would otherwise loop forever
            raise CodatApiError(response.status_code, _synthesized_error(
                response.status_code, f"continuation token repeated on {template}"))
        seen.add(token)
