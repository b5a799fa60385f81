"""Reminder claims: the row is written before a reminder or escalation is sent, so each goes
out once per bill, recipient, local day and kind however many replicas tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, update
from sqlmodel import Session, col

from .away_tables import ReminderSent
from .upsert import insert_if_absent


@dataclass(frozen=True)
class ReminderKey:
    company_id: str
    connection_id: str
    bill_id: str
    recipient: str  # a user id, or the channel id for a post in the bill's thread
    local_date: date
    kind: str  # reminder | escalation

    def where(self) -> tuple[ColumnElement[bool], ...]:
        return (col(ReminderSent.company_id) == self.company_id,
                col(ReminderSent.connection_id) == self.connection_id,
                col(ReminderSent.bill_id) == self.bill_id,
                col(ReminderSent.recipient) == self.recipient,
                col(ReminderSent.local_date) == self.local_date,
                col(ReminderSent.kind) == self.kind)


def claim(session: Session, key: ReminderKey, *, at: datetime,
          stale_before: datetime | None = None) -> bool:
    """True for the one caller who should send it; an unsent claim older than `stale_before`
    (its replica died before sending) may be taken over."""
    values = {"company_id": key.company_id, "connection_id": key.connection_id,
              "bill_id": key.bill_id, "recipient": key.recipient,
              "local_date": key.local_date, "kind": key.kind, "claimed_at": at}
    if insert_if_absent(session, ReminderSent, values):
        return True
    if stale_before is None:
        return False
    result = session.exec(update(ReminderSent).where(
        *key.where(), col(ReminderSent.sent_at).is_(None),
        col(ReminderSent.claimed_at) < stale_before).values(claimed_at=at))
    return bool(result.rowcount == 1)


def mark_sent(session: Session, key: ReminderKey, *, message_ts: str | None,
              at: datetime) -> None:
    session.exec(update(ReminderSent).where(
        *key.where()).values(sent_at=at, message_ts=message_ts))


def release(session: Session, key: ReminderKey) -> None:
    """Sending failed before Slack took it: a later tick the same day tries again."""
    session.exec(delete(ReminderSent).where(
        *key.where(), col(ReminderSent.sent_at).is_(None)))


__all__ = ["ReminderKey", "claim", "mark_sent", "release"]
