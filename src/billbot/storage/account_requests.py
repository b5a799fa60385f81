"""Claims of `/bills accounts add` (table bank_account_request): inserted before Codat is
called, first writer of a form wins; the answer is recorded once (a conditional update)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select, update

from .account_tables import BankAccountRequest
from .upsert import insert_if_absent


def claim(session: Session, values: dict[str, Any]) -> tuple[bool, BankAccountRequest]:
    """(True, row) when this call inserted the form's row; else (False, the row stored)."""
    won = insert_if_absent(session, BankAccountRequest, {**values, "state": "pending"})
    row = session.get(BankAccountRequest, values["form_id"], populate_existing=True)
    assert row is not None
    return won, row


def get(session: Session, form_id: str) -> BankAccountRequest | None:
    return session.get(BankAccountRequest, form_id, populate_existing=True)


def finish(session: Session, form_id: str, *, state: str, at: datetime,
           account_id: str | None = None, error: str | None = None) -> bool:
    """Record Codat's final answer once; False when another attempt recorded it first."""
    result = session.exec(
        update(BankAccountRequest)
        .where(col(BankAccountRequest.form_id) == form_id,
               col(BankAccountRequest.state) == "pending")
        .values(state=state, account_id=account_id, error=error, finished_at=at))
    return bool(result.rowcount == 1)


def created_for(session: Session, company_id: str, connection_id: str) -> list[BankAccountRequest]:
    """The accounts created through billbot for one company connection, oldest first."""
    return list(session.exec(
        select(BankAccountRequest)
        .where(col(BankAccountRequest.company_id) == company_id,
               col(BankAccountRequest.connection_id) == connection_id,
               col(BankAccountRequest.state) == "created")
        .order_by(col(BankAccountRequest.created_at))).all())


__all__ = ["claim", "created_for", "finish", "get"]
