"""credit_note_record (migration 0027): a supplier credit note billbot records through the
async API, claimed (unique per supplier and number) and committed before it is pushed, so a
double submit or a lost answer never records it twice (services/credit_notes.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, Text, UniqueConstraint, Uuid
from sqlmodel import Field, SQLModel

from .columns import FREE_ID, ID, _at, _money
from .scoping import team_column

CREDIT_NOTE_STATES = ("calling", "unknown", "succeeded", "failed")


class CreditNoteRecord(SQLModel, table=True):
    __tablename__ = "credit_note_record"
    __table_args__ = (
        UniqueConstraint("company_id", "connection_id", "supplier_id", "number",
                         name="uq_credit_note_record_number"),
    )

    id: uuid.UUID = Field(sa_column=Column(Uuid(), primary_key=True))
    company_id: str = Field(max_length=ID)
    connection_id: str = Field(max_length=ID)
    supplier_id: str = Field(max_length=FREE_ID)
    number: str = Field(max_length=ID)  # the supplier's credit note number
    amount: Decimal = _money(nullable=False)
    currency: str = Field(max_length=3)
    issue_date: date = Field(sa_column=Column(Date(), nullable=False))
    state: str = Field(max_length=16)
    push_operation_key: str | None = Field(default=None, max_length=ID)
    credit_note_id: str | None = Field(default=None, max_length=FREE_ID)
    actor: str = Field(max_length=ID)
    last_error: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    created_at: datetime = _at()
    sent_at: datetime | None = _at(nullable=True)
    team_id: str = team_column()
