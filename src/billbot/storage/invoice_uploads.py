"""The once-per-attachment claim of a View invoice upload (table invoice_upload).

`claim` is taken before any byte goes to Slack: exactly one caller wins (a unique key, across
replicas). The winner uploads, then `mark_shared` (file id, permalink) or `release` (failed:
the next click may try again). A claim left `uploading` past `stale_before` (its replica died
mid-upload) may be taken over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, delete, select, update

from .invoice_tables import InvoiceUpload
from .upsert import insert_if_absent


@dataclass(frozen=True)
class UploadKey:
    company_id: str
    connection_id: str
    bill_id: str
    attachment_id: str


@dataclass(frozen=True)
class ClaimAnswer:
    """`won`: this caller uploads. Otherwise `permalink` is set once the file is shared, and
    None while another caller's upload is still in progress."""

    won: bool
    permalink: str | None = None
    claimed_by: str | None = None


def _where(key: UploadKey) -> ColumnElement[bool]:
    return and_(col(InvoiceUpload.company_id) == key.company_id,
                col(InvoiceUpload.connection_id) == key.connection_id,
                col(InvoiceUpload.bill_id) == key.bill_id,
                col(InvoiceUpload.attachment_id) == key.attachment_id)


def claim(session: Session, key: UploadKey, *, user_id: str, at: datetime,
          stale_before: datetime) -> ClaimAnswer:
    values = {"company_id": key.company_id, "connection_id": key.connection_id,
              "bill_id": key.bill_id, "attachment_id": key.attachment_id,
              "state": "uploading", "claimed_by": user_id, "claimed_at": at}
    if insert_if_absent(session, InvoiceUpload, values):
        return ClaimAnswer(won=True)
    taken = session.exec(
        update(InvoiceUpload).where(_where(key), col(InvoiceUpload.state) == "uploading",
                                    col(InvoiceUpload.claimed_at) < stale_before)
        .values(claimed_by=user_id, claimed_at=at))
    if taken.rowcount == 1:
        return ClaimAnswer(won=True)
    row = session.get(InvoiceUpload, (key.company_id, key.connection_id, key.bill_id,
                                      key.attachment_id))
    if row is None:  # released between the insert and the read: the next click wins
        return ClaimAnswer(won=False)
    return ClaimAnswer(won=False, permalink=row.permalink if row.state == "shared" else None,
                       claimed_by=row.claimed_by)


def mark_shared(session: Session, key: UploadKey, *, channel_id: str, thread_ts: str | None,
                file_id: str, permalink: str, at: datetime) -> None:
    session.exec(update(InvoiceUpload).where(_where(key)).values(
        state="shared", channel_id=channel_id, thread_ts=thread_ts, file_id=file_id,
        permalink=permalink, shared_at=at))


def release(session: Session, key: UploadKey) -> None:
    """Give a failed claim back (only one still uploading: a shared file stays)."""
    session.exec(delete(InvoiceUpload).where(_where(key),
                                             col(InvoiceUpload.state) == "uploading"))


def shared_permalinks(session: Session, *, company_id: str, connection_id: str,
                      bill_id: str) -> dict[str, str]:
    """attachment id -> permalink of the bill's attachments already in Slack."""
    rows = session.exec(select(InvoiceUpload).where(
        col(InvoiceUpload.company_id) == company_id,
        col(InvoiceUpload.connection_id) == connection_id,
        col(InvoiceUpload.bill_id) == bill_id, col(InvoiceUpload.state) == "shared")).all()
    return {row.attachment_id: row.permalink for row in rows if row.permalink}


__all__ = ["ClaimAnswer", "UploadKey", "claim", "mark_shared", "release", "shared_permalinks"]
