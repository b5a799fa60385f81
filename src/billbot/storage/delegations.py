"""Delegation rows: who covers whom at an instant, and ending them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, update
from sqlmodel import Session, col, select

from .away_tables import Delegation


def _live(at: datetime) -> tuple[ColumnElement[bool], ...]:
    return (col(Delegation.starts_at) <= at, col(Delegation.ends_at) > at,
            col(Delegation.ended_at).is_(None))


def absentees_covered_by(session: Session, delegate_id: str, at: datetime) -> list[str]:
    """Whom `delegate_id` covers at `at` (oldest delegation first)."""
    rows = session.exec(select(Delegation).where(
        Delegation.delegate_id == delegate_id, *_live(at))
        .order_by(col(Delegation.created_at), col(Delegation.id))).all()
    return list(dict.fromkeys(r.absent_id for r in rows))


def delegate_of(session: Session, absent_id: str, at: datetime) -> str | None:
    """Who covers `absent_id` at `at` (the newest delegation wins), or None."""
    row = session.exec(select(Delegation).where(Delegation.absent_id == absent_id, *_live(at))
                       .order_by(col(Delegation.created_at).desc(),
                                 col(Delegation.id).desc())).first()
    return row.delegate_id if row is not None else None


def add(session: Session, *, absent_id: str, delegate_id: str, first_day: date, last_day: date,
        starts_at: datetime, ends_at: datetime, actor: str, at: datetime) -> Delegation:
    row = Delegation(absent_id=absent_id, delegate_id=delegate_id, first_day=first_day,
                     last_day=last_day, starts_at=starts_at, ends_at=ends_at, created_by=actor,
                     created_at=at)
    session.add(row)
    session.flush()
    return row


def open_of(session: Session, absent_id: str, at: datetime) -> list[Delegation]:
    """`absent_id`'s delegations running now or still to come."""
    return list(session.exec(select(Delegation).where(
        Delegation.absent_id == absent_id, col(Delegation.ends_at) > at,
        col(Delegation.ended_at).is_(None)).order_by(col(Delegation.starts_at))).all())


def all_open(session: Session, at: datetime) -> list[Delegation]:
    """Every delegation running now or still to come, soonest first."""
    return list(session.exec(select(Delegation).where(
        col(Delegation.ends_at) > at, col(Delegation.ended_at).is_(None))
        .order_by(col(Delegation.starts_at), col(Delegation.id))).all())


def end(session: Session, ids: list[int], *, actor: str, at: datetime) -> int:
    """End these delegations now (a conditional update: ending twice ends once)."""
    if not ids:
        return 0
    result = session.exec(update(Delegation).where(
        col(Delegation.id).in_(ids), col(Delegation.ended_at).is_(None))
        .values(ended_at=at, ended_by=actor))
    return int(result.rowcount or 0)


__all__ = ["absentees_covered_by", "add", "all_open", "delegate_of", "end", "open_of"]
