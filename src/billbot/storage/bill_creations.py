"""Create bill's intent rows (table bill_creation) and the created_bill record.

A row is inserted once per submitted form (unique `request_key`), with its Idempotency-Keys,
before anything is sent to Codat. A worker holds it through a lease (`lease_owner`,
`locked_until`); every step transition is conditional on that lease, so two workers never
both send a step, and a crashed worker's row is taken over once its lease runs out.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select, update

from .creation_tables import OPEN_CREATION_STEPS, BillCreation, CreatedBill
from .upsert import insert_if_absent


def start(session: Session, *, request_key: str, company_id: str, connection_id: str,
          user_id: str, supplier_id: str | None, supplier_json: str | None, bill_json: str,
          file_id: str | None, channel_id: str | None, at: datetime) -> uuid.UUID:
    """The creation for this request, inserted with fresh keys unless it already exists."""
    values: dict[str, Any] = {
        "id": uuid.uuid4(), "request_key": request_key, "company_id": company_id,
        "connection_id": connection_id, "created_by": user_id, "step": "supplier",
        "supplier_key": str(uuid.uuid4()), "supplier_id": supplier_id,
        "supplier_json": supplier_json, "bill_key": str(uuid.uuid4()), "bill_json": bill_json,
        "file_id": file_id, "channel_id": channel_id, "attempts": 0, "created_at": at,
        "updated_at": at,
    }
    insert_if_absent(session, BillCreation, values)
    found = session.exec(select(BillCreation.id)
                         .where(col(BillCreation.request_key) == request_key)).one()
    return found


def fresh(session: Session, creation_id: uuid.UUID) -> BillCreation | None:
    return session.exec(select(BillCreation).where(col(BillCreation.id) == creation_id)
                        .execution_options(populate_existing=True)).first()


def claim(session: Session, creation_id: uuid.UUID, *, now: datetime,
          lease_for: timedelta) -> str | None:
    """A lease token if the creation is open and nobody holds a live lease on it."""
    token = str(uuid.uuid4())
    result = session.exec(
        update(BillCreation)
        .where(col(BillCreation.id) == creation_id,
               col(BillCreation.step).in_(OPEN_CREATION_STEPS),
               or_(col(BillCreation.locked_until).is_(None),
                   col(BillCreation.locked_until) <= now))
        .values(lease_owner=token, locked_until=now + lease_for))
    return token if result.rowcount == 1 else None


def advance(session: Session, creation_id: uuid.UUID, token: str, *, now: datetime,
            **values: Any) -> bool:
    """Record a step's result while still holding the lease; False if the lease was lost."""
    result = session.exec(
        update(BillCreation)
        .where(col(BillCreation.id) == creation_id, col(BillCreation.lease_owner) == token,
               col(BillCreation.step).in_(OPEN_CREATION_STEPS))
        .values(updated_at=now, **values))
    return result.rowcount == 1


def release(session: Session, creation_id: uuid.UUID, token: str, *, retry_at: datetime,
            error: str | None) -> None:
    """Let go; recovery may pick the creation up again from `retry_at`."""
    session.exec(update(BillCreation)
                 .where(col(BillCreation.id) == creation_id,
                        col(BillCreation.lease_owner) == token)
                 .values(lease_owner=None, locked_until=retry_at, last_error=error))


def record_created(session: Session, creation: BillCreation, *, bill_id: str,
                   at: datetime) -> None:
    """Who created the bill (the same transaction that records the bill id)."""
    insert_if_absent(session, CreatedBill, {
        "company_id": creation.company_id, "connection_id": creation.connection_id,
        "bill_id": bill_id, "created_by": creation.created_by, "created_at": at,
        "creation_id": creation.id})


def due_for_recovery(session: Session, *, now: datetime, unclaimed_grace: timedelta,
                     limit: int) -> list[uuid.UUID]:
    """Open creations nobody is working on (lease run out, or never claimed in time)."""
    return list(session.exec(
        select(BillCreation.id)
        .where(col(BillCreation.step).in_(OPEN_CREATION_STEPS),
               or_(and_(col(BillCreation.locked_until).is_(None),
                        col(BillCreation.created_at) <= now - unclaimed_grace),
                   col(BillCreation.locked_until) <= now))
        .order_by(col(BillCreation.created_at)).limit(limit)).all())


def unshown(session: Session, *, finished_before: datetime, limit: int) -> list[BillCreation]:
    """Finished creations whose outcome never reached Slack (the process died first)."""
    return list(session.exec(
        select(BillCreation)
        .where(col(BillCreation.step).in_(("done", "failed")),
               col(BillCreation.shown_at).is_(None),
               col(BillCreation.finished_at) <= finished_before)
        .order_by(col(BillCreation.finished_at)).limit(limit)).all())


def mark_shown(session: Session, creation_id: uuid.UUID, *, now: datetime) -> bool:
    """True for the one caller that marks it (the row is posted at most once per caller)."""
    result = session.exec(update(BillCreation)
                          .where(col(BillCreation.id) == creation_id,
                                 col(BillCreation.shown_at).is_(None))
                          .values(shown_at=now))
    return result.rowcount == 1


def unmark_shown(session: Session, creation_id: uuid.UUID) -> None:
    """The post failed: let recovery post the row again."""
    session.exec(update(BillCreation).where(col(BillCreation.id) == creation_id)
                 .values(shown_at=None))


def creator_of(session: Session, *, company_id: str, connection_id: str,
               bill_id: str) -> str | None:
    """The Slack user who created the bill in billbot, or None (created elsewhere)."""
    row = session.get(CreatedBill, (company_id, connection_id, bill_id))
    return row.created_by if row is not None else None


__all__ = ["advance", "claim", "creator_of", "due_for_recovery", "fresh", "mark_shown",
           "record_created", "release", "start", "unmark_shown", "unshown"]
