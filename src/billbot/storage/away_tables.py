"""Tables of delegation and reminders (migration 0009): who covers whom and when, and the
claim written before each reminder or escalation is sent, so it goes out once per bill,
person and local day across replicas and restarts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, Index, String
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

_ID = 64
# Matches tables.BILL_ID_TYPE: long Codat bill ids on PostgreSQL, the declared 255 on SQLite.
_BILL_ID_TYPE = String(2048).with_variant(String(255), "sqlite")


def _at(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _day() -> Any:
    return Field(sa_column=Column(Date(), nullable=False))


class Delegation(SQLModel, table=True):
    """`/bills away <from> <to> @delegate`: the delegate acts with the absent person's
    approver or payer role from `starts_at` (the first day's local midnight) until `ends_at`
    (the day after the last, local midnight), unless ended early (`ended_at`)."""

    __tablename__ = "delegation"
    __table_args__ = (
        Index("ix_delegation_delegate", "delegate_id", "starts_at"),
        Index("ix_delegation_absent", "absent_id", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    absent_id: str = Field(max_length=_ID)
    delegate_id: str = Field(max_length=_ID)
    first_day: date = _day()
    last_day: date = _day()
    starts_at: datetime = _at()
    ends_at: datetime = _at()
    created_by: str = Field(max_length=_ID)
    created_at: datetime = _at()
    ended_at: datetime | None = _at(nullable=True)
    ended_by: str | None = Field(default=None, max_length=_ID)


class ReminderSent(SQLModel, table=True):
    """One reminder (or escalation) of one bill to one recipient on one local day; the row is
    inserted before sending, and the first writer wins. `recipient` is a user id, or the
    channel id when it went into the bill's thread."""

    __tablename__ = "reminder_sent"

    company_id: str = Field(primary_key=True, max_length=_ID)
    connection_id: str = Field(primary_key=True, max_length=_ID)
    bill_id: str = Field(sa_column=Column(_BILL_ID_TYPE, primary_key=True))
    recipient: str = Field(primary_key=True, max_length=_ID)
    local_date: date = Field(sa_column=Column(Date(), primary_key=True))
    kind: str = Field(primary_key=True, max_length=16)  # reminder | escalation
    claimed_at: datetime = _at()
    sent_at: datetime | None = _at(nullable=True)
    message_ts: str | None = Field(default=None, max_length=_ID)


__all__ = ["Delegation", "ReminderSent"]
