"""The Slack workspace billbot is acting for, carried with the work (a context variable: it
follows each request into its listener task and its worker threads).

In single-workspace mode (`SLACK_BOT_TOKEN`) nothing sets it and every row belongs to the one
workspace, stored as the team id `""`. In OAuth mode the Bolt app sets it for each request from
the request's team, and background work sets it for each binding it visits; storage stamps new
rows with it and the queries that find roles, bindings and companies filter by it, so no
request of one workspace reaches another's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

SINGLE_WORKSPACE = ""  # the team id of rows made in single-workspace mode


@dataclass(frozen=True)
class Workspace:
    team_id: str
    enterprise_id: str | None = None
    bot_token: str | None = None  # the workspace's bot token (OAuth mode), for Web API calls
    # True for the workspace a Slack request came from: it then bounds what the request may
    # see. Background work enters each binding's workspace only to act as it (False).
    from_request: bool = False


_acting: ContextVar[Workspace | None] = ContextVar("billbot_workspace", default=None)


def current() -> Workspace | None:
    """The workspace this work acts for; None outside any (single-workspace mode, or
    background work before it picked a binding)."""
    return _acting.get()


def request_scope() -> Workspace | None:
    """The workspace that bounds what may be seen: a request's own, else None (all)."""
    acting = _acting.get()
    return acting if acting is not None and acting.from_request else None


def team_key() -> str:
    """The team id new rows are stamped with."""
    acting = _acting.get()
    return acting.team_id if acting is not None else SINGLE_WORKSPACE


def enterprise_key() -> str | None:
    acting = _acting.get()
    return acting.enterprise_id if acting is not None else None


def bot_token() -> str | None:
    acting = _acting.get()
    return acting.bot_token if acting is not None else None


def enter(workspace: Workspace | None) -> None:
    """Act for `workspace` for the rest of the current task (or thread)."""
    _acting.set(workspace)


@contextmanager
def acting_for(workspace: Workspace | None) -> Iterator[None]:
    token = _acting.set(workspace)
    try:
        yield
    finally:
        _acting.reset(token)
