"""The table of Edit's intents (bill_edit): one row per submitted Edit form, committed with
its Idempotency-Key before update bill is sent to Codat."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, String, Text, UniqueConstraint, Uuid
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

_ID = 64
_FREE_ID = 255
# Matches tables.BILL_ID_TYPE: long Codat bill ids on PostgreSQL, the declared 255 on SQLite.
_BILL_ID_TYPE = String(2048).with_variant(String(255), "sqlite")
EDIT_STATES = ("sending", "done", "failed")


def _at(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class BillEdit(SQLModel, table=True):
    """One submitted Edit form. The unique `request_key` (the modal's view id) puts a double
    submit or a Slack retry on the same row, so every attempt sends the same key and Codat
    applies the update once; only the attempt that moves it from `sending` to `done` lapses
    the approval and writes the audit."""

    __tablename__ = "bill_edit"
    __table_args__ = (
        CheckConstraint("state IN ('sending', 'done', 'failed')", name="ck_bill_edit_state"),
        UniqueConstraint("request_key", name="uq_bill_edit_request"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid(), primary_key=True))
    request_key: str = Field(max_length=_FREE_ID)
    company_id: str = Field(max_length=_ID)
    connection_id: str = Field(max_length=_ID)
    bill_id: str = Field(default=None, sa_column=Column(_BILL_ID_TYPE, nullable=False))
    user_id: str = Field(max_length=_ID)
    idempotency_key: str = Field(max_length=_ID)
    bill_json: str = Field(sa_column=Column(Text(), nullable=False))  # the update's prototype
    state: str = Field(default="sending", max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    created_at: datetime = _at()
    finished_at: datetime | None = _at(nullable=True)
