"""Bills created from Slack (migration 0016): the creation intent and the record of who
created which bill."""

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
CREATION_STEPS = ("supplier", "bill", "attachment", "done", "failed")
OPEN_CREATION_STEPS = ("supplier", "bill", "attachment")


def _at(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _text(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(Text(), nullable=nullable))


class BillCreation(SQLModel, table=True):
    """One submitted Create bill form. Committed, with its Idempotency-Keys, before any Codat
    call; `step` is the next thing to create (supplier -> bill -> attachment -> done). The
    unique `request_key` (the modal's view id) makes a double submit or a Slack retry land on
    the same row, so every retry reuses the same keys."""

    __tablename__ = "bill_creation"
    __table_args__ = (
        CheckConstraint("step IN ('supplier', 'bill', 'attachment', 'done', 'failed')",
                        name="ck_bill_creation_step"),
        UniqueConstraint("request_key", name="uq_bill_creation_request"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4,
                          sa_column=Column(Uuid(), primary_key=True))
    request_key: str = Field(max_length=_FREE_ID)
    company_id: str = Field(max_length=_ID)
    connection_id: str = Field(max_length=_ID)
    created_by: str = Field(max_length=_ID)
    step: str = Field(default="supplier", max_length=16)
    supplier_key: str = Field(max_length=_ID)
    supplier_id: str | None = Field(default=None, max_length=_FREE_ID)
    # The new supplier's prototype (JSON) when the form asked for one; NULL otherwise.
    supplier_json: str | None = _text()
    bill_key: str = Field(max_length=_ID)
    bill_json: str = _text(nullable=False)  # the bill prototype, supplierRef filled in later
    bill_id: str | None = Field(default=None, sa_column=Column(_BILL_ID_TYPE, nullable=True))
    file_id: str | None = Field(default=None, max_length=_ID)  # the Slack file to attach
    file_sent_at: datetime | None = _at(nullable=True)  # the upload may have reached Codat
    attachment_id: str | None = Field(default=None, max_length=_FREE_ID)
    channel_id: str | None = Field(default=None, max_length=_ID)
    attempts: int = 0
    last_error: str | None = _text()
    lease_owner: str | None = Field(default=None, max_length=_ID)
    locked_until: datetime | None = _at(nullable=True)
    created_at: datetime = _at()
    updated_at: datetime = _at()
    finished_at: datetime | None = _at(nullable=True)
    shown_at: datetime | None = _at(nullable=True)  # its row reached the channel


class CreatedBill(SQLModel, table=True):
    """A bill created in billbot and who created it (Edit is offered to them and admins)."""

    __tablename__ = "created_bill"

    company_id: str = Field(primary_key=True, max_length=_ID)
    connection_id: str = Field(primary_key=True, max_length=_ID)
    bill_id: str = Field(default=None, sa_column=Column(_BILL_ID_TYPE, primary_key=True))
    created_by: str = Field(max_length=_ID)
    created_at: datetime = _at()
    creation_id: uuid.UUID = Field(sa_column=Column(Uuid(), nullable=False))
