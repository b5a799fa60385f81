"""Paging: continuation tokens on payables lists, page/pageSize on companies."""

from __future__ import annotations

import base64
import json

from billbot.sandbox.codat import SandboxState
from tests.sandbox.codat.conftest import Api


def test_bills_page_by_continuation_token_until_it_disappears(api: Api,
                                                               state: SandboxState) -> None:
    state.page_size = 7
    open_ids = [b["id"] for b in state.main_ledger.bills.values()
                if b["status"] in ("Open", "PartiallyPaid")]
    pages: list[list[dict[str, object]]] = []
    params: dict[str, str] = {}
    while True:
        body = api.bills(**params).json()
        pages.append(body["results"])
        token = body["pagination"].get("continuationToken")
        if token is None:
            assert body["pagination"] == {}  # (D) not present once no more results exist
            break
        params = {"continuationToken": token}
    assert [len(p) for p in pages[:-1]] == [7] * (len(pages) - 1)
    assert [b["id"] for page in pages for b in page] == open_ids


def test_token_looks_like_codats_example(api: Api, state: SandboxState) -> None:
    state.page_size = 10
    token = api.bills().json()["pagination"]["continuationToken"]
    decoded = json.loads(base64.b64decode(token))
    assert decoded["page"] == 2 and decoded["pageSize"] == 10 and decoded["pageCount"] >= 2


def test_a_query_is_resent_with_the_token(api: Api, state: SandboxState) -> None:
    state.page_size = 3
    gbp = api.all_bills("currency=GBP")
    assert len(gbp) > 3 and {b["currency"] for b in gbp} == {"GBP"}


def test_a_foreign_token_is_a_400(api: Api) -> None:
    response = api.bills(continuationToken="not-a-token")
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


def test_mapping_options_page_too(api: Api, state: SandboxState) -> None:
    state.page_size = 2
    seen: list[dict[str, object]] = []
    params: dict[str, str] = {}
    while True:
        body = api.client.get(f"{api.payables}/mappingOptions/payments", params=params).json()
        seen += body["bankAccounts"]
        if "continuationToken" not in body["pagination"]:
            break
        params = {"continuationToken": body["pagination"]["continuationToken"]}
    assert len(seen) == 4  # active accounts only by default
    assert all(a["status"] == "Active" for a in seen)
    everything = api.client.get(f"{api.payables}/mappingOptions/payments",
                                params={"statusQuery": "status=Active||status=Archived"})
    assert everything.json()["pagination"]["continuationToken"]


def test_companies_page_by_number_with_links(api: Api) -> None:
    first = api.client.get("/companies", params={"page": 1, "pageSize": 2}).json()
    assert (first["pageNumber"], first["pageSize"], first["totalResults"]) == (1, 2, 3)
    assert len(first["results"]) == 2 and "next" in first["_links"]
    second = api.client.get("/companies", params={"page": 2, "pageSize": 2}).json()
    assert len(second["results"]) == 1 and "previous" in second["_links"]
    assert "next" not in second["_links"]
    assert api.client.get("/companies", params={"pageSize": 0}).status_code == 400
    assert api.client.get("/companies", params={"pageSize": 5001}).status_code == 400
    named = api.client.get("/companies", params={"query": "name~globex"}).json()
    assert [c["name"] for c in named["results"]] == ["Globex Corporation"]
