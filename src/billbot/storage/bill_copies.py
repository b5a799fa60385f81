"""Where each bill is shown (bill_copy): one row per (message, bill), with what it shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from .bulk import insert_rows
from .tables import BillCopy


@dataclass(frozen=True, slots=True)  # a digest holds one per bill it counts
class ShownBill:
    """The figures a copy of the bill shows (domain/copies.py makes and judges them)."""

    bill_id: str
    token: str
    amount_due: Decimal | None
    currency: str
    due_date: date
    settled: bool  # paid, void or nothing due: no longer counted in a header


@dataclass(frozen=True)
class CopyPlace:
    channel_id: str
    ts: str
    digest_ts: str | None


def remember(session: Session, *, channel_id: str, ts: str, company_id: str,
             connection_id: str, digest_ts: str | None, shown: Sequence[ShownBill],
             at: datetime) -> None:
    """Index the bills a message shows (again: the figures are replaced)."""
    for bill in shown:
        row = session.get(BillCopy, (channel_id, ts, bill.bill_id))
        if row is None:
            row = BillCopy(channel_id=channel_id, ts=ts, bill_id=bill.bill_id,
                           company_id=company_id, connection_id=connection_id,
                           digest_ts=digest_ts, token=bill.token, currency=bill.currency,
                           due_date=bill.due_date, updated_at=at)
        _fill(row, bill, at)
        session.add(row)
    session.flush()


def remember_new(session: Session, *, channel_id: str, ts: str, company_id: str,
                 connection_id: str, digest_ts: str | None, shown: Sequence[ShownBill],
                 at: datetime) -> None:
    """Index the bills of a message just posted (none indexed yet): bulk inserts, as a
    digest's main message indexes every due bill it counts (thousands in a long ledger)."""
    unique = list({b.bill_id: b for b in shown}.values())  # a repeated id is indexed once
    if not unique:
        return
    insert_rows(session, BillCopy, ({
        "channel_id": channel_id, "ts": ts, "bill_id": b.bill_id, "company_id": company_id,
        "connection_id": connection_id, "digest_ts": digest_ts, "token": b.token,
        "amount_due": b.amount_due, "currency": b.currency, "due_date": b.due_date,
        "settled": b.settled, "updated_at": at} for b in unique))


def update_shown(session: Session, *, channel_id: str, ts: str, shown: ShownBill,
                 at: datetime) -> None:
    """The copy in this message now shows `shown` (no-op for a message not indexed)."""
    row = session.get(BillCopy, (channel_id, ts, shown.bill_id))
    if row is not None:
        _fill(row, shown, at)
        session.add(row)
        session.flush()


def _fill(row: BillCopy, shown: ShownBill, at: datetime) -> None:
    row.token = shown.token
    row.amount_due = shown.amount_due
    row.currency = shown.currency
    row.due_date = shown.due_date
    row.settled = shown.settled
    row.updated_at = at


def shown_token(session: Session, *, channel_id: str, ts: str, bill_id: str) -> str | None:
    row = session.get(BillCopy, (channel_id, ts, bill_id))
    return row.token if row is not None else None


def places_of(session: Session, *, company_id: str, connection_id: str,
              bill_id: str) -> list[CopyPlace]:
    """Every message that shows the bill, oldest first."""
    rows = session.exec(select(BillCopy).where(
        col(BillCopy.company_id) == company_id, col(BillCopy.connection_id) == connection_id,
        col(BillCopy.bill_id) == bill_id).order_by(col(BillCopy.ts))).all()
    return [CopyPlace(r.channel_id, r.ts, r.digest_ts) for r in rows]


def shown_bill_ids(session: Session, *, company_id: str, connection_id: str) -> set[str]:
    """The company's bills some message shows a row of (the bills that have a thread)."""
    return set(session.exec(select(BillCopy.bill_id).where(
        col(BillCopy.company_id) == company_id,
        col(BillCopy.connection_id) == connection_id).distinct()).all())


def digest_shown(session: Session, *, channel_id: str, digest_ts: str) -> list[ShownBill]:
    """What every row of one digest (its main message and thread replies) shows now."""
    rows = session.exec(select(BillCopy).where(
        col(BillCopy.channel_id) == channel_id, col(BillCopy.digest_ts) == digest_ts)).all()
    return [ShownBill(bill_id=r.bill_id, token=r.token, amount_due=r.amount_due,
                      currency=r.currency, due_date=r.due_date, settled=r.settled)
            for r in rows]


__all__ = ["CopyPlace", "ShownBill", "digest_shown", "places_of", "remember", "remember_new",
           "shown_bill_ids", "shown_token", "update_shown"]
