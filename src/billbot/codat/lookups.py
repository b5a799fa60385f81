"""Reads the sync Bill Pay API has no endpoint for, made from the list endpoints' `query`."""

from __future__ import annotations

from billbot.codat.backend import CodatBackend
from billbot.codat.models import Supplier

# Codat's query language joins conditions with these and groups with braces: an id holding
# one cannot be asked for by `id=`.
_OPERATORS = ("&&", "||", "{", "}")


async def get_supplier(client: CodatBackend, company_id: str, connection_id: str,
                       supplier_id: str) -> Supplier | None:
    """The supplier with this id (active or archived), or None when the books have none."""
    if not supplier_id or any(op in supplier_id for op in _OPERATORS):
        return None
    async for supplier in client.iter_suppliers(company_id, connection_id,
                                                query=f"id={supplier_id}"):
        if supplier.id == supplier_id:
            return supplier
    return None
