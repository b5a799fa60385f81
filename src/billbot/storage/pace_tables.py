"""slack_pace (migration 0025): each Slack rate-limit bucket's schedule, shared by replicas
on PostgreSQL (slack_slots.py). One row per bucket: its GCRA theoretical arrival time."""

from __future__ import annotations

from sqlalchemy import Column, Float, String
from sqlmodel import Field, SQLModel


class SlackPace(SQLModel, table=True):
    __tablename__ = "slack_pace"

    # "<workspace fingerprint>:<method>[:<channel>]" (slack_web/pacing.py; never a token).
    key: str = Field(sa_column=Column(String(160), primary_key=True))
    # Seconds since the epoch on the database's clock (so replicas' clocks need not agree).
    tat: float = Field(sa_column=Column(Float(), nullable=False))
