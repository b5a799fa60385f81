"""Tables of what billbot shows each person (migration 0010): the direct-message cards it sent
(one per person, bill and state of waiting, across retries and replicas) and who has opened
App Home (whose Home view to refresh when a bill in it changes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from .columns import BILL_ID_TYPE, ID, _at, _json


class DmCard(SQLModel, table=True):
    """A bill sent to one person in their DM because it waits on them (`kind`: approve, pay).
    The row is claimed before the post ('sending'), so a retry or another replica never sends
    the same card twice; its message then lives in slack_message and bill_copy like any other
    copy of the bill."""

    __tablename__ = "dm_card"
    __table_args__ = (Index("ix_dm_card_message", "channel_id", "ts"),)

    user_id: str = Field(primary_key=True, max_length=ID)
    company_id: str = Field(primary_key=True, max_length=ID)
    connection_id: str = Field(primary_key=True, max_length=ID)
    bill_key: str = Field(primary_key=True, max_length=ID)  # sha256 of the bill id
    kind: str = Field(primary_key=True, max_length=16)
    bill_id: str = Field(default=None, sa_type=BILL_ID_TYPE, nullable=False)
    binding_channel: str = Field(max_length=ID)  # the channel bound to the bill's company
    state: str = Field(default="sending", max_length=16)
    channel_id: str | None = Field(default=None, max_length=ID)
    ts: str | None = Field(default=None, max_length=ID)
    claimed_at: datetime = _at()


class HomeViewer(SQLModel, table=True):
    """Someone who opened billbot's Home tab: which bills their published view shows, and the
    page of each section they are on."""

    __tablename__ = "home_viewer"

    user_id: str = Field(primary_key=True, max_length=ID)
    opened_at: datetime = _at()
    published_at: datetime | None = _at(nullable=True)
    bill_keys: list[str] = _json()
    pages: dict[str, Any] = _json()
    # bill key -> version token of the figures the view shows (migration 0013)
    shown: dict[str, str] = Field(default_factory=dict, sa_column=Column(
        JSON(), nullable=False, server_default="{}"))


__all__ = ["DmCard", "HomeViewer"]
