"""The append-only audit trail. Written in the same transaction as the change it describes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from .tables import AuditLog


@dataclass(frozen=True)
class BillRef:
    """Where a bill lives in Codat: company, accounting connection, bill id."""

    company_id: str
    connection_id: str
    bill_id: str


def record_audit(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    bill: BillRef | None = None,
    company_id: str | None = None,
    connection_id: str | None = None,
    bill_id: str | None = None,
    bill_version: Mapping[str, Any] | None = None,
    request_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Append one entry inside the caller's transaction (it commits or rolls back with it)."""
    entry = AuditLog(
        at=at,
        actor=actor,
        action=action,
        company_id=bill.company_id if bill else company_id,
        connection_id=bill.connection_id if bill else connection_id,
        bill_id=bill.bill_id if bill else bill_id,
        bill_version=dict(bill_version) if bill_version is not None else None,
        request_id=request_id,
        detail=dict(detail or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def iter_audit(
    session: Session,
    *,
    since: datetime | None = None,
    bill: BillRef | None = None,
    batch_size: int = 1000,
) -> Iterator[AuditLog]:
    """Entries in the order they were written (by id), read in batches (for export)."""
    last_id = 0
    while True:
        query = select(AuditLog).where(col(AuditLog.id) > last_id)
        if since is not None:
            query = query.where(col(AuditLog.at) >= since)
        if bill is not None:
            query = query.where(
                AuditLog.company_id == bill.company_id,
                AuditLog.connection_id == bill.connection_id,
                AuditLog.bill_id == bill.bill_id,
            )
        rows = session.exec(query.order_by(col(AuditLog.id)).limit(batch_size)).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id or last_id


__all__ = ["BillRef", "iter_audit", "record_audit"]
