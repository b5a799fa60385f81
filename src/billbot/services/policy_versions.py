"""The approval policy's versions in the database: the newest decides, every change is a new
version (audited with its author), and each replica re-reads the newest within a minute.

At start: with BILLBOT_POLICY_FILE, the file's text becomes a new version when it differs
from the newest; without one, the rule made from BILLBOT_APPROVERS/BILLBOT_DUAL_APPROVAL_OVER
does (a version changed in Slack, source `db`, stays until changed again).

Each workspace keeps its own versions (`team_id`; '' is single-workspace mode): every function
reads and writes only the given workspace's rows, and numbers count per workspace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from billbot import tenancy
from billbot.domain.approval_rules import ApprovalPolicy, from_json, to_json
from billbot.storage.audit import record_audit
from billbot.storage.policy_tables import PolicyVersion
from billbot.storage.upsert import insert_if_absent

# Two replicas writing a version at once collide on the number; the loser retries this often.
_ATTEMPTS = 5


@dataclass(frozen=True)
class ActivePolicy:
    number: int
    source: str  # file | env | db
    policy: ApprovalPolicy
    text: str
    author: str
    created_at: datetime


def _active(row: PolicyVersion) -> ActivePolicy:
    return ActivePolicy(row.number, row.source, from_json(json.loads(row.policy_json)), row.text,
                        row.author, row.created_at)


def _of(team_id: str) -> Any:
    return select(PolicyVersion).where(col(PolicyVersion.team_id) == team_id)


def newest(session: Session, team_id: str) -> ActivePolicy | None:
    row = session.exec(_of(team_id).order_by(col(PolicyVersion.number).desc()).limit(1)).first()
    return _active(row) if row is not None else None


def newest_of_each(session: Session) -> dict[str, ActivePolicy]:
    """Every workspace's newest version, in one query."""
    top = (select(PolicyVersion.team_id, func.max(PolicyVersion.number).label("number"))
           .group_by(col(PolicyVersion.team_id)).subquery())
    rows = session.exec(select(PolicyVersion).join(top, (col(PolicyVersion.team_id)
                                                         == top.c.team_id)
                                                   & (col(PolicyVersion.number)
                                                      == top.c.number))).all()
    return {row.team_id: _active(row) for row in rows}


def versions(session: Session, team_id: str, limit: int = 10) -> list[ActivePolicy]:
    """The workspace's newest versions first."""
    rows = session.exec(_of(team_id).order_by(col(PolicyVersion.number).desc())
                        .limit(limit)).all()
    return [_active(r) for r in rows]


@contextmanager
def _audited_in(team_id: str) -> Iterator[None]:
    """Audit rows carry the acting workspace: the version's, whoever runs this."""
    if tenancy.team_key() == team_id:
        yield
        return
    with tenancy.acting_for(tenancy.Workspace(team_id) if team_id else None):
        yield


def _insert(session: Session, team_id: str, number: int, *, source: str,
            policy: ApprovalPolicy, text: str | None, author: str, at: datetime,
            note: str | None, request_id: str | None) -> ActivePolicy | None:
    """The workspace's version `number`, audited with its author; None when it is taken."""
    body = json.dumps(to_json(policy), sort_keys=True)
    if not insert_if_absent(session, PolicyVersion, {
        "team_id": team_id, "number": number, "source": source,
        "text": text if text is not None else body, "policy_json": body, "author": author,
        "note": note, "created_at": at,
    }):
        return None
    with _audited_in(team_id):
        record_audit(session, at=at, actor=author, action="policy.version_created",
                     request_id=request_id,
                     detail={"version": number, "source": source, "note": note,
                             "rules": [r.name for r in policy.rules]})
    created = session.get(PolicyVersion, (team_id, number))
    assert created is not None
    return _active(created)


def record(session: Session, team_id: str, *, source: str, policy: ApprovalPolicy,
           text: str | None, author: str, at: datetime, note: str | None = None,
           request_id: str | None = None) -> ActivePolicy:
    """A new version of the workspace, numbered after its newest; audited with its author."""
    for _ in range(_ATTEMPTS):
        top = session.exec(select(func.max(PolicyVersion.number))
                           .where(col(PolicyVersion.team_id) == team_id)).one()
        created = _insert(session, team_id, (top or 0) + 1, source=source, policy=policy,
                          text=text, author=author, at=at, note=note, request_id=request_id)
        if created is not None:
            return created
    raise RuntimeError("could not number a new policy version")


def record_after(session: Session, team_id: str, base: int, *, source: str,
                 policy: ApprovalPolicy, text: str | None, author: str, at: datetime,
                 note: str | None = None, request_id: str | None = None) -> ActivePolicy | None:
    """The workspace's version base + 1, only while its version `base` is the newest: an
    edit made from version `base` never overwrites a version saved since (None then;
    nothing written)."""
    return _insert(session, team_id, base + 1, source=source, policy=policy, text=text,
                   author=author, at=at, note=note, request_id=request_id)


def version(session: Session, team_id: str, number: int) -> ActivePolicy | None:
    row = session.get(PolicyVersion, (team_id, number))
    return _active(row) if row is not None else None


def sync_at_start(session: Session, *, source: str, policy: ApprovalPolicy, text: str | None,
                  at: datetime) -> ActivePolicy:
    """Make the configured policy single-workspace mode's newest version unless it already
    is (or, without a file, unless admins changed it in Slack since)."""
    team_id = tenancy.SINGLE_WORKSPACE
    current = newest(session, team_id)
    if current is not None and current.policy == policy:
        if source == "env" and current.source in ("env", "db"):
            return current
        if source == "file" and current.source == "file" and current.text == text:
            return current
    return record(session, team_id, source=source, policy=policy, text=text, author="config",
                  at=at, note="at start" if source == "env" else "BILLBOT_POLICY_FILE at start")


__all__ = ["ActivePolicy", "newest", "newest_of_each", "record", "record_after", "sync_at_start",
           "version", "versions"]
