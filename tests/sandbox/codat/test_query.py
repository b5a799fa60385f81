"""Codat's query language on bills: operators, grouping, dotted properties, and 400s."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billbot.sandbox.codat.errors import ApiError
from billbot.sandbox.codat.query import BILL_FIELDS, compile_query
from tests.sandbox.codat.conftest import Api

BILL: dict[str, Any] = {
    "id": "7110700004", "reference": "INV-00004",
    "supplierRef": {"id": "4105", "supplierName": "Harbour Cleaning Services"},
    "issueDate": "2024-12-09T00:00:00", "dueDate": "2025-01-08T00:00:00", "currency": "GBP",
    "currencyRate": Decimal(1), "status": "Open", "totalAmount": Decimal("480.00"),
    "amountDue": None, "sourceModifiedDate": "2024-12-10T09:00:00Z",
}


def matches(query: str) -> bool:
    return compile_query(query, BILL_FIELDS, "Bill")(BILL)


@pytest.mark.parametrize("query", [
    "status=Open", "status=open", "status!=Paid", "supplierRef.id=4105",
    "supplierRef.supplierName~cleaning", "id=7110700004", "totalAmount>100",
    "totalAmount>=480", "totalAmount<=480.00", "totalAmount!=1", "dueDate=2025-01-08",
    "dueDate<2025-01-09T00:00:00", "dueDate>=2025-01-08T00:00:00Z",
    "sourceModifiedDate>2024-12-10T08:59:59Z", "status=Paid||currency=GBP",
    "{totalAmount > 100 || totalAmount < 50} && status != paid",
    "{ {status=Open} && {currency=GBP||currency=USD} }",
])
def test_queries_that_match(query: str) -> None:
    assert matches(query)


@pytest.mark.parametrize("query", [
    "status=Paid", "supplierRef.id=41", "totalAmount>480", "dueDate>2025-01-08",
    "status=Open&&currency=USD", "reference~XYZ",
    "amountDue>0", "amountDue=0",  # (D) nulls cannot be queried: never a match
])
def test_queries_that_do_not_match(query: str) -> None:
    assert not matches(query)


@pytest.mark.parametrize("query", [
    "", "status", "status=", "=Open", "status==Open", "{status=Open", "status=Open}",
    "status=Open&&", "status=Open||", "noSuchField=1", "lineItems=1", "supplierRef.nope=1",
    "totalAmount~4", "status>Open", "totalAmount>abc", "dueDate>soon", "x" * 2048,
])
def test_malformed_queries_are_rejected(query: str) -> None:
    with pytest.raises(ApiError) as raised:
        compile_query(query, BILL_FIELDS, "Bill")
    assert raised.value.status == 400
    assert raised.value.error.startswith("Error parsing query - ")


def test_list_bills_applies_a_url_encoded_query(api: Api) -> None:
    usd = api.all_bills("currency=USD&&{status=Open||status=PartiallyPaid}")
    assert usd and {b["currency"] for b in usd} == {"USD"}
    by_supplier = api.all_bills("supplierRef.id=4105")
    assert {b["supplierRef"]["id"] for b in by_supplier} == {"4105"}
    assert "status%3D" in str(api.bills(query="status=Paid").request.url)


def test_without_a_query_only_open_and_partially_paid_bills_are_listed(api: Api) -> None:
    statuses = {b["status"] for b in api.all_bills()}
    assert statuses == {"Open", "PartiallyPaid"}
    assert {"Paid", "Void", "Draft"} <= {b["status"] for b in api.all_bills("id!=0")}


def test_malformed_query_over_http_is_a_400_error_message(api: Api) -> None:
    response = api.bills(query="status=Open&&{currency=GBP")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Error parsing query - Malformed query."
    assert body["correlationId"] and body["canBeRetried"] == "Unknown"
    unresolved = api.bills(query="colour=red").json()
    assert unresolved["error"] == "Error parsing query - Could not resolve property colour on Bill"
