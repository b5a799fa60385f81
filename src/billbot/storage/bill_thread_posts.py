"""The bill's thread as its history (bill_thread_post): each entry is claimed by its
(company, connection, bill, event) key before it is posted, then marked posted.

A row is inserted once (the unique key), taken for posting by one worker at a time (a
conditional UPDATE from `pending`, or from a `posting` claim older than the lease: a worker
that died), and marked `posted` with the reply's ts. Failed posts go back to `pending` until
MAX_ATTEMPTS, then stay `failed`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from .tables import AuditLog
from .thread_tables import BillThreadPost
from .upsert import insert_if_absent

MAX_ATTEMPTS = 5


def enqueue(session: Session, *, company_id: str, connection_id: str, bill_id: str,
            event_id: str, text: str, at: datetime, audit_id: int | None = None,
            skipped: bool = False) -> bool:
    """Claim the event's entry (True when this call wrote it). `skipped`: remembered as
    handled with nothing to post (the history is off, or the event says nothing new)."""
    return insert_if_absent(session, BillThreadPost, {
        "company_id": company_id, "connection_id": connection_id, "bill_id": bill_id,
        "event_id": event_id, "audit_id": audit_id, "text": text,
        "state": "skipped" if skipped else "pending", "attempts": 0, "created_at": at,
    })


def _takeable(stale_before: datetime) -> object:
    return and_(col(BillThreadPost.attempts) < MAX_ATTEMPTS, or_(
        col(BillThreadPost.state) == "pending",
        and_(col(BillThreadPost.state) == "posting",
             col(BillThreadPost.claimed_at) < stale_before)))


def claim(session: Session, *, post_id: int, at: datetime,
          stale_before: datetime) -> BillThreadPost | None:
    """Take one entry for posting; None when another worker has it or it is done."""
    taken = session.exec(
        update(BillThreadPost)
        .where(col(BillThreadPost.id) == post_id, _takeable(stale_before))  # type: ignore[arg-type]
        .values(state="posting", claimed_at=at, attempts=BillThreadPost.attempts + 1)
    )
    if taken.rowcount != 1:
        return None
    return session.exec(select(BillThreadPost).where(col(BillThreadPost.id) == post_id)
                        .execution_options(populate_existing=True)).one()


def mark_posted(session: Session, *, post_id: int, channel_id: str, thread_ts: str,
                posted_ts: str, at: datetime) -> None:
    session.exec(update(BillThreadPost).where(col(BillThreadPost.id) == post_id).values(
        state="posted", channel_id=channel_id, thread_ts=thread_ts, posted_ts=posted_ts,
        posted_at=at, last_error=None))


def mark_failed(session: Session, *, post_id: int, error: str) -> None:
    """Back to `pending` for the next try, or `failed` once MAX_ATTEMPTS are spent."""
    post = session.get(BillThreadPost, post_id)
    if post is None:
        return
    state = "failed" if post.attempts >= MAX_ATTEMPTS else "pending"
    session.exec(update(BillThreadPost).where(col(BillThreadPost.id) == post_id).values(
        state=state, last_error=error[:255]))


def takeable(session: Session, *, stale_before: datetime, limit: int,
             company_id: str | None = None, connection_id: str | None = None,
             bill_id: str | None = None) -> list[int]:
    """Entries waiting to be posted (one bill's, or all), oldest first."""
    query = select(BillThreadPost.id).where(_takeable(stale_before))  # type: ignore[arg-type]
    if bill_id is not None:
        query = query.where(col(BillThreadPost.company_id) == company_id,
                            col(BillThreadPost.connection_id) == connection_id,
                            col(BillThreadPost.bill_id) == bill_id)
    ids = session.exec(query.order_by(col(BillThreadPost.id)).limit(limit)).all()
    return [i for i in ids if i is not None]


def unclaimed_audit(session: Session, *, actions: Iterable[str], since: datetime, limit: int,
                    company_id: str | None = None, connection_id: str | None = None,
                    bill_id: str | None = None) -> Sequence[AuditLog]:
    """Audit entries of these actions since `since` that have no thread entry yet."""
    query = (select(AuditLog)
             .outerjoin(BillThreadPost, col(BillThreadPost.audit_id) == col(AuditLog.id))
             .where(col(BillThreadPost.id).is_(None), col(AuditLog.action).in_(list(actions)),
                    col(AuditLog.at) >= since, col(AuditLog.bill_id).is_not(None)))
    if bill_id is not None:
        query = query.where(col(AuditLog.company_id) == company_id,
                            col(AuditLog.connection_id) == connection_id,
                            col(AuditLog.bill_id) == bill_id)
    return session.exec(query.order_by(col(AuditLog.id)).limit(limit)).all()


__all__ = ["MAX_ATTEMPTS", "claim", "enqueue", "mark_failed", "mark_posted", "takeable",
           "unclaimed_audit"]
