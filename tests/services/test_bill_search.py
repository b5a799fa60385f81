"""services.bill_search against the Codat sandbox over HTTP: a reference, a Codat id or a
supplier's name finds bills in any status; values Codat cannot query find nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from billbot.codat.client import CodatClient
from billbot.services.bill_search import bills_by_id, find_bills, queryable
from tests.plugins.openapi_contract import CodatSandbox


@pytest.fixture
async def codat(codat_sandbox: CodatSandbox) -> AsyncIterator[CodatClient]:
    async with httpx.AsyncClient() as http:
        yield CodatClient(http, api_key=codat_sandbox.api_key, base_url=codat_sandbox.base_url)


def paid_and_open(sandbox: CodatSandbox) -> tuple[dict[str, object], dict[str, object]]:
    bills = list(sandbox.state.main_ledger.bills.values())
    paid = next(b for b in bills if b["status"] == "Paid" and b.get("reference"))
    still_open = next(b for b in bills if b["status"] == "Open" and b.get("reference"))
    return paid, still_open


async def test_a_reference_or_id_finds_the_bill_whatever_its_status(
        codat: CodatClient, codat_sandbox: CodatSandbox) -> None:
    ids = (codat_sandbox.company_id, codat_sandbox.connection_id)
    paid, still_open = paid_and_open(codat_sandbox)
    for bill in (paid, still_open):
        [by_reference] = await find_bills(codat, *ids, f"  {str(bill['reference']).lower()} ")
        assert by_reference.id == bill["id"]
        [by_id] = await find_bills(codat, *ids, str(bill["id"]))
        assert by_id.id == bill["id"]


async def test_a_supplier_name_lists_its_bills(codat: CodatClient,
                                               codat_sandbox: CodatSandbox) -> None:
    ids = (codat_sandbox.company_id, codat_sandbox.connection_id)
    paid, _ = paid_and_open(codat_sandbox)
    name = str(paid["supplierRef"]["supplierName"])  # type: ignore[index]
    found = await find_bills(codat, *ids, name.upper())
    expected = {b["id"] for b in codat_sandbox.state.main_ledger.bills.values()
                if name.lower() in str(b["supplierRef"].get("supplierName", "")).lower()}
    assert {b.id for b in found} == expected and paid["id"] in expected


async def test_values_codat_cannot_query_find_nothing(codat: CodatClient,
                                                      codat_sandbox: CodatSandbox) -> None:
    ids = (codat_sandbox.company_id, codat_sandbox.connection_id)
    for text in ("", "   ", "a&&b", "x||status=Paid", "{x}", "=INV", "NO-SUCH-REF"):
        assert await find_bills(codat, *ids, text) == []
    assert not queryable("a" * 600)


async def test_bills_by_id_reads_many_in_few_queries(codat: CodatClient,
                                                     codat_sandbox: CodatSandbox) -> None:
    ids = (codat_sandbox.company_id, codat_sandbox.connection_id)
    wanted = [str(b["id"]) for b in list(codat_sandbox.state.main_ledger.bills.values())[:60]]
    found = await bills_by_id(codat, *ids, [*wanted, "no-such-id", "bad&&id"])
    assert set(found) == set(wanted)
