"""The workspace columns (migration 0021): every row that holds a role, a binding, an approval,
a payment intent, an audit entry or a message copy carries the Slack team (and Enterprise Grid
org) it belongs to, stamped from billbot.tenancy when the row is made, by the ORM and by Core
inserts alike. Rows from single-workspace mode carry the team id `""`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, String
from sqlmodel import Field

from billbot import tenancy

TEAM_ID = 32  # Slack's team and enterprise ids are short (T0123ABCD, E0123ABCD)


def team_column() -> Any:
    return Field(default_factory=tenancy.team_key,
                 sa_column=Column(String(TEAM_ID), nullable=False, server_default="",
                                  default=tenancy.team_key))


def enterprise_column() -> Any:
    return Field(default_factory=tenancy.enterprise_key,
                 sa_column=Column(String(TEAM_ID), nullable=True,
                                  default=tenancy.enterprise_key))
