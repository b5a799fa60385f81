"""The controls each bill met when last checked (migration 0024): every place that renders
the bill's row reads its warning line from here, so a row drawn without asking Codat (a
click's refresh, App Home, a DM card) still shows it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

_ID = 64  # tables.ID (not imported: tables.py imports this module)
# tables.BILL_ID_TYPE: long Codat bill ids on PostgreSQL, the declared 255 on SQLite.
_BILL_ID_TYPE = String(2048).with_variant(String(255), "sqlite")


class BillControl(SQLModel, table=True):
    """A bill's controls as last computed (services/controls.py): kinds and short lines."""

    __tablename__ = "bill_control"

    company_id: str = Field(primary_key=True, max_length=_ID)
    connection_id: str = Field(primary_key=True, max_length=_ID)
    bill_id: str = Field(default=None, sa_column=Column(_BILL_ID_TYPE, primary_key=True))
    kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON(), nullable=False))
    lines: list[str] = Field(default_factory=list, sa_column=Column(JSON(), nullable=False))
    checked_at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))
    # The bill as it was when checked (services/controls.modified_mark): unchanged, no re-check.
    bill_modified: str | None = Field(default=None, max_length=64)


__all__ = ["BillControl"]
