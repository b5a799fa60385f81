"""Slack user groups in the Slack layer: `subteam_members_changed` applied to the members'
cache, and the first-use fetch the policy's checks rely on (services/usergroups.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from billbot.runtime import Billbot
from billbot.services import usergroups
from billbot.services.policy_state import group_ids
from billbot.services.usergroups import MembersChanged

logger = logging.getLogger("billbot.usergroups")


def _users(value: Any) -> frozenset[str]:
    return frozenset(u for u in value if isinstance(u, str)) if isinstance(value, list) \
        else frozenset()


def _stamp(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_change(event: dict[str, Any], *, team_id: str | None = None) -> MembersChanged | None:
    """The event as billbot uses it; None when it lacks what a change needs."""
    group, team = event.get("subteam_id"), event.get("team_id") or team_id
    update, previous = _stamp(event.get("date_update")), _stamp(event.get("date_previous_update"))
    if not (isinstance(group, str) and isinstance(team, str) and update is not None):
        return None
    return MembersChanged(team_id=team, group_id=group, added=_users(event.get("added_users")),
                          removed=_users(event.get("removed_users")), date_update=update,
                          date_previous_update=previous if previous is not None else -1)


async def members_changed(bot: Billbot, event: dict[str, Any], *,
                          team_id: str | None = None) -> None:
    """Apply the delta at once (a removed member loses the group's rights now), then re-read
    the whole group when the event shows that one was missed."""
    change = read_change(event, team_id=team_id)
    if change is None:
        logger.warning("subteam_members_changed without a group, team or date: ignored")
        return
    stale = await bot.db(lambda s: usergroups.apply_members_changed(s, change, at=bot.clock.now()))
    if stale:
        await usergroups.refresh_group(bot.engine, bot.slack, bot.clock, team_id=change.team_id,
                                       group_id=change.group_id)


async def workspace_team_id(bot: Billbot) -> str | None:
    """This installation's workspace id (auth.test, remembered)."""
    team = bot.app_identity.get("team_id")
    if team is None:
        try:
            answer = await bot.slack.auth_test()
        except Exception:
            logger.warning("auth.test failed: the workspace id is unknown")
            return None
        team = answer.get("team_id")
        if not isinstance(team, str):
            return None
        bot.app_identity["team_id"] = team
    return team


async def ensure_groups(bot: Billbot, group_ids: Iterable[str], *,
                        team_id: str | None = None) -> str | None:
    """Fetch, on first use, the groups among `group_ids` (user ids are skipped); returns the
    team id the cache is keyed by, for `usergroups.members_of_group`."""
    team = team_id or await workspace_team_id(bot)
    if team is not None:
        await usergroups.ensure_groups(bot.engine, bot.slack, bot.clock, team_id=team,
                                       group_ids=group_ids)
    return team


async def ensure_policy_groups(bot: Billbot) -> None:
    """Fetch, on first use, the user groups the approval policy's rules name."""
    wanted = group_ids(bot.policy)
    if wanted:
        await ensure_groups(bot, wanted)


__all__ = ["ensure_groups", "ensure_policy_groups", "members_changed", "read_change", "workspace_team_id"]
