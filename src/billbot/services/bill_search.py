"""Finding bills by what people know of them: a reference, a supplier's name or a Codat bill id,
in any status (paid and void too: with a query Codat filters on it alone, not on Open and
PartiallyPaid as it does by default). One query to Codat; an exact reference or id wins over
supplier names that merely contain the text."""

from __future__ import annotations

from collections.abc import Iterable

from billbot.codat.backend import CodatBackend
from billbot.codat.models import Bill

# Values Codat's query language cannot carry (no escaping is documented), and the first
# characters it would read as an operator.
_OPERATORS = ("&&", "||", "{", "}")
_OPERATOR_STARTS = tuple("=!<>~")
# Bills read per search at most, and how many matches are listed.
_SCAN = 200
MAX_LISTED = 10
# Codat refuses queries of 2048 characters and more.
_QUERY_BUDGET = 1800


def queryable(value: str) -> bool:
    """True when `value` can stand as a bare value in Codat's query language."""
    return (bool(value) and len(value) < 500 and not value.startswith(_OPERATOR_STARTS)
            and not any(op in value for op in _OPERATORS))


async def find_bills(codat: CodatBackend, company_id: str, connection_id: str,
                     text: str) -> list[Bill]:
    """The bills whose reference or id is `text` (case-insensitive) or, when none is, whose
    supplier's name contains it; [] when nothing matches or `text` cannot be queried."""
    wanted = " ".join(text.split())
    if not queryable(wanted):
        return []
    folded = wanted.casefold()
    exact: list[Bill] = []
    by_supplier: list[Bill] = []
    query = f"reference={wanted}||id={wanted}||supplierRef.supplierName~{wanted}"
    async for bill in codat.iter_bills(company_id, connection_id, query=query):
        if bill.id == wanted or (bill.reference or "").strip().casefold() == folded:
            exact.append(bill)
        else:
            by_supplier.append(bill)
        if len(exact) + len(by_supplier) >= _SCAN:
            break
    return exact or by_supplier


async def bills_by_id(codat: CodatBackend, company_id: str, connection_id: str,
                      bill_ids: Iterable[str]) -> dict[str, Bill]:
    """The bills with these ids, in any status, a few queries of `id=a||id=b…` at most."""
    found: dict[str, Bill] = {}
    batch: list[str] = []

    async def read(ids: list[str]) -> None:
        wanted = set(ids)
        query = "||".join(f"id={i}" for i in ids)
        async for bill in codat.iter_bills(company_id, connection_id, query=query):
            if bill.id in wanted:
                found[bill.id] = bill

    for bill_id in dict.fromkeys(bill_ids):
        if not queryable(bill_id) or bill_id != bill_id.strip():
            continue
        if batch and sum(len(i) + 5 for i in batch) + len(bill_id) > _QUERY_BUDGET:
            await read(batch)
            batch = []
        batch.append(bill_id)
    if batch:
        await read(batch)
    return found


__all__ = ["MAX_LISTED", "bills_by_id", "find_bills", "queryable"]
