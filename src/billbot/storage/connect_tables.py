"""Tables of `/bills connect` (migration 0014): the Codat companies billbot created or bound
(one Codat key sees every customer's companies, so only these are offered), and the watch on
each connection billbot binds: a row the background tick claims, so it survives restarts and
runs on one replica at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from .scoping import team_column
from .types import UTCDateTime

_ID = 64


def _at(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class KnownCompany(SQLModel, table=True):
    """A Codat company this workspace created (`/bills connect`'s modal) or bound."""

    __tablename__ = "known_company"

    company_id: str = Field(primary_key=True, max_length=_ID)
    name: str = Field(max_length=255)
    origin: str = Field(max_length=16)  # created | bound
    recorded_by: str = Field(max_length=_ID)
    recorded_at: datetime = _at()
    team_id: str = team_column()  # the workspace that may offer and bind it (migration 0021)


class ConnectWatch(SQLModel, table=True):
    """One connection billbot watches. `phase`: waiting (for Linked, then bind and post the
    first digest), linked (watched for a disconnection), disconnected (digests paused).
    `view_id` makes a modal's double submission create one company and connection."""

    __tablename__ = "connect_watch"
    __table_args__ = (
        UniqueConstraint("view_id", name="uq_connect_watch_view"),
        Index("ix_connect_watch_due", "next_check_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    view_id: str | None = Field(default=None, max_length=_ID)
    channel_id: str = Field(max_length=_ID)
    company_id: str | None = Field(default=None, max_length=_ID)
    connection_id: str | None = Field(default=None, max_length=_ID)
    requested_by: str = Field(max_length=_ID)
    phase: str = Field(max_length=16)  # creating | waiting | linked | disconnected
    codat_api: str = Field(default="sync", max_length=8)  # the binding's API (migration 0019)
    last_status: str | None = Field(default=None, max_length=16)
    checks: int = Field(default=0)
    next_check_at: datetime = _at()
    claimed_until: datetime | None = _at(nullable=True)
    created_at: datetime = _at()
    updated_at: datetime = _at()
    team_id: str = team_column()  # the workspace it binds in (migration 0021)
