"""The router sends each company's calls through the API its binding names."""

from __future__ import annotations

import httpx

from billbot.codat import CodatClient
from billbot.codat.async_api import AsyncBillPayClient
from billbot.codat.router import CodatRouter

from . import samples
from .conftest import API_KEY, BASE_URL, COMPANY, Script, json_response


def _page(results: list[object]) -> httpx.Response:
    return json_response(200, {"results": results, "pageNumber": 1, "pageSize": 500,
                               "totalResults": len(results),
                               "_links": {"self": {"href": "/"}, "current": {"href": "/"}}})


async def test_calls_follow_the_binding_and_the_answer_is_remembered_briefly() -> None:
    script = Script(json_response(200, {"results": [samples.bill()], "pagination": {}}),
                    _page([samples.bill()]), _page([]))
    asked: list[tuple[str, str]] = []
    apis = {"sync": "sync", "other": "async"}
    now = [0.0]

    async def api_of(company: str, connection: str) -> str:
        asked.append((company, connection))
        return apis[connection]

    async with httpx.AsyncClient(transport=httpx.MockTransport(script)) as http:
        sync = CodatClient(http, api_key=API_KEY, base_url=BASE_URL)
        router = CodatRouter(sync, AsyncBillPayClient(sync), api_of, remember_for=10,
                             monotonic=lambda: now[0])
        await router.list_bills(COMPANY, "sync")
        await router.list_bills(COMPANY, "other")
        now[0] = 5.0
        await router.list_bills(COMPANY, "other")  # remembered: not asked again
    paths = [r.url.path for r in script.requests]
    assert paths == [f"/companies/{COMPANY}/connections/sync/payables/bills",
                     f"/companies/{COMPANY}/data/bills", f"/companies/{COMPANY}/data/bills"]
    assert script.requests[1].url.params["query"] == "status=Open||status=PartiallyPaid"
    assert asked == [(COMPANY, "sync"), (COMPANY, "other")]
