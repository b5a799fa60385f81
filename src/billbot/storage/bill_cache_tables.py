"""The open-bills cache (migration 0022): each bound company's Open and PartiallyPaid bills
as Codat last returned them, and one row per company saying how fresh they are and which
replica is refreshing them (the lease)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

_ID = 64
# Matches tables.BILL_ID_TYPE: long Codat bill ids on PostgreSQL, the declared 255 on SQLite.
_BILL_ID_TYPE = String(2048).with_variant(String(255), "sqlite")


def _at(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class CachedBill(SQLModel, table=True):
    """One open bill of a company, its JSON exactly as read (money as exact text)."""

    __tablename__ = "cached_bill"

    company_id: str = Field(primary_key=True, max_length=_ID)
    connection_id: str = Field(primary_key=True, max_length=_ID)
    bill_id: str = Field(default=None, sa_column=Column(_BILL_ID_TYPE, primary_key=True))
    bill_json: str = Field(sa_column=Column(Text(), nullable=False))
    source_modified_at: datetime | None = _at(nullable=True)
    fetched_at: datetime = _at()


class BillRefresh(SQLModel, table=True):
    """A company's refresh state. `watermark` is the newest `sourceModifiedDate` read;
    `lease_owner`/`lease_until` single-flight a refresh across replicas."""

    __tablename__ = "bill_refresh"

    company_id: str = Field(primary_key=True, max_length=_ID)
    connection_id: str = Field(primary_key=True, max_length=_ID)
    watermark: datetime | None = _at(nullable=True)
    full_read_at: datetime | None = _at(nullable=True)
    refreshed_at: datetime | None = _at(nullable=True)
    lease_owner: str | None = Field(default=None, max_length=_ID)
    lease_until: datetime | None = _at(nullable=True)
    failures: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))


__all__ = ["BillRefresh", "CachedBill"]
