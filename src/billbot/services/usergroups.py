"""Slack user groups as approvers: who is in a group, as billbot's cache knows it.

Checks read the cache (`members_of_group`), never Slack mid-click. The cache is filled from
`usergroups.users.list` on first use (`ensure_groups`, `refresh_group`) and kept current by
`subteam_members_changed` (`apply_members_changed`). A group billbot has never fetched, or
one Slack no longer knows, has no members: nobody approves through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from billbot.clock import Clock
from billbot.storage.db import session_scope
from billbot.storage.upsert import insert_if_absent
from billbot.storage.usergroup_tables import UsergroupMembers

logger = logging.getLogger("billbot.usergroups")

# Slack's answers that mean the group is gone (deleted, disabled) rather than a failed call.
_GONE = frozenset({"no_such_subteam", "subteam_not_found"})


def is_group_id(value: str) -> bool:
    """Slack user group ids start with S (user ids with U or W)."""
    return len(value) > 1 and value[0] == "S" and value[1:].isalnum() and value.isupper()


def members_of_group(session: Session, team_id: str, group_id: str) -> frozenset[str]:
    """The group's members as cached; empty when billbot has not fetched the group yet."""
    row = session.get(UsergroupMembers, (team_id, group_id))
    return frozenset(row.user_ids) if row else frozenset()


def is_cached(session: Session, team_id: str, group_id: str) -> bool:
    return session.get(UsergroupMembers, (team_id, group_id)) is not None


@dataclass(frozen=True)
class MembersChanged:
    """A `subteam_members_changed` event, read from Slack's payload."""

    team_id: str
    group_id: str
    added: frozenset[str]
    removed: frozenset[str]
    date_update: int
    date_previous_update: int


def apply_members_changed(session: Session, change: MembersChanged, *, at: datetime) -> bool:
    """Apply the event's delta to a cached group. True when billbot should also re-read the
    whole list from Slack: the event does not follow the last one applied (one was missed, or
    the cache came from a list whose date Slack does not give). A group never fetched is left
    alone (its first use fetches it whole); an older event changes nothing. Slack dates
    changes in seconds, so an event stamped like the last one is applied (two changes in one
    second); Slack's retries of one delivery are dropped before this (`first_delivery`)."""
    row = session.get(UsergroupMembers, (change.team_id, change.group_id), with_for_update=True)
    if row is None:
        return False
    if row.date_update is not None and change.date_update < row.date_update:
        return False
    contiguous = row.date_update is not None and row.date_update == change.date_previous_update
    members = [u for u in row.user_ids if u not in change.removed]
    members += sorted(u for u in change.added - change.removed if u not in members)
    row.user_ids = members
    row.date_update = change.date_update
    row.fetched_at = at
    row.version += 1
    session.add(row)
    return not contiguous


def _version(session: Session, team_id: str, group_id: str) -> int | None:
    row = session.get(UsergroupMembers, (team_id, group_id))
    return row.version if row else None


def store_fetched(session: Session, *, team_id: str, group_id: str, users: Iterable[str],
                  at: datetime, seen_version: int | None) -> bool:
    """Store a list fetched from Slack unless the row changed since `seen_version` was read
    (an event applied meanwhile is newer than the list). True when stored."""
    users = list(dict.fromkeys(users))
    if seen_version is None:
        return insert_if_absent(session, UsergroupMembers, {
            "team_id": team_id, "group_id": group_id, "user_ids": users, "fetched_at": at,
            "date_update": None, "version": 1})
    result = session.exec(
        update(UsergroupMembers)
        .where(col(UsergroupMembers.team_id) == team_id,
               col(UsergroupMembers.group_id) == group_id,
               col(UsergroupMembers.version) == seen_version)
        .values(user_ids=users, fetched_at=at, version=seen_version + 1))
    return bool(result.rowcount)


async def fetch_members(slack: AsyncWebClient, group_id: str) -> list[str] | None:
    """`usergroups.users.list`; [] when Slack says the group is gone, None when the call
    failed (the cache is kept as it is)."""
    try:
        answer = await slack.usergroups_users_list(usergroup=group_id)
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        if error in _GONE:
            logger.warning("user group %s is gone (%s): it has no members now", group_id, error)
            return []
        logger.warning("usergroups.users.list failed for %s: %s", group_id, error)
        return None
    except Exception:  # a timeout or a broken connection: try again on next use
        logger.warning("usergroups.users.list failed for %s", group_id, exc_info=True)
        return None
    users = answer.get("users")
    return [str(u) for u in users if isinstance(u, str)] if isinstance(users, list) else None


async def refresh_group(engine: Engine, slack: AsyncWebClient, clock: Clock, *, team_id: str,
                        group_id: str) -> frozenset[str]:
    """Re-read the group from Slack into the cache; the members cached afterwards. When an
    event lands while the list is out, the event's state is kept (it is the newer)."""
    def read() -> int | None:
        with session_scope(engine, read_only=True) as session:
            return _version(session, team_id, group_id)

    seen = await asyncio.to_thread(read)
    users = await fetch_members(slack, group_id)

    def write() -> frozenset[str]:
        with session_scope(engine) as session:
            if users is not None:
                store_fetched(session, team_id=team_id, group_id=group_id, users=users,
                              at=clock.now(), seen_version=seen)
            return members_of_group(session, team_id, group_id)

    return await asyncio.to_thread(write)


async def ensure_groups(engine: Engine, slack: AsyncWebClient, clock: Clock, *, team_id: str,
                        group_ids: Iterable[str]) -> None:
    """Fetch the groups the cache does not hold yet (first use); cached ones are kept current
    by events and are not re-read."""
    wanted = sorted({g for g in group_ids if is_group_id(g)})

    def missing() -> list[str]:
        with session_scope(engine, read_only=True) as session:
            return [g for g in wanted if not is_cached(session, team_id, g)]

    for group_id in await asyncio.to_thread(missing):
        await refresh_group(engine, slack, clock, team_id=team_id, group_id=group_id)


__all__ = ["MembersChanged", "apply_members_changed", "ensure_groups", "fetch_members",
           "is_cached", "is_group_id", "members_of_group", "refresh_group", "store_fetched"]
