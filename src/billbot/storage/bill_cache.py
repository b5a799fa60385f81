"""Reading and writing the open-bills cache (`bill_cache_tables`).

A refresh is single-flighted across replicas by a lease on the company's `bill_refresh` row:
`claim_refresh` takes it only when it is free or expired (a conditional UPDATE, so of two
replicas exactly one changes the row), and `store_refresh` writes the bills only while the
lease is still this owner's, in one transaction with the new watermark, so readers see the
old set or the new one, never half of each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from .bill_cache_tables import BillRefresh, CachedBill
from .bulk import insert_rows
from .upsert import insert_if_absent

_ERROR_TEXT = 500  # a failure's text is kept short: it is for an operator's eye
_READ_CHUNK = 500
_ID_CHUNK = 500  # ids per DELETE … IN (…), well under every driver's parameter limit


@dataclass(frozen=True)
class RefreshState:
    watermark: datetime | None
    full_read_at: datetime | None
    refreshed_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None

    def leased(self, now: datetime) -> bool:
        return self.lease_owner is not None and self.lease_until is not None \
            and self.lease_until > now


@dataclass(frozen=True)
class FetchedBill:
    bill_id: str
    bill_json: str
    source_modified_at: datetime | None


def _key(company_id: str, connection_id: str) -> Any:
    return (col(BillRefresh.company_id) == company_id) & \
        (col(BillRefresh.connection_id) == connection_id)


def refresh_state(session: Session, *, company_id: str, connection_id: str
                  ) -> RefreshState | None:
    row = session.get(BillRefresh, (company_id, connection_id))
    if row is None:
        return None
    return RefreshState(watermark=row.watermark, full_read_at=row.full_read_at,
                        refreshed_at=row.refreshed_at, lease_owner=row.lease_owner,
                        lease_until=row.lease_until)


def claim_refresh(session: Session, *, company_id: str, connection_id: str, owner: str,
                  now: datetime, lease_for: timedelta) -> RefreshState | None:
    """Take the company's refresh lease; its state as claimed, or None if another holds it."""
    insert_if_absent(session, BillRefresh, {"company_id": company_id,
                                            "connection_id": connection_id, "failures": 0})
    taken = session.execute(
        update(BillRefresh)
        .where(_key(company_id, connection_id))
        .where(or_(col(BillRefresh.lease_until).is_(None), col(BillRefresh.lease_until) <= now))
        .values(lease_owner=owner, lease_until=now + lease_for))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.expire_all()
    return refresh_state(session, company_id=company_id, connection_id=connection_id)


def release_refresh(session: Session, *, company_id: str, connection_id: str, owner: str,
                    error: str | None) -> None:
    """Give the lease back, after a failed read (`error`) or unused; the cached bills stay
    as they were."""
    values: dict[str, Any] = {"lease_owner": None, "lease_until": None}
    if error is not None:
        values.update(failures=BillRefresh.failures + 1, last_error=error[:_ERROR_TEXT])
    session.execute(
        update(BillRefresh)
        .where(_key(company_id, connection_id))
        .where(col(BillRefresh.lease_owner) == owner)
        .values(**values))


def store_refresh(session: Session, *, company_id: str, connection_id: str, owner: str,
                  now: datetime, full: bool, open_ids: Sequence[str],
                  open_bills: Iterable[FetchedBill], gone: Iterable[str],
                  watermark: datetime | None) -> bool:
    """Write what a refresh read and release the lease; False (nothing written) when the
    lease expired and another replica took it meanwhile.

    A full read replaces the company's whole set; an incremental one replaces the bills it
    returned (`open_ids`, whose rows `open_bills` yields, once and lazily: a 5,000-bill read's
    texts are made a few hundred at a time) and drops those that left the open set (`gone`)."""
    values: dict[str, Any] = {"refreshed_at": now, "lease_owner": None, "lease_until": None,
                              "failures": 0, "last_error": None}
    if watermark is not None:
        values["watermark"] = watermark
    if full:
        values["full_read_at"] = now
    kept = session.execute(
        update(BillRefresh)
        .where(_key(company_id, connection_id))
        .where(col(BillRefresh.lease_owner) == owner)
        .values(**values))
    if kept.rowcount != 1:  # type: ignore[attr-defined]
        return False
    mine = (col(CachedBill.company_id) == company_id) & \
        (col(CachedBill.connection_id) == connection_id)
    if full:
        session.execute(delete(CachedBill).where(mine))
    else:
        ids = [*open_ids, *gone]
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start:start + _ID_CHUNK]
            session.execute(delete(CachedBill).where(mine, col(CachedBill.bill_id).in_(chunk)))
    insert_rows(session, CachedBill, (
        {"company_id": company_id, "connection_id": connection_id, "bill_id": b.bill_id,
         "bill_json": b.bill_json, "source_modified_at": b.source_modified_at,
         "fetched_at": now} for b in open_bills))
    return True


def iter_cached_bills(session: Session, *, company_id: str, connection_id: str
                      ) -> Iterator[str]:
    """The company's cached open bills, as JSON texts, fetched a few hundred at a time: a
    reader that keeps only what it makes of each text (a parsed bill) never holds all 5,000
    texts at once."""
    yield from session.exec(
        select(CachedBill.bill_json)
        .where(col(CachedBill.company_id) == company_id,
               col(CachedBill.connection_id) == connection_id)
        .execution_options(yield_per=_READ_CHUNK))


__all__ = ["FetchedBill", "RefreshState", "claim_refresh", "iter_cached_bills", "refresh_state",
           "release_refresh", "store_refresh"]
