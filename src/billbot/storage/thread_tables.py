"""The bill's thread history table (migration 0012), apart from tables.py to keep each module
small; `billbot.storage` imports it, so it is on the metadata wherever the tables are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .columns import FREE_ID, ID, _at, _bill_id, _in

THREAD_POST_STATES = ("pending", "posting", "posted", "failed", "skipped")


class BillThreadPost(SQLModel, table=True):
    """One entry of a bill's history in its Slack thread (migration 0012), claimed by its
    (company, connection, bill, event) key before it is posted, so it is posted once."""

    __tablename__ = "bill_thread_post"
    __table_args__ = (
        UniqueConstraint("company_id", "connection_id", "bill_id", "event_id",
                         name="uq_bill_thread_post_event"),
        CheckConstraint(_in("state", THREAD_POST_STATES), name="ck_bill_thread_post_state"),
        Index("ix_bill_thread_post_state", "state", "claimed_at"),
        Index("ix_bill_thread_post_audit", "audit_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(max_length=ID)
    connection_id: str = Field(max_length=ID)
    bill_id: str = _bill_id()
    event_id: str = Field(max_length=ID)
    audit_id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(
        Integer(), "sqlite"), nullable=True))
    state: str = Field(default="pending", max_length=16)
    text: str = Field(sa_column=Column(Text(), nullable=False))
    channel_id: str | None = Field(default=None, max_length=ID)
    thread_ts: str | None = Field(default=None, max_length=ID)
    posted_ts: str | None = Field(default=None, max_length=ID)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=FREE_ID)
    created_at: datetime = _at()
    claimed_at: datetime | None = _at(nullable=True)
    posted_at: datetime | None = _at(nullable=True)


__all__ = ["THREAD_POST_STATES", "BillThreadPost"]
