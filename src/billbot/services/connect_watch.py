"""The companies billbot created or bound, and the watch on each connection it binds.

A watch is a database row, so it survives restarts; a replica works on it only after a
conditional UPDATE gave it a lease, so one replica at a time checks a connection and a
change of status is acted on once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from billbot import tenancy
from billbot.storage.audit import record_audit
from billbot.storage.connect_tables import ConnectWatch, KnownCompany
from billbot.storage.upsert import insert_if_absent

LEASE = timedelta(minutes=2)  # a replica that died holding a watch gives it up after this
FIRST_CHECK = timedelta(seconds=5)
MAX_WAIT = timedelta(minutes=5)  # the backoff's ceiling while waiting for Linked
LINKED_CHECK = timedelta(minutes=5)  # how often a linked connection is checked
GIVE_UP_AFTER = timedelta(days=7)  # a link page nobody completed: stop polling, say so
WAITING, LINKED, DISCONNECTED, CREATING = "waiting", "linked", "disconnected", "creating"
EXPIRED = "expired"


@dataclass(frozen=True)
class Watch:
    id: int
    channel_id: str
    company_id: str
    connection_id: str
    requested_by: str
    phase: str
    last_status: str | None
    checks: int
    waiting_since: datetime | None = None
    codat_api: str = "sync"  # the API the binding made when it is Linked uses
    team_id: str = tenancy.SINGLE_WORKSPACE  # the workspace whose channel it binds


def backoff(checks: int) -> timedelta:
    """The wait before the next check of a connection not yet Linked: doubling, capped."""
    wait: timedelta = FIRST_CHECK * (2 ** min(checks, 16))
    return min(wait, MAX_WAIT)


def record_company(session: Session, *, company_id: str, name: str, origin: str, actor: str,
                   at: datetime) -> None:
    insert_if_absent(session, KnownCompany, {
        "company_id": company_id, "name": name[:255], "origin": origin, "recorded_by": actor,
        "recorded_at": at})


def known_companies(session: Session) -> list[tuple[str, str]]:
    rows = session.exec(select(KnownCompany).where(KnownCompany.team_id == tenancy.team_key())
                        .order_by(col(KnownCompany.name))).all()
    return [(row.company_id, row.name) for row in rows]


def is_known(session: Session, company_id: str) -> bool:
    row = session.get(KnownCompany, company_id)  # only this workspace's companies
    return row is not None and row.team_id == tenancy.team_key()


def start_creation(session: Session, *, view_id: str, channel_id: str, actor: str,
                   at: datetime, codat_api: str = "sync") -> bool:
    """Claim a modal's submission (its view id); False: it was submitted already."""
    return insert_if_absent(session, ConnectWatch, {
        "view_id": view_id, "channel_id": channel_id, "requested_by": actor,
        "codat_api": codat_api,
        "phase": CREATING, "checks": 0, "next_check_at": at + LEASE, "created_at": at,
        "updated_at": at})


def creation_failed(session: Session, *, view_id: str) -> None:
    """Codat refused: the submission may be tried again."""
    row = session.exec(select(ConnectWatch).where(col(ConnectWatch.view_id) == view_id)).first()
    if row is not None and row.phase == CREATING:
        session.delete(row)


def created_by_view(session: Session, *, view_id: str) -> tuple[str, str] | None:
    """The company and connection a form's submission created, once it has."""
    row = session.exec(select(ConnectWatch).where(col(ConnectWatch.view_id) == view_id)).first()
    if row is None or row.company_id is None or row.connection_id is None:
        return None
    return row.company_id, row.connection_id


def start_waiting(session: Session, *, view_id: str, company_id: str, connection_id: str,
                  at: datetime) -> None:
    row = session.exec(select(ConnectWatch).where(col(ConnectWatch.view_id) == view_id)).one()
    row.company_id, row.connection_id = company_id, connection_id
    row.phase, row.last_status = WAITING, "PendingAuth"
    row.next_check_at, row.updated_at = at + FIRST_CHECK, at
    session.add(row)
    record_audit(session, at=at, actor=row.requested_by, action="connection.created",
                 company_id=company_id, connection_id=connection_id, request_id=None,
                 detail={"channel_id": row.channel_id})


def watch_bound(session: Session, *, channel_id: str, company_id: str, connection_id: str,
                actor: str, status: str, at: datetime) -> None:
    """A channel bound by hand (`/bills connect <company> <connection>`) is watched too."""
    session.exec(update(ConnectWatch)
                 .where(col(ConnectWatch.channel_id) == channel_id,
                        col(ConnectWatch.phase) != CREATING)
                 .values(phase="ended", updated_at=at))
    linked = status == "Linked"
    session.add(ConnectWatch(channel_id=channel_id, company_id=company_id,
                             connection_id=connection_id, requested_by=actor,
                             phase=LINKED if linked else WAITING, last_status=status, checks=0,
                             next_check_at=at + (LINKED_CHECK if linked else FIRST_CHECK),
                             created_at=at, updated_at=at))


def watch_configured(session: Session, *, channel_id: str, company_id: str,
                     connection_id: str, at: datetime) -> None:
    """The binding made from configuration: its company is known and its connection watched
    (one row however many replicas start at once: keyed like a form's submission)."""
    record_company(session, company_id=company_id, name=company_id, origin="bound",
                   actor="config", at=at)
    key = "config:" + hashlib.sha256(
        f"{channel_id}/{company_id}/{connection_id}".encode()).hexdigest()[:40]
    insert_if_absent(session, ConnectWatch, {
        "view_id": key, "channel_id": channel_id, "company_id": company_id,
        "connection_id": connection_id, "requested_by": "config", "phase": LINKED,
        "last_status": "Linked", "checks": 0, "next_check_at": at + LINKED_CHECK,
        "created_at": at, "updated_at": at})


def due(session: Session, *, now: datetime, limit: int = 50) -> list[int]:
    rows = session.exec(
        select(ConnectWatch.id)
        .where(col(ConnectWatch.phase).in_((WAITING, LINKED, DISCONNECTED)),
               col(ConnectWatch.next_check_at) <= now,
               or_(col(ConnectWatch.claimed_until).is_(None), col(ConnectWatch.claimed_until) < now))
        .order_by(col(ConnectWatch.next_check_at)).limit(limit)).all()
    return [int(i) for i in rows if i is not None]


def claim(session: Session, *, watch_id: int, now: datetime) -> Watch | None:
    """Lease one due watch to this replica; None when another has it or it is not due."""
    result = session.exec(
        update(ConnectWatch)
        .where(col(ConnectWatch.id) == watch_id,
               col(ConnectWatch.phase).in_((WAITING, LINKED, DISCONNECTED)),
               col(ConnectWatch.next_check_at) <= now,
               or_(col(ConnectWatch.claimed_until).is_(None), col(ConnectWatch.claimed_until) < now))
        .values(claimed_until=now + LEASE))
    if result.rowcount != 1:
        return None
    row = session.get(ConnectWatch, watch_id)
    if row is None or row.company_id is None or row.connection_id is None:
        return None
    return Watch(watch_id, row.channel_id, row.company_id, row.connection_id, row.requested_by,
                 row.phase, row.last_status, row.checks, row.created_at, row.codat_api,
                 row.team_id)


def settle(session: Session, *, watch: Watch, phase: str, status: str, at: datetime) -> None:
    """Record a check's outcome, give the lease back and schedule the next check."""
    row = session.get(ConnectWatch, watch.id)
    if row is None:
        return
    checks = watch.checks + 1 if phase == watch.phase else 0
    wait = LINKED_CHECK if phase == LINKED else backoff(checks)
    row.phase, row.last_status, row.checks = phase, status, checks
    row.next_check_at, row.claimed_until, row.updated_at = at + wait, None, at
    session.add(row)
    if phase != watch.phase:
        record_audit(session, at=at, actor="billbot", action=f"connection.{phase}",
                     company_id=watch.company_id, connection_id=watch.connection_id,
                     request_id=None, detail={"channel_id": watch.channel_id, "status": status})


def paused(session: Session, *, channel_id: str, company_id: str, connection_id: str) -> bool:
    """Digests pause while the channel's connection is disconnected."""
    row = session.exec(select(ConnectWatch.id).where(
        col(ConnectWatch.channel_id) == channel_id, col(ConnectWatch.company_id) == company_id,
        col(ConnectWatch.connection_id) == connection_id,
        col(ConnectWatch.phase) == DISCONNECTED)).first()
    return row is not None


__all__ = ["DISCONNECTED", "EXPIRED", "GIVE_UP_AFTER", "LINKED", "WAITING", "Watch", "backoff",
           "claim", "created_by_view", "creation_failed", "due", "is_known", "known_companies",
           "paused", "record_company", "settle", "start_creation", "start_waiting", "watch_bound",
           "watch_configured"]
