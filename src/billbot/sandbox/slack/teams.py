"""The workspaces one served stand-in hosts: the app is installed in each, every token belongs
to exactly one of them, and a Web API call acts in the workspace that issued its token (as
Slack routes a call by its token)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from billbot.sandbox.slack.workspace import SlackWorkspace


class Teams:
    def __init__(self, primary: SlackWorkspace) -> None:
        self._lock = threading.Lock()
        self._all: list[SlackWorkspace] = [primary]

    @property
    def primary(self) -> SlackWorkspace:
        return self._all[0]

    def add(self, workspace: SlackWorkspace) -> None:
        with self._lock:
            if any(w.team_id == workspace.team_id for w in self._all):
                raise ValueError(f"team {workspace.team_id} is already hosted here")
            self._all.append(workspace)

    def all(self) -> list[SlackWorkspace]:
        with self._lock:
            return list(self._all)

    def by_team(self, team_id: str | None) -> SlackWorkspace | None:
        return next((w for w in self.all() if w.team_id == team_id), None)

    def for_token(self, token: str | None) -> SlackWorkspace | None:
        """The workspace that issued `token` (bot or app-level), or None."""
        if not token:
            return None
        return next((w for w in self.all() if w.credentials.kind(token) is not None), None)

    def for_response_url(self, url_id: str) -> SlackWorkspace | None:
        return next((w for w in self.all() if w.has_response_url(url_id)), None)
