"""Handles of long bill ids (bill_handle): written before a row is posted, read on a click."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from .tables import BillHandle
from .upsert import insert_if_absent


def remember(session: Session, *, company_id: str, connection_id: str,
             handles: Mapping[str, str], at: datetime) -> None:
    """Record each handle → bill id (idempotent: a handle already recorded is kept)."""
    for handle in sorted(handles):
        insert_if_absent(session, BillHandle, {
            "handle": handle, "company_id": company_id, "connection_id": connection_id,
            "bill_id": handles[handle], "created_at": at})


def resolve(session: Session, *, company_id: str, connection_id: str,
            handle: str) -> str | None:
    """The bill id a handle stands for in this company and connection; None when unknown."""
    row = session.get(BillHandle, (handle, company_id, connection_id))
    return row.bill_id if row is not None else None


__all__ = ["remember", "resolve"]
