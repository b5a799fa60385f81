"""The table of View invoice's claims (migration 0011): one row per bill attachment shared into
Slack, taken before the upload starts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, String, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

_ID = 64
_FREE_ID = 255
# Matches tables.BILL_ID_TYPE: long Codat bill ids on PostgreSQL, the declared 255 on SQLite.
_BILL_ID_TYPE = String(2048).with_variant(String(255), "sqlite")
UPLOAD_STATES = ("uploading", "shared")


def _at(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))



class InvoiceUpload(SQLModel, table=True):
    """One bill attachment shared into Slack (migration 0011). The row is claimed before the
    upload starts, so a double click or a second replica yields one file; `shared` rows keep
    the file's permalink for later clicks; a failed upload deletes its claim (retry)."""

    __tablename__ = "invoice_upload"
    __table_args__ = (
        CheckConstraint("state IN ('uploading', 'shared')", name="ck_invoice_upload_state"),
    )

    company_id: str = Field(primary_key=True, max_length=_ID)
    connection_id: str = Field(primary_key=True, max_length=_ID)
    bill_id: str = Field(default=None, sa_column=Column(_BILL_ID_TYPE, primary_key=True))
    attachment_id: str = Field(primary_key=True, max_length=_FREE_ID)
    state: str = Field(default="uploading", max_length=16)
    claimed_by: str = Field(max_length=_ID)
    claimed_at: datetime = _at()
    channel_id: str | None = Field(default=None, max_length=_ID)
    thread_ts: str | None = Field(default=None, max_length=_ID)
    file_id: str | None = Field(default=None, max_length=_ID)
    permalink: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    shared_at: datetime | None = _at(nullable=True)
