"""The table of `/bills accounts add` (migration 0015): one row per form, inserted with its
Idempotency-Key before Codat is called, so a double submit, a Slack retry or a lost answer
creates one bank account (the same key and the same body on every try)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

_ID = 64


def _at(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class BankAccountRequest(SQLModel, table=True):
    """`state`: `pending` (key committed, Codat's answer not yet recorded), `created`
    (`account_id` set) or `refused` (Codat's final refusal in `error`)."""

    __tablename__ = "bank_account_request"

    form_id: str = Field(primary_key=True, max_length=_ID)
    company_id: str = Field(max_length=_ID)
    connection_id: str = Field(max_length=_ID)
    channel_id: str = Field(max_length=_ID)
    requested_by: str = Field(max_length=_ID)
    idempotency_key: str = Field(max_length=_ID)
    name: str = Field(max_length=255)
    account_type: str = Field(max_length=16)
    account_number: str = Field(max_length=_ID)
    currency: str = Field(max_length=3)
    sort_code: str | None = Field(default=None, max_length=32)
    nominal_code: str | None = Field(default=None, max_length=_ID)
    state: str = Field(max_length=16)
    account_id: str | None = Field(default=None, max_length=255)
    error: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    created_at: datetime = _at()
    finished_at: datetime | None = _at(nullable=True)


__all__ = ["BankAccountRequest"]
