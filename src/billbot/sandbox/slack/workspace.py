"""The state of a local Slack workspace: people, channels, messages, ephemerals, modals, and
every Web API call an app made. Thread-safe: the Web API app serves it from uvicorn's thread
while tests and the driver read and change it from theirs.

Readers return copies, so a caller never sees a record change under it.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from billbot.clock import Clock, SystemClock
from billbot.sandbox.slack import block_ids, blockkit, message_rules
from billbot.sandbox.slack.credentials import Credentials
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.faults import Faults
from billbot.sandbox.slack.file_store import FileStore
from billbot.sandbox.slack.ids import IdSource
from billbot.sandbox.slack.model import (
    ApiCall,
    Channel,
    Ephemeral,
    JsonDict,
    Message,
    ResponseUrl,
    Trigger,
    User,
    View,
    Violation,
)
from billbot.sandbox.slack.oauth import OAuthApp
from billbot.sandbox.slack.ratelimits import RateLimits
from billbot.sandbox.slack.socket_mode import SocketModeHub
from billbot.sandbox.slack.teams import Teams
from billbot.sandbox.slack.usergroups import UsergroupStore
from billbot.sandbox.slack.views import ViewStore

SLACKBOT = "USLACKBOT"
TRIGGER_LIFETIME = timedelta(seconds=3)
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
RESPONSE_URL_USES = 5
SNAPSHOT_CALLS = 200  # the latest Web API calls a page shows


class SlackWorkspace:
    """One Slack team with one installed app (the bot under test)."""

    def __init__(self, *, clock: Clock | None = None, team_id: str = "T0SANDBOX",
                 team_domain: str = "billbot-sandbox", team_name: str = "Billbot Sandbox",
                 bot_user_id: str = "U0BILLBOT", bot_name: str = "billbot",
                 bot_id: str = "B0BILLBOT", app_id: str = "A0BILLBOT",
                 bot_tokens: Iterable[str] | None = None, app_token: str | None = None,
                 scopes: Iterable[str] | None = None,
                 verification_token: str = "sandbox-verification-token",  # noqa: S107
                 rate_limits: RateLimits | None = None) -> None:
        """`bot_tokens`: the bot tokens this workspace issued (default: one fresh token,
        `bot_token`); `scopes`: the bot's scopes (default: the manifest's)."""
        self.clock: Clock = clock or SystemClock()
        self.team_id, self.team_domain, self.team_name = team_id, team_domain, team_name
        self.bot_user_id, self.bot_id, self.app_id = bot_user_id, bot_id, app_id
        self.verification_token = verification_token
        self.credentials = Credentials(bot_tokens=bot_tokens, app_token=app_token, scopes=scopes)
        self.rate_limits = rate_limits or RateLimits()
        # Where the Web API stand-in is served (no trailing slash); response_urls point there.
        self.base_url: str | None = None
        self.faults = Faults()
        self.lock = threading.RLock()
        self.ids = IdSource(self.clock)
        self._users: dict[str, User] = {bot_user_id: User(bot_user_id, bot_name, bot_name, True)}
        self._channels: dict[str, Channel] = {}
        self._messages: dict[str, dict[str, Message]] = {}
        self._ephemerals: dict[tuple[str, str], list[Ephemeral]] = {}
        self._triggers: dict[str, Trigger] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._calls: list[ApiCall] = []
        self._violations: list[Violation] = []
        self.views = ViewStore(self.lock, self.ids, self.consume_trigger, self.record_violations)
        self.socket_mode = SocketModeHub(self.clock, app_id, lambda: self.base_url,
                                         self.credentials.app_tokens)
        self.usergroups = UsergroupStore(self.lock, self.ids, self.clock, team_id)
        self.files = FileStore(self.lock, self.ids, self.clock)
        self.oauth = OAuthApp(self.lock, self.clock)
        self.teams = Teams(self)  # the workspaces served beside this one (workspaces.py)

    # -- setup -------------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, real_name: str | None = None, *,
                 tz: str = "UTC") -> User:
        with self.lock:
            user = User(user_id, name, real_name or name, tz=tz)
            self._users[user_id] = user
            return copy.copy(user)

    def add_channel(self, channel_id: str, name: str, members: Iterable[str] | None = None, *,
                    bot_member: bool = True, archived: bool = False) -> Channel:
        """A channel; `members=None` makes it one every person is in. The bot is in it unless
        `bot_member=False` (then posting there is `not_in_channel`, as in Slack)."""
        with self.lock:
            channel = Channel(channel_id, name, members=None if members is None else set(members),
                              bot_member=bot_member, is_archived=archived)
            self._channels[channel_id] = channel
            self._messages.setdefault(channel_id, {})
            return copy.deepcopy(channel)

    def set_bot_member(self, channel_id: str, member: bool) -> None:  # invited / removed
        with self.lock:
            self._channels[channel_id].bot_member = member

    def open_dm(self, user_id: str, *, create: bool = True) -> Channel | None:
        """The bot's DM with a person (id `D<user id>`), made on first use unless not `create`."""
        with self.lock:
            dm_id = f"D{user_id}"
            if dm_id not in self._channels:
                if not create:
                    return None
                self._channels[dm_id] = Channel(dm_id, user_id, is_im=True, members={user_id})
                self._messages[dm_id] = {}
            return copy.deepcopy(self._channels[dm_id])

    @property
    def api_url(self) -> str:
        """The `SLACK_API_URL` for apps: the served base URL plus `/api/` (slash included)."""
        if self.base_url is None:
            raise RuntimeError("the workspace is not served yet (see serve_slack_standin)")
        return f"{self.base_url}/api/"

    @property
    def bot_token(self) -> str:
        return self.credentials.bot_token

    @property
    def app_token(self) -> str:  # xapp- (connections:write), for apps.connections.open
        return self.credentials.app_token

    # -- readers -----------------------------------------------------------------------------

    def user(self, user_id: str) -> User | None:
        with self.lock:
            found = self._users.get(user_id)
            return copy.copy(found) if found else None

    def channel(self, channel_id: str) -> Channel | None:
        with self.lock:
            found = self._channels.get(channel_id)
            return copy.deepcopy(found) if found else None

    def users(self) -> list[User]:
        with self.lock:
            return [copy.copy(u) for u in self._users.values()]

    def channels(self) -> list[Channel]:  # every channel and DM, in the order they were made
        with self.lock:
            return [copy.deepcopy(c) for c in self._channels.values()]

    def messages(self, channel_id: str) -> list[Message]:
        """Top-level messages of a channel, oldest first."""
        with self.lock:
            return [copy.deepcopy(m) for m in self._messages.get(channel_id, {}).values()
                    if m.thread_ts is None]

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        """Replies in the thread of message `ts`, oldest first (the parent excluded)."""
        with self.lock:
            return [copy.deepcopy(m) for m in self._messages.get(channel_id, {}).values()
                    if m.thread_ts == ts]

    def message(self, channel_id: str, ts: str) -> Message | None:  # top-level or a reply
        with self.lock:
            found = self._messages.get(channel_id, {}).get(ts)
            return copy.deepcopy(found) if found else None

    def ephemerals(self, channel_id: str, user_id: str) -> list[Ephemeral]:
        with self.lock:
            return copy.deepcopy(self._ephemerals.get((channel_id, user_id), []))

    def ephemeral(self, channel_id: str, user_id: str, ts: str) -> Ephemeral | None:
        with self.lock:
            found = next((e for e in self._ephemerals.get((channel_id, user_id), [])
                          if e.ts == ts), None)
            return copy.deepcopy(found)

    def open_view(self, user_id: str) -> View | None:  # the top of the person's modal stack
        return self.views.top(user_id)

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self.lock:
            return [c for c in self._calls if method is None or c.method == method]

    @property
    def violations(self) -> list[Violation]:
        with self.lock:
            return list(self._violations)

    def snapshot(self) -> JsonDict:
        """Everything a page needs to draw the workspace, as JSON data."""
        with self.lock:
            return {
                "team": {"id": self.team_id, "domain": self.team_domain, "name": self.team_name},
                "bot": {"user_id": self.bot_user_id, "bot_id": self.bot_id, "app_id": self.app_id},
                "users": [u.to_dict() for u in self._users.values()],
                "channels": [
                    {**c.to_dict(),
                     "messages": [m.to_dict() for m in self._messages.get(c.id, {}).values()]}
                    for c in self._channels.values()],
                "ephemerals": [e.to_dict() for es in self._ephemerals.values() for e in es],
                "views": self.views.snapshot(),
                "violations": [v.to_dict() for v in self._violations],
                "calls": [c.to_dict() for c in self._calls[-SNAPSHOT_CALLS:]],
            }

    # -- records -----------------------------------------------------------------------------

    def record_call(self, call: ApiCall) -> None:
        with self.lock:
            self._calls.append(call)

    def record_violations(self, method: str, problems: list[blockkit.Problem]) -> None:
        with self.lock:
            self._violations.extend(Violation(method, p.pointer, p.problem) for p in problems)

    # -- what Slack issues with interactions -------------------------------------------------

    def issue_trigger(self, user_id: str) -> str:
        with self.lock:
            trigger = Trigger(self.ids.trigger_id(), user_id, self.clock.now())
            self._triggers[trigger.id] = trigger
            return trigger.id

    def consume_trigger(self, trigger_id: Any) -> Trigger:
        """Spend a trigger on views.open/push, refusing it as Slack does."""
        with self.lock:
            trigger = self._triggers.get(trigger_id) if isinstance(trigger_id, str) else None
            if trigger is None:
                raise SlackApiRefusal("invalid_trigger_id")
            if trigger.used:
                raise SlackApiRefusal("exchanged_trigger_id")
            if self.clock.now() - trigger.issued_at > TRIGGER_LIFETIME:
                raise SlackApiRefusal("expired_trigger_id")
            trigger.used = True
            return copy.copy(trigger)

    def issue_response_url(self, channel_id: str, user_id: str, *, message_ts: str | None = None,
                           message_is_ephemeral: bool = False,
                           thread_ts: str | None = None) -> str:
        """A response_url for one interaction, served at `/response/<id>`."""
        with self.lock:
            url = ResponseUrl(self.ids.object_id("R") + self.ids.token(12), channel_id, user_id,
                              self.clock.now(), message_ts, message_is_ephemeral, thread_ts)
            self._response_urls[url.id] = url
        base = self.base_url or "http://slack-standin.invalid"
        return f"{base}/response/{url.id}"

    def has_response_url(self, url_id: str) -> bool:
        with self.lock:
            return url_id in self._response_urls

    def use_response_url(self, url_id: str) -> ResponseUrl:
        with self.lock:
            url = self._response_urls.get(url_id)
            if url is None:
                raise SlackApiRefusal("invalid_url")
            if self.clock.now() - url.issued_at > RESPONSE_URL_LIFETIME:
                raise SlackApiRefusal("expired_url")
            if url.uses >= RESPONSE_URL_USES:
                raise SlackApiRefusal("used_url")
            url.uses += 1
            return copy.copy(url)

    # -- messages ----------------------------------------------------------------------------

    def post_message(self, *, method: str, channel: str, text: Any, blocks: Any,
                     thread_ts: Any = None) -> Message:
        with self.lock:
            target = self._resolve_channel(channel)
            self._require_postable(target)
            text, blocks = self._checked_message(method, text, blocks)
            channel_messages = self._messages.setdefault(target.id, {})
            parent: Message | None = None
            if thread_ts:
                parent = channel_messages.get(str(thread_ts))
                if parent is None:
                    raise SlackApiRefusal("thread_not_found")
                # A reply to a reply joins the parent's thread.
                parent = channel_messages[parent.thread_ts] if parent.thread_ts else parent
            ts = self.ids.ts()
            message = Message(target.id, ts, self.bot_user_id, self.bot_id, text,
                              blocks if blocks is not None else [],
                              thread_ts=parent.ts if parent else None,
                              past_block_ids=block_ids.block_ids(blocks))
            if parent:
                parent.reply_count += 1
            channel_messages[ts] = message
            return copy.deepcopy(message)

    def update_message(self, *, method: str, channel: str, ts: Any, text: Any,
                       blocks: Any) -> Message:
        """chat.update: fields left out (None) keep their old value, as Slack does."""
        with self.lock:
            message = self._messages.get(channel, {}).get(str(ts))
            if message is None:
                raise SlackApiRefusal("message_not_found")
            if message.bot_id != self.bot_id:
                raise SlackApiRefusal("cant_update_message")
            self._require_postable(self._channels[channel])
            new_text = message.text if text is None else text
            if blocks is None:
                new_text, _ = self._checked_message(method, new_text, message.blocks)
                new_blocks = message.blocks
            else:
                new_text, checked = self._checked_message(method, new_text, blocks)
                new_blocks = checked if checked is not None else []
            if method == "chat.update" and blocks is not None:
                self.record_violations(method, message_rules.reused_block_id_problems(
                    message.past_block_ids, blocks))
            message.text, message.blocks = new_text, new_blocks
            message.past_block_ids |= block_ids.block_ids(new_blocks)
            message.edited_ts = self.ids.ts()
            return copy.deepcopy(message)

    def delete_message(self, *, channel: str, ts: Any) -> None:
        with self.lock:
            channel_messages = self._messages.get(channel, {})
            message = channel_messages.get(str(ts))
            if message is None:
                raise SlackApiRefusal("message_not_found")
            if message.bot_id != self.bot_id:
                raise SlackApiRefusal("cant_delete_message")
            if message.thread_ts is None and message.reply_count:
                # Slack keeps a tombstone so the thread stays reachable.
                message.text, message.blocks = "This message was deleted.", []
                message.user, message.bot_id = SLACKBOT, None
                return
            del channel_messages[message.ts]
            if message.thread_ts and message.thread_ts in channel_messages:
                channel_messages[message.thread_ts].reply_count -= 1

    # -- ephemerals --------------------------------------------------------------------------

    def post_ephemeral(self, *, method: str, channel: str, user: Any, text: Any, blocks: Any,
                       thread_ts: Any = None, sender: str | None = None) -> Ephemeral:
        with self.lock:
            target = self._resolve_channel(channel)
            if not isinstance(user, str) or user not in self._users:
                raise SlackApiRefusal("user_not_found")
            if not target.has_member(user):
                raise SlackApiRefusal("user_not_in_channel")
            text, blocks = self._checked_message(method, text, blocks)
            ephemeral = Ephemeral(target.id, user, self.ids.ts(), sender or self.bot_user_id,
                                  text, blocks if blocks is not None else [],
                                  str(thread_ts) if thread_ts else None)
            self._ephemerals.setdefault((target.id, user), []).append(ephemeral)
            return copy.deepcopy(ephemeral)

    def replace_ephemeral(self, *, method: str, channel: str, user: str, ts: str, text: Any,
                          blocks: Any) -> Ephemeral:
        with self.lock:
            ephemeral = self._find_ephemeral(channel, user, ts)
            text, blocks = self._checked_message(method, text, blocks)
            ephemeral.text, ephemeral.blocks = text, blocks if blocks is not None else []
            return copy.deepcopy(ephemeral)

    def delete_ephemeral(self, *, channel: str, user: str, ts: str) -> None:
        with self.lock:
            ephemeral = self._find_ephemeral(channel, user, ts)
            self._ephemerals[(channel, user)].remove(ephemeral)

    # -- internals ---------------------------------------------------------------------------

    def _find_ephemeral(self, channel: str, user: str, ts: str) -> Ephemeral:
        found = next((e for e in self._ephemerals.get((channel, user), []) if e.ts == ts), None)
        if found is None:
            raise SlackApiRefusal("message_not_found")
        return found

    def _resolve_channel(self, ref: Any) -> Channel:
        """A channel id, a channel name (with or without #), or a user id (their DM)."""
        if not isinstance(ref, str) or not ref:
            raise SlackApiRefusal("channel_not_found")
        if ref in self._channels:
            return self._channels[ref]
        name = ref.removeprefix("#")
        for channel in self._channels.values():
            if channel.name == name and not channel.is_im:
                return channel
        if ref in self._users:
            self.open_dm(ref)
            return self._channels[f"D{ref}"]
        raise SlackApiRefusal("channel_not_found")

    def _checked_message(self, method: str, text: Any,
                         blocks: Any) -> tuple[str, list[JsonDict] | None]:
        return message_rules.checked_message(method, text, blocks, self.record_violations,
                                             lambda: self.ids.token(5))

    def _require_postable(self, channel: Channel) -> None:
        message_rules.require_postable(channel, self.credentials.scopes)
