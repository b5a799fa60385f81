"""Versions of the approval policy (migration 0023): every change is a new row, never an
update, so the audit can say under which version an approval counted and old versions can be
listed. Every replica polls the newest row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, Integer, String, Text
from sqlmodel import Field, SQLModel

from .scoping import TEAM_ID
from .types import UTCDateTime

POLICY_SOURCES = ("file", "env", "db")


def _at() -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))


class PolicyVersion(SQLModel, table=True):
    """One version. `source`: `file` (BILLBOT_POLICY_FILE as read), `env` (the one rule made
    from BILLBOT_APPROVERS / BILLBOT_DUAL_APPROVAL_OVER) or `db` (changed in Slack). `number`
    is the primary key: two replicas inserting the same next number collide, one wins."""

    __tablename__ = "policy_version"
    __table_args__ = (
        CheckConstraint("source IN ('file', 'env', 'db')", name="ck_policy_version_source"),
    )

    team_id: str = Field(sa_column=Column(String(TEAM_ID), primary_key=True, nullable=False,
                                          server_default=""))
    number: int = Field(sa_column=Column(Integer(), primary_key=True, autoincrement=False))
    source: str = Field(sa_column=Column(String(8), nullable=False))
    text: str = Field(sa_column=Column(Text(), nullable=False))  # the file, or the JSON form
    policy_json: str = Field(sa_column=Column(Text(), nullable=False))
    author: str = Field(sa_column=Column(String(64), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    created_at: datetime = _at()


__all__ = ["POLICY_SOURCES", "PolicyVersion"]
