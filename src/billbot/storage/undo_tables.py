"""Undo payment and Delete bill (migration 0026, async API only): one row per request to
delete a bill payment or a bill in Codat, committed before the delete push is sent.

A partial unique index lets one live request (claimed, sent, unknown, succeeded) stand per
target: a double submit, a Slack retry or a second admin lands on the same row instead of
sending a second delete. A failed request leaves room for a new one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, String, Text, Uuid, text
from sqlmodel import Field, SQLModel

from .scoping import team_column
from .types import UTCDateTime

_ID = 64  # tables.ID (not imported: tables.py imports this module)
_FREE_ID = 255
# tables.BILL_ID_TYPE: long Codat bill ids on PostgreSQL, the declared 255 on SQLite.
_BILL_ID_TYPE = String(2048).with_variant(String(255), "sqlite")
UNDO_KINDS = ("payment", "bill")
UNDO_STATES = ("claimed", "sent", "unknown", "succeeded", "failed")
OPEN_UNDO_STATES = ("claimed", "sent", "unknown")
_LIVE = "state <> 'failed'"


def _at(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class BillUndo(SQLModel, table=True):
    """An admin's Undo payment (kind `payment`: the target is Codat's bill payment id) or
    Delete bill (kind `bill`: the target is the bill id), with its reason and its push."""

    __tablename__ = "bill_undo"
    __table_args__ = (
        CheckConstraint("kind IN ('payment', 'bill')", name="ck_bill_undo_kind"),
        CheckConstraint("state IN ('claimed', 'sent', 'unknown', 'succeeded', 'failed')",
                        name="ck_bill_undo_state"),
        Index("uq_bill_undo_live", "kind", "company_id", "connection_id", "target_id",
              unique=True, sqlite_where=text(_LIVE), postgresql_where=text(_LIVE)),
        Index("ix_bill_undo_bill", "company_id", "connection_id", "bill_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=Column(Uuid(), primary_key=True))
    kind: str = Field(max_length=16)
    company_id: str = Field(max_length=_ID)
    connection_id: str = Field(max_length=_ID)
    bill_id: str = Field(default=None, sa_column=Column(_BILL_ID_TYPE, nullable=False))
    target_id: str = Field(default=None, sa_column=Column(_BILL_ID_TYPE, nullable=False))
    intent_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid(), nullable=True))
    actor: str = Field(max_length=_ID)
    reason: str = Field(default=None, sa_column=Column(Text(), nullable=False))
    state: str = Field(default="claimed", max_length=16)
    bill_version: dict[str, Any] = Field(default_factory=dict,
                                         sa_column=Column(JSON(), nullable=False))
    request_id: str | None = Field(default=None, max_length=_FREE_ID)
    push_operation_key: str | None = Field(default=None, max_length=_ID)
    last_error: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    requested_at: datetime = _at()
    sent_at: datetime | None = _at(nullable=True)  # the delete may have reached Codat
    locked_until: datetime | None = _at(nullable=True)  # the admin's request working on it
    lease_owner: str | None = Field(default=None, max_length=36)
    finished_at: datetime | None = _at(nullable=True)
    team_id: str = team_column()


__all__ = ["OPEN_UNDO_STATES", "UNDO_KINDS", "UNDO_STATES", "BillUndo"]
