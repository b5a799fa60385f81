"""The records a local Slack workspace holds, shaped so a web page can render them as JSON.

Every record has `to_dict()` giving plain JSON data. Messages and views also render themselves
as Slack does in Web API answers and interaction payloads (`to_slack()`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JsonDict = dict[str, Any]


@dataclass
class User:
    id: str
    name: str
    real_name: str
    is_bot: bool = False
    tz: str = "UTC"

    def to_slack(self, team_id: str) -> JsonDict:
        return {
            "id": self.id, "team_id": team_id, "name": self.name, "real_name": self.real_name,
            "deleted": False, "is_bot": self.is_bot, "tz": self.tz,
            "profile": {"real_name": self.real_name, "display_name": self.name},
        }

    def to_dict(self) -> JsonDict:
        return {"id": self.id, "name": self.name, "real_name": self.real_name,
                "is_bot": self.is_bot, "tz": self.tz}


@dataclass
class Channel:
    id: str
    name: str
    is_im: bool = False
    # None: a public channel everyone is in. A set: only these users (ephemerals check it).
    members: set[str] | None = None
    bot_member: bool = True
    is_archived: bool = False

    def has_member(self, user_id: str) -> bool:
        return self.members is None or user_id in self.members

    def to_slack(self, created: int) -> JsonDict:
        return {
            "id": self.id, "name": self.name, "is_channel": not self.is_im, "is_im": self.is_im,
            "is_private": False, "is_archived": self.is_archived,
            "is_member": self.is_im or self.bot_member, "created": created,
        }

    def to_dict(self) -> JsonDict:
        return {"id": self.id, "name": self.name, "is_im": self.is_im,
                "members": None if self.members is None else sorted(self.members),
                "bot_member": self.bot_member, "is_archived": self.is_archived}


@dataclass
class Message:
    """A message in a channel; `thread_ts` is set on replies only (it is the parent's ts)."""

    channel: str
    ts: str
    user: str
    bot_id: str | None
    text: str
    blocks: list[JsonDict]
    thread_ts: str | None = None
    edited_ts: str | None = None
    reply_count: int = 0
    # Every block_id any iteration of this message used (Slack wants new ones on update).
    past_block_ids: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)  # ids of the files a person posted with it

    def to_slack(self, team_id: str, app_id: str) -> JsonDict:
        body: JsonDict = {"type": "message", "user": self.user, "text": self.text,
                          "ts": self.ts, "team": team_id, "blocks": copy.deepcopy(self.blocks)}
        if self.bot_id is not None:
            body["bot_id"] = self.bot_id
            body["app_id"] = app_id
        if self.thread_ts is not None:
            body["thread_ts"] = self.thread_ts
        elif self.reply_count:
            body["thread_ts"] = self.ts
            body["reply_count"] = self.reply_count
        if self.edited_ts is not None:
            body["edited"] = {"user": self.user, "ts": self.edited_ts}
        return body

    def to_dict(self) -> JsonDict:
        return {"channel": self.channel, "ts": self.ts, "user": self.user, "text": self.text,
                "blocks": copy.deepcopy(self.blocks), "thread_ts": self.thread_ts,
                "edited_ts": self.edited_ts, "reply_count": self.reply_count}


@dataclass
class Ephemeral:
    """A message only `user` sees in `channel`; `sender` is the bot or USLACKBOT."""

    channel: str
    user: str
    ts: str
    sender: str
    text: str
    blocks: list[JsonDict]
    thread_ts: str | None = None

    def to_slack(self, team_id: str, app_id: str, bot_id: str | None) -> JsonDict:
        body: JsonDict = {"type": "message", "user": self.sender, "text": self.text,
                          "ts": self.ts, "team": team_id, "blocks": copy.deepcopy(self.blocks)}
        if bot_id is not None:
            body["bot_id"] = bot_id
            body["app_id"] = app_id
        if self.thread_ts is not None:
            body["thread_ts"] = self.thread_ts
        return body

    def to_dict(self) -> JsonDict:
        return {"channel": self.channel, "user": self.user, "ts": self.ts, "sender": self.sender,
                "text": self.text, "blocks": copy.deepcopy(self.blocks),
                "thread_ts": self.thread_ts}


@dataclass
class View:
    """A modal (or a Home tab) as the app defined it, plus what Slack adds around it."""

    id: str
    user_id: str
    definition: JsonDict
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    # What the user last submitted, and the errors the app answered with (block_id -> text).
    state_values: JsonDict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # Set when Slack would show "We had some trouble connecting" after a submission.
    submit_failure: str | None = None
    closed_by: str | None = None

    @property
    def callback_id(self) -> str:
        return str(self.definition.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        return str(self.definition.get("private_metadata", ""))

    @property
    def blocks(self) -> list[JsonDict]:
        blocks = self.definition.get("blocks", [])
        return blocks if isinstance(blocks, list) else []

    def to_slack(self, team_id: str, app_id: str, bot_id: str) -> JsonDict:
        d = self.definition
        body: JsonDict = {
            "id": self.id, "team_id": team_id, "type": d.get("type", "modal"),
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": self.private_metadata, "callback_id": self.callback_id,
            "state": {"values": copy.deepcopy(self.state_values)}, "hash": self.hash,
            "title": copy.deepcopy(d.get("title")),
            "clear_on_close": bool(d.get("clear_on_close", False)),
            "notify_on_close": bool(d.get("notify_on_close", False)),
            "close": copy.deepcopy(d.get("close")), "submit": copy.deepcopy(d.get("submit")),
            "previous_view_id": self.previous_view_id, "root_view_id": self.root_view_id,
            "app_id": app_id, "external_id": str(d.get("external_id", "")),
            "app_installed_team_id": team_id, "bot_id": bot_id,
        }
        return body

    def to_dict(self) -> JsonDict:
        return {"id": self.id, "user_id": self.user_id, "definition": copy.deepcopy(self.definition),
                "hash": self.hash, "root_view_id": self.root_view_id,
                "previous_view_id": self.previous_view_id,
                "state_values": copy.deepcopy(self.state_values), "errors": dict(self.errors),
                "submit_failure": self.submit_failure, "closed_by": self.closed_by}


@dataclass
class Trigger:
    """A trigger_id Slack issued with an interaction: one views.open/push within 3 seconds."""

    id: str
    user_id: str
    issued_at: datetime
    used: bool = False


@dataclass
class ResponseUrl:
    """Where the app may answer one interaction: 5 uses within 30 minutes."""

    id: str
    channel_id: str
    user_id: str
    issued_at: datetime
    # The message the interaction came from (absent for slash commands).
    message_ts: str | None = None
    message_is_ephemeral: bool = False
    thread_ts: str | None = None
    uses: int = 0


@dataclass(frozen=True)
class ApiCall:
    """One Web API (or response_url) call as received, with the answer given."""

    method: str
    token: str | None
    params: JsonDict
    status: int
    answer: JsonDict
    at: datetime
    # When it arrived on the rate limiter's clock (monotonic seconds): the workspace's clock
    # is often frozen in tests, and Retry-After is checked against this one.
    received: float = 0.0

    def to_dict(self) -> JsonDict:
        return {"method": self.method, "token": self.token, "params": self.params,
                "status": self.status, "answer": self.answer, "at": self.at.isoformat()}


@dataclass(frozen=True)
class Violation:
    """A Block Kit (or message) limit an app broke; Slack refused the call for it."""

    method: str
    pointer: str
    problem: str

    def __str__(self) -> str:
        return f"{self.method}: {self.problem} [json-pointer:{self.pointer}]"

    def to_dict(self) -> JsonDict:
        return {"method": self.method, "pointer": self.pointer, "problem": self.problem,
                "description": str(self)}
