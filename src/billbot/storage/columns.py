"""Column helpers and identifier lengths shared by billbot's table modules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field

from .types import MoneyType, UTCDateTime

ID = 64  # Slack and Codat identifiers
FREE_ID = 255  # Codat bill, supplier and account ids are free strings
BILL_ID = 2048  # Codat bill ids: long ones too (2048 ASCII fit a PostgreSQL btree entry)
# SQLite keeps its declared VARCHAR(255) (migration 0007): it does not enforce lengths.
BILL_ID_TYPE = String(BILL_ID).with_variant(String(FREE_ID), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _money(*, nullable: bool) -> Any:
    return Field(default=None, sa_column=Column(MoneyType(), nullable=nullable))


def _at(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _bill_id(*, nullable: bool = False, primary_key: bool = False) -> Any:
    return Field(default=None, sa_column=Column(BILL_ID_TYPE, nullable=nullable,
                                                primary_key=primary_key))


def _json(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(JSON(), nullable=nullable))
