"""The cache of Slack user groups' members (migration 0020): policies name a group (`S…`) as
approvers, and a click is checked against this copy, never against Slack mid-request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from .types import UTCDateTime

_ID = 64  # Slack ids (tables.ID; not imported: tables.py imports this module)


class UsergroupMembers(SQLModel, table=True):
    """One group's members as billbot last learned them: filled by `usergroups.users.list` on
    first use and kept current by `subteam_members_changed`. `version` grows with every write,
    so a list fetched from Slack never overwrites an event applied while the fetch was out."""

    __tablename__ = "usergroup_members"

    team_id: str = Field(primary_key=True, max_length=_ID)
    group_id: str = Field(primary_key=True, max_length=_ID)
    user_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON(), nullable=False))
    # The last write, from Slack's list or from an event.
    fetched_at: datetime = Field(default=None, sa_column=Column(UTCDateTime(), nullable=False))
    # Slack's date_update (seconds) of the last event applied: an older event changes nothing.
    date_update: int | None = Field(default=None)
    version: int = Field(default=1)


__all__ = ["UsergroupMembers"]
