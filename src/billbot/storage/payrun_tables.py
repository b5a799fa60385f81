"""Pay runs (migration 0008): one payer, one company, many bills, each paid by its own intent."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Integer, Text, Uuid
from sqlmodel import Field, SQLModel

from .columns import FREE_ID, ID, _at, _bill_id, _in, _json, _money

RUN_STATES = ("draft", "running", "finished")
# How the run's bills become payments (services/payment_groups.py; async API only but 'each').
GROUPINGS = ("each", "supplier", "batch")


class PayRun(SQLModel, table=True):
    """A pay run (migration 0011): one payer, one company, many bills, each paid by its own
    payment intent. `draft` while the form and review are open; the confirmation moves it to
    `running` by a conditional update (a second submit finds it taken); `finished` once
    every intent is final. `locked_until` is the driving worker's lease: recovery finishes
    a run whose driver vanished."""

    __tablename__ = "pay_run"
    __table_args__ = (
        CheckConstraint(_in("state", RUN_STATES), name="ck_pay_run_state"),
        CheckConstraint(_in('"grouping"', GROUPINGS), name="ck_pay_run_grouping"),
        Index("ix_pay_run_open", "state", "locked_until"),
    )

    id: uuid.UUID = Field(sa_column=Column(Uuid(), primary_key=True))
    company_id: str = Field(max_length=ID)
    connection_id: str = Field(max_length=ID)
    channel_id: str = Field(max_length=ID)
    payer_id: str = Field(max_length=ID)
    state: str = Field(default="draft", max_length=16)
    attempt: int = 0  # executions so far: the first, then one per `Retry failed`
    payment_date: date | None = Field(default=None, sa_column=Column(Date(), nullable=True))
    base_currency: str | None = Field(default=None, max_length=3)
    # Per currency: {"account_id", "account_name", "rate"} as the payer chose them.
    choices: dict[str, Any] = _json()
    message_ts: str | None = Field(default=None, max_length=ID)
    view_id: str | None = Field(default=None, max_length=ID)
    locked_until: datetime | None = _at(nullable=True)
    created_at: datetime = _at()
    updated_at: datetime = _at()
    finished_at: datetime | None = _at(nullable=True)
    # GROUPINGS' choice as confirmed (migration 0030; 0029's per_supplier is 'supplier').
    grouping: str = Field(default="each", max_length=16,
                          sa_column_kwargs={"server_default": "each"})
    # The connection's platformName, read from Codat when the run was opened (async API):
    # whether a batch payment may be offered. None: not read (never guessed).
    platform: str | None = Field(default=None, max_length=FREE_ID)


class PayRunItem(SQLModel, table=True):
    """One bill of a pay run, as offered; `intent_id` is its current payment intent."""

    __tablename__ = "pay_run_item"

    run_id: uuid.UUID = Field(sa_column=Column(Uuid(), ForeignKey("pay_run.id"),
                                               primary_key=True))
    position: int = Field(sa_column=Column(Integer(), primary_key=True, autoincrement=False))
    bill_id: str = _bill_id()
    reference: str | None = Field(default=None, max_length=FREE_ID)
    supplier: str | None = Field(default=None, max_length=FREE_ID)
    supplier_id: str | None = Field(default=None, max_length=FREE_ID)  # migration 0030
    currency: str = Field(max_length=3)
    amount: Decimal = _money(nullable=False)
    issue_date: date = Field(sa_column=Column(Date(), nullable=False))
    selected: bool = True
    # Why it is not paid in this run (issued after the date, refused when starting).
    skip_reason: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    intent_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid(), nullable=True))
