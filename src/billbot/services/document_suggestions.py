"""Suggestions for Create bill from the file the person picked: the company's suppliers read
from Codat, the document read by `domain/bill_suggestions.py`. The form shows the result
marked "suggested from the document — check"; nothing is submitted from it unconfirmed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Protocol

from billbot.codat.errors import CodatError
from billbot.codat.models import Supplier
from billbot.domain.bill_suggestions import BillSuggestions, suggest_bill

# Enough for any company's supplier list as a form would search it; past it, matching stops
# rather than holding the person's modal open.
MAX_SUPPLIERS = 5000

_log = logging.getLogger(__name__)


class SupplierSource(Protocol):
    def iter_suppliers(self, company_id: str, connection_id: str, *,
                       query: str | None = None) -> AsyncIterator[Supplier]: ...


async def supplier_names(codat: SupplierSource, company_id: str,
                         connection_id: str) -> dict[str, str]:
    """Active suppliers' ids and names; an empty map when Codat cannot be read (the other
    suggestions still stand)."""
    names: dict[str, str] = {}
    try:
        async for supplier in codat.iter_suppliers(company_id, connection_id):
            if supplier.status.value == "Active":
                names[supplier.id] = supplier.supplier_name
            if len(names) >= MAX_SUPPLIERS:
                break
    except CodatError as exc:
        _log.info("suppliers unreadable for suggestions: %s", type(exc).__name__)
        return {}
    return names


async def suggest_for_file(codat: SupplierSource, *, company_id: str, connection_id: str,
                           document: bytes, media_type: str) -> BillSuggestions:
    """What the file suggests for the new bill (see domain/bill_suggestions.py)."""
    names = await supplier_names(codat, company_id, connection_id) if document else {}
    return suggest_bill(document, media_type, names)
