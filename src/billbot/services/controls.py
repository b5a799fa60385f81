"""The controls of a bill, computed from the supplier's bills in the books (Codat, paged, read
once per supplier per request) and the payments billbot recorded; the rules themselves are
pure (domain/bill_controls.py).

A supplier history that cannot be read is not taken as clean: the bill then carries a
duplicate control saying so, which Pay asks to confirm like any possible duplicate.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from billbot.codat.errors import CodatError
from billbot.codat.models import Bill
from billbot.domain.bill_controls import Control, ControlKind, controls_for
from billbot.storage.control_tables import BillControl
from billbot.storage.db import session_scope
from billbot.storage.tables import BillTrack, PaymentIntent
from billbot.storage.upsert import insert_if_absent

logger = logging.getLogger("billbot.controls")

_QUERY_OPERATORS = ("&&", "||", "{", "}", "(", ")")
UNCHECKED = Control(
    ControlKind.DUPLICATE, "Not checked for duplicates",
    "The supplier's other bills could not be read from the books, so this bill was not "
    "checked for duplicates. Check it is not a bill already paid before paying.")


class BillLister(Protocol):
    """What the controls need of a Codat client (the sync client or the router)."""

    async def list_bills(self, company_id: str, connection_id: str, *,
                         query: str | None = None) -> list[Bill]: ...


@dataclass
class HistoryCache:
    """One request's supplier histories: a digest or a pay run reads each supplier once."""

    bills: dict[tuple[str, str, str], list[Bill] | None] = field(default_factory=dict)
    paid: dict[tuple[str, str, str], bool] = field(default_factory=dict)  # by billbot
    locks: dict[tuple[str, str, str], asyncio.Lock] = field(default_factory=dict)


async def supplier_bills(codat: BillLister, company_id: str, connection_id: str,
                         supplier_id: str, *, cache: HistoryCache | None = None
                         ) -> list[Bill] | None:
    """Every bill of the supplier in the books (all statuses, page by page); None when Codat
    did not answer or the id cannot be put in a query."""
    cache = cache if cache is not None else HistoryCache()
    key = (company_id, connection_id, supplier_id)
    lock = cache.locks.setdefault(key, asyncio.Lock())
    async with lock:
        if key in cache.bills:
            return cache.bills[key]
        found: list[Bill] | None = None
        if supplier_id and not any(op in supplier_id for op in _QUERY_OPERATORS):
            try:
                found = await codat.list_bills(company_id, connection_id,
                                               query=f"supplierRef.id={supplier_id}")
            except CodatError as exc:
                logger.warning("the supplier's bills could not be read: %s", exc)
        cache.bills[key] = found
        return found


def billbot_paid_any(session: Session, *, company_id: str, connection_id: str,
                     bill_ids: Iterable[str]) -> bool:
    """Whether billbot recorded a payment of any of these bills."""
    ids = list(set(bill_ids))
    if not ids:
        return False
    row = session.exec(
        select(PaymentIntent.id).join(BillTrack, col(BillTrack.id) == col(
            PaymentIntent.bill_track_id))
        .where(col(BillTrack.company_id) == company_id,
               col(BillTrack.connection_id) == connection_id,
               col(BillTrack.bill_id).in_(ids), col(PaymentIntent.state) == "succeeded",
               col(PaymentIntent.undone_at).is_(None))
        .limit(1)).first()
    return row is not None


async def controls_of(codat: BillLister, engine: Engine, *, company_id: str,
                      connection_id: str, bill: Bill, today: date,
                      cache: HistoryCache | None = None) -> list[Control]:
    """Every control the bill meets now."""
    cache = cache if cache is not None else HistoryCache()
    history = await supplier_bills(codat, company_id, connection_id, bill.supplier_ref.id,
                                   cache=cache)
    if history is None:
        return [UNCHECKED]
    ids = [b.id for b in history] + [bill.id]

    def paid() -> bool:
        with session_scope(engine, read_only=True) as session:
            return billbot_paid_any(session, company_id=company_id,
                                    connection_id=connection_id, bill_ids=ids)

    key = (company_id, connection_id, bill.supplier_ref.id)
    if key not in cache.paid:
        cache.paid[key] = await asyncio.to_thread(paid)
    return controls_for(bill, history, today=today, paid_by_billbot=cache.paid[key])


def needs_confirmation(controls: Sequence[Control]) -> bool:
    return any(c.needs_confirmation for c in controls)


def modified_mark(bill: Bill) -> str:
    """What changes when the bill changes in the books: its modified date where the platform
    gives one, and what the controls read of it (some platforms give no modified date)."""
    seen = (bill.source_modified_date.isoformat() if bill.source_modified_date else "",
            bill.supplier_ref.id, bill.reference or "", str(bill.amount_due),
            str(bill.total_amount), bill.currency, bill.status.value,
            bill.issue_date.isoformat(), bill.due_date.isoformat())
    return hashlib.sha256("\x1f".join(seen).encode()).hexdigest()[:32]


def remember(session: Session, *, company_id: str, connection_id: str, bill_id: str,
             controls: Sequence[Control], at: datetime, bill_modified: str | None = None) -> None:
    """Keep what the bill met for its rows; an unreadable history keeps the last answer."""
    if UNCHECKED in controls:
        return
    values = {"kinds": [c.kind.value for c in controls], "lines": [c.short for c in controls],
              "checked_at": at, "bill_modified": bill_modified}
    key = {"company_id": company_id, "connection_id": connection_id, "bill_id": bill_id}
    if not insert_if_absent(session, BillControl, {**key, **values}):
        session.exec(update(BillControl).where(
            col(BillControl.company_id) == company_id,
            col(BillControl.connection_id) == connection_id,
            col(BillControl.bill_id) == bill_id).values(**values))


def row_lines(session: Session, *, company_id: str, connection_id: str,
              bill_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The warning lines each bill's row shows (bills never checked show none)."""
    ids = list(set(bill_ids))
    if not ids:
        return {}
    rows = session.exec(select(BillControl).where(
        col(BillControl.company_id) == company_id,
        col(BillControl.connection_id) == connection_id, col(BillControl.bill_id).in_(ids)))
    return {r.bill_id: tuple(r.lines) for r in rows if r.lines}


def unchanged_since_checked(session: Session, *, company_id: str, connection_id: str,
                            bills: Sequence[Bill], since: datetime,
                            first_payment_since: datetime) -> set[str]:
    """The bills checked at or after `since` that have not changed in the books since. A row
    saying "first payment" counts only if checked after `first_payment_since`: a payment
    billbot made since to that supplier (of another bill) changes nothing in this bill."""
    marks = {b.id: modified_mark(b) for b in bills}
    if not marks:
        return set()
    rows = session.exec(select(BillControl).where(
        col(BillControl.company_id) == company_id,
        col(BillControl.connection_id) == connection_id,
        col(BillControl.bill_id).in_(list(marks)), col(BillControl.checked_at) >= since))
    return {r.bill_id for r in rows
            if r.bill_modified is not None and r.bill_modified == marks[r.bill_id]
            and (ControlKind.FIRST_PAYMENT.value not in r.kinds
                 or r.checked_at >= first_payment_since)}


async def check_and_remember(codat: BillLister, engine: Engine, *, company_id: str,
                             connection_id: str, bills: Sequence[Bill], today: date,
                             at: datetime) -> dict[str, list[Control]]:
    """Check these bills (one history per supplier) and keep the answers for their rows,
    each supplier's as soon as it is checked: a digest that stops waiting (a slow Codat)
    keeps what was done, and its next digest checks only the rest."""
    cache = HistoryCache()
    by_supplier: dict[str, list[Bill]] = {}
    for bill in bills:
        by_supplier.setdefault(bill.supplier_ref.id, []).append(bill)
    met: dict[str, list[Control]] = {}
    for supplier_id, theirs in by_supplier.items():
        for bill in theirs:
            met[bill.id] = await controls_of(codat, engine, company_id=company_id,
                                             connection_id=connection_id, bill=bill,
                                             today=today, cache=cache)
        # One supplier's history held at a time: in a big ledger each runs to hundreds of
        # bills, and a digest's rows name a dozen suppliers (megabytes of peak together).
        cache.bills.pop((company_id, connection_id, supplier_id), None)

        def write(theirs: list[Bill] = theirs) -> None:
            with session_scope(engine) as session:
                for bill in theirs:
                    remember(session, company_id=company_id, connection_id=connection_id,
                             bill_id=bill.id, controls=met[bill.id], at=at,
                             bill_modified=modified_mark(bill))

        await asyncio.to_thread(write)
    return met


__all__ = [
    "UNCHECKED",
    "BillLister",
    "HistoryCache",
    "billbot_paid_any",
    "check_and_remember",
    "controls_of",
    "modified_mark",
    "needs_confirmation",
    "remember",
    "row_lines",
    "supplier_bills",
    "unchanged_since_checked",
]
