"""User groups (Slack's "subteams", ids `S...`) and the `subteam_members_changed` event Slack
sends when a group's members change. Approval policies name user groups.

    group = ws.usergroups.add("approvers", "Bill approvers", ["U1", "U2"])
    event = ws.usergroups.set_members(group.id, ["U2", "U3"])
    await driver.send_event(event)      # signed over HTTP, or over Socket Mode
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from billbot.clock import Clock
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.ids import IdSource
from billbot.sandbox.slack.model import JsonDict


@dataclass
class Usergroup:
    id: str
    handle: str
    name: str
    users: list[str]
    date_create: int
    date_update: int
    enabled: bool = True
    description: str = ""
    history: list[JsonDict] = field(default_factory=list)  # the events its changes sent

    def to_slack(self, team_id: str) -> JsonDict:
        """As usergroups.list shows a group."""
        return {
            "id": self.id, "team_id": team_id, "is_usergroup": True, "is_subteam": True,
            "name": self.name, "description": self.description, "handle": self.handle,
            "is_external": False, "date_create": self.date_create,
            "date_update": self.date_update, "date_delete": 0 if self.enabled else
            self.date_update, "auto_type": None, "created_by": "USLACKBOT",
            "updated_by": "USLACKBOT", "deleted_by": None,
            "prefs": {"channels": [], "groups": []}, "user_count": len(self.users),
        }


class UsergroupStore:
    def __init__(self, lock: threading.RLock, ids: IdSource, clock: Clock,
                 team_id: str) -> None:
        self._lock, self._ids, self._clock, self._team_id = lock, ids, clock, team_id
        self._groups: dict[str, Usergroup] = {}

    def add(self, handle: str, name: str, users: Iterable[str], *,
            usergroup_id: str | None = None) -> Usergroup:
        with self._lock:
            now = int(self._clock.now().timestamp())
            group = Usergroup(usergroup_id or self._ids.object_id("S"), handle, name,
                              list(dict.fromkeys(users)), now, now)
            self._groups[group.id] = group
            return copy.deepcopy(group)

    def get(self, usergroup_id: str) -> Usergroup | None:
        with self._lock:
            found = self._groups.get(usergroup_id)
            return copy.deepcopy(found) if found else None

    def disable(self, usergroup_id: str) -> None:
        with self._lock:
            self._require(usergroup_id).enabled = False

    def set_members(self, usergroup_id: str, users: Iterable[str]) -> JsonDict:
        """Replace the group's members, as an admin does in Slack, and return the
        `subteam_members_changed` event Slack sends for it (for the driver to deliver)."""
        with self._lock:
            group = self._require(usergroup_id)
            new = list(dict.fromkeys(users))
            added = [u for u in new if u not in group.users]
            removed = [u for u in group.users if u not in new]
            previous = group.date_update
            group.users = new
            group.date_update = max(int(self._clock.now().timestamp()), previous)
            event: JsonDict = {
                "type": "subteam_members_changed", "subteam_id": group.id,
                "team_id": self._team_id, "date_previous_update": previous,
                "date_update": group.date_update,
                # Slack sends the counts as strings.
                "added_users": added, "added_users_count": str(len(added)),
                "removed_users": removed, "removed_users_count": str(len(removed)),
                "event_ts": self._ids.ts(),
            }
            group.history.append(copy.deepcopy(event))
            return event

    def members(self, usergroup_id: object, *, include_disabled: bool) -> list[str]:
        """usergroups.users.list's answer, refusing as Slack does."""
        with self._lock:
            group = self._groups.get(usergroup_id) if isinstance(usergroup_id, str) else None
            if group is None or (not group.enabled and not include_disabled):
                raise SlackApiRefusal("no_such_subteam")
            return list(group.users)

    def _require(self, usergroup_id: str) -> Usergroup:
        group = self._groups.get(usergroup_id)
        if group is None:
            raise LookupError(f"no user group {usergroup_id}")
        return group
