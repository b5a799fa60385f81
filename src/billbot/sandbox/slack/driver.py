"""SlackDriver: acts as Slack towards an app. It sends signed slash commands, button clicks,
view submissions and events to the app's request URL, exactly as Slack shapes them, and then
does what Slack does with the app's HTTP answer (shows a command's reply, closes or updates
a modal, shows validation errors).

The signature timestamp comes from the driver's own clock (the system clock unless given),
not the workspace's: the app verifies it against real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from billbot.clock import Clock, SystemClock
from billbot.sandbox.slack import app_home, payloads, shortcuts
from billbot.sandbox.slack.buttons import find_button
from billbot.sandbox.slack.element_states import SubmissionError, build_state, initial_values
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.model import ApiCall, Channel, Ephemeral, JsonDict, Message, User, View
from billbot.sandbox.slack.workspace import SLACKBOT, SlackWorkspace

SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
# Slack waits 3 seconds for an app's HTTP answer, then shows the person an error and ignores
# whatever comes later. A timed-out post gets status 0 and outcome "timeout".
ACK_DEADLINE = 3.0
TIMED_OUT = 0


@dataclass(frozen=True)
class BotResponse:
    """The app's HTTP answer. `outcome` says what Slack did with it, for view submissions
    (closed, cleared, errors, updated, pushed, failed, gone: the modal had closed already)
    and slash commands (shown, none, failed)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    outcome: str | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class RejectedBySlackClient(SubmissionError):
    """Slack's client would not send this submission: it shows these errors instead."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(f"Slack would not submit: {errors}")
        self.errors = errors


@dataclass
class SlackDriver:
    workspace: SlackWorkspace
    bot_events_url: str
    signing_secret: str
    http: httpx.AsyncClient
    clock: Clock = field(default_factory=SystemClock)
    ack_deadline: float = ACK_DEADLINE
    ack_deadline_reason: str | None = None
    # (view id, action id) -> the options suggested there: what an external select can hold.
    suggested: dict[tuple[str, str], list[JsonDict]] = field(default_factory=dict)
    # event id -> its event_time: Slack's retries of an event repeat its first delivery's time.
    event_times: dict[str, int] = field(default_factory=dict)

    def widen_ack_deadline(self, seconds: float, *, reason: str) -> None:
        """For a test that loads the CPU on purpose and asserts outcomes, not timing."""
        if not reason.strip():
            raise ValueError("say why this test widens Slack's 3-second deadline")
        self.ack_deadline, self.ack_deadline_reason = seconds, reason

    # -- raw ---------------------------------------------------------------------------------

    async def post_signed(self, raw_body: bytes | str, content_type: str, *,
                          timestamp: int | str | None = None, signature: str | None = None,
                          extra_headers: Mapping[str, str] | None = None) -> BotResponse:
        """POST a body signed as Slack signs it; override the timestamp or signature to forge."""
        body = raw_body.encode() if isinstance(raw_body, str) else raw_body
        ts = str(int(self.clock.now().timestamp()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type, "User-Agent": SLACK_USER_AGENT,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or payloads.signature(self.signing_secret, ts, body),
            **(extra_headers or {}),
        }
        try:
            response = await asyncio.wait_for(
                self.http.post(self.bot_events_url, content=body, headers=headers),
                self.ack_deadline)
        except TimeoutError:
            return BotResponse(TIMED_OUT, {}, b"", "timeout")
        return BotResponse(response.status_code, dict(response.headers), response.content)

    # -- slash commands ----------------------------------------------------------------------

    async def slash_command(self, user_id: str, channel_id: str, text: str,
                            command: str = "/bills") -> BotResponse:
        ws = self.workspace
        user, channel = self._user(user_id), self._channel(channel_id)
        fields = payloads.slash_command(
            ws, user=user, channel=channel, command=command, text=text,
            response_url=ws.issue_response_url(channel_id, user_id),
            trigger_id=ws.issue_trigger(user_id))
        response = await self.post_signed(payloads.form_body(fields), payloads.FORM)
        return self._show_command_reply(response, user_id, channel_id, command)

    def _show_command_reply(self, response: BotResponse, user_id: str, channel_id: str,
                            command: str) -> BotResponse:
        """What Slack shows after a command: the body as a reply, or an error from Slackbot."""
        ws, method = self.workspace, "slash command response"
        if response.outcome == "timeout":
            self._slackbot_says(channel_id, user_id,
                                f'{command} failed with the error "operation_timeout"')
            return response
        if response.status != 200:
            self._slackbot_says(channel_id, user_id,
                                f'{command} failed with the error "http_service_error"')
            return _with_outcome(response, "failed")
        if not response.body.strip():
            return _with_outcome(response, "none")
        reply = _json_object(response.body)
        if reply is None:
            reply = {"text": response.text}
        try:
            if reply.get("response_type") == "in_channel":
                ws.post_message(method=method, channel=channel_id, text=reply.get("text"),
                                blocks=reply.get("blocks"))
            else:
                ws.post_ephemeral(method=method, channel=channel_id, user=user_id,
                                  text=reply.get("text"), blocks=reply.get("blocks"))
        except SlackApiRefusal as refusal:
            self._slackbot_says(channel_id, user_id,
                                f'{command} failed with the error "{refusal.error}"')
            return _with_outcome(response, "failed")
        return _with_outcome(response, "shown")

    # -- files and message shortcuts --------------------------------------------------------

    def post_file(self, user_id: str, channel_id: str, name: str, content: bytes,
                  text: str = "") -> Message:
        """`user_id` uploads a file into the channel (a message of theirs carries it)."""
        return shortcuts.post_user_file(self.workspace, user=self._user(user_id),
                                        channel=self._channel(channel_id), name=name,
                                        content=content, text=text)

    async def message_shortcut(self, user_id: str, channel_id: str, message_ts: str,
                               callback_id: str) -> BotResponse:
        """Run a message shortcut the manifest declares on a message of the channel."""
        payload = shortcuts.message_action(
            self.workspace, user=self._user(user_id), channel=self._channel(channel_id),
            message_ts=message_ts, callback_id=callback_id)
        return await self.post_signed(payloads.interaction_body(payload), payloads.FORM)

    # -- buttons -----------------------------------------------------------------------------

    async def click(self, user_id: str, channel_id: str, message_ts: str,
                    action_id: str | None = None, *, text: str | None = None,
                    block_id: str | None = None, row: str | None = None) -> BotResponse:
        """Click a button in a message (top level, thread reply, or the user's ephemeral)."""
        ws = self.workspace
        user, channel = self._user(user_id), self._channel(channel_id)
        message = ws.message(channel_id, message_ts)
        ephemeral = None if message else ws.ephemeral(channel_id, user_id, message_ts)
        if message is None and ephemeral is None:
            raise LookupError(f"no message {message_ts} in {channel_id} that {user_id} can see")
        blocks = message.blocks if message else ephemeral.blocks if ephemeral else []
        thread_ts = _thread_of(message) if message else ephemeral.thread_ts if ephemeral else None
        button = find_button(blocks, action_id=action_id, text=text, block_id=block_id, row=row)
        container: JsonDict = {"type": "message", "message_ts": message_ts,
                               "channel_id": channel_id, "is_ephemeral": message is None}
        if thread_ts:
            container["thread_ts"] = thread_ts
        response_url = ws.issue_response_url(channel_id, user_id, message_ts=message_ts,
                                             message_is_ephemeral=message is None,
                                             thread_ts=thread_ts)
        payload = payloads.block_actions(
            ws, user=user, channel=channel, container=container,
            message=message.to_slack(ws.team_id, ws.app_id) if message else None,
            action=payloads.button_action(button.block_id, button.element, ws.ids.ts()),
            trigger_id=ws.issue_trigger(user_id), response_url=response_url,
            state_values=initial_values(blocks))
        return await self.post_signed(payloads.interaction_body(payload), payloads.FORM)

    async def click_in_view(self, user_id: str, action_id: str | None = None, *,
                            text: str | None = None, block_id: str | None = None,
                            view_id: str | None = None) -> BotResponse:
        """Click a button in the user's top modal (e.g. one per attachment, told apart by
        block_id); the app gets the view, its private_metadata and its state."""
        ws = self.workspace
        user = self._user(user_id)
        view = self._top_view(user_id, view_id)
        blocks = list(view.definition.get("blocks") or [])
        button = find_button(blocks, action_id=action_id, text=text, block_id=block_id)
        payload = payloads.view_block_actions(
            ws, user=user, view=view.to_slack(ws.team_id, ws.app_id, ws.bot_id),
            action=payloads.button_action(button.block_id, button.element, ws.ids.ts()),
            trigger_id=ws.issue_trigger(user_id))
        return await self.post_signed(payloads.interaction_body(payload), payloads.FORM)

    # -- modals ------------------------------------------------------------------------------

    async def submit_view(self, user_id: str, values: dict[str, dict[str, JsonDict]],
                          view_id: str | None = None, *,
                          enforce_client_checks: bool = True) -> BotResponse:
        """Submit the user's top modal with `values` (block_id -> action_id -> element state).

        Like Slack's client, refuses (RejectedBySlackClient) to send a submission with an
        empty required input or a number out of bounds, unless `enforce_client_checks=False`
        (for forged requests a real user could not make)."""
        ws = self.workspace
        user = self._user(user_id)
        view = self._top_view(user_id, view_id)
        state, client_errors = build_state(view, values, suggested={
            action: options for (view_id_, action), options in self.suggested.items()
            if view_id_ == view.id})
        if client_errors and enforce_client_checks:
            raise RejectedBySlackClient(client_errors)
        ws.views.record_state(view.id, state)
        submitted = ws.views.get(view.id)
        assert submitted is not None
        payload = payloads.view_submission(
            ws, user=user, view=submitted.to_slack(ws.team_id, ws.app_id, ws.bot_id),
            trigger_id=ws.issue_trigger(user_id))
        response = await self.post_signed(payloads.interaction_body(payload), payloads.FORM)
        try:
            outcome = self._apply_submission_answer(submitted, response)
        except LookupError:
            # Closed meanwhile (a concurrent submission's answer): Slack drops this answer.
            outcome = "gone"
        return _with_outcome(response, outcome)

    def _apply_submission_answer(self, view: View, response: BotResponse) -> str:
        views = self.workspace.views
        if response.outcome == "timeout":
            views.set_submit_failure(view.id, "operation_timeout")
            return "timeout"
        if response.status != 200:
            views.set_submit_failure(view.id, f"HTTP {response.status}")
            return "failed"
        if not response.body.strip():
            views.close(view.id, "submitted")
            return "closed"
        answer = _json_object(response.body)
        if answer is None:
            views.set_submit_failure(view.id, "the answer is not JSON")
            return "failed"
        action = answer.get("response_action")
        if action is None:
            views.close(view.id, "submitted")
            return "closed"
        if action == "clear":
            views.clear(view.user_id, "response_action clear")
            return "cleared"
        if action == "errors":
            return "failed" if views.set_errors(view.id, answer.get("errors")) else "errors"
        if action == "update":
            return "failed" if views.answer_update(view.id, answer.get("view")) else "updated"
        if action == "push":
            return "failed" if views.answer_push(view.id, answer.get("view")) else "pushed"
        views.set_submit_failure(view.id, f"unknown response_action {action!r}")
        return "failed"

    async def suggest(self, user_id: str, block_id: str, action_id: str, value: str) -> BotResponse:
        """The user types `value` into an external select of their top modal; the answer's
        body holds the app's options (within the ack deadline, as Slack requires)."""
        ws = self.workspace
        user = self._user(user_id)
        view = self._top_view(user_id, None)
        payload = payloads.block_suggestion(
            ws, user=user, view=view.to_slack(ws.team_id, ws.app_id, ws.bot_id),
            block_id=block_id, action_id=action_id, value=value)
        answer = await self.post_signed(payloads.interaction_body(payload), payloads.FORM)
        body = _json_object(answer.body) if answer.status == 200 else None
        options = body.get("options") if body else None
        if isinstance(options, list):
            kept = self.suggested.setdefault((view.id, action_id), [])
            kept += [o for o in options if isinstance(o, dict) and o not in kept]
        return answer

    async def close_view(self, user_id: str, *, every: bool = False) -> BotResponse | None:
        """The user closes their top modal, or `every` one (their client went away: a reload
        closes Slack's modals); the app hears of it only when the top one set notify_on_close."""
        ws = self.workspace
        user = self._user(user_id)
        view = self._top_view(user_id, None)
        cleared = every and len(ws.views.stack(user_id)) > 1
        if every:
            ws.views.clear(user_id, "the person's client went away")
        else:
            ws.views.close(view.id, "closed by the user")
        if not view.definition.get("notify_on_close"):
            return None
        payload = payloads.view_closed(
            ws, user=user, view=view.to_slack(ws.team_id, ws.app_id, ws.bot_id),
            is_cleared=cleared)
        return await self.post_signed(payloads.interaction_body(payload), payloads.FORM)

    # -- events ------------------------------------------------------------------------------

    async def send_event(self, event: JsonDict, *, event_id: str | None = None,
                         retry_num: int | None = None, retry_reason: str | None = None
                         ) -> BotResponse:
        """An Events API delivery; give the same event_id with retry_num to replay a retry."""
        ws, event_id = self.workspace, event_id or self.workspace.ids.object_id("Ev")
        event_time = self.event_times.setdefault(event_id, int(self.clock.now().timestamp()))
        body = payloads.event_callback(ws, event=event, event_id=event_id, event_time=event_time)
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num),
                       "X-Slack-Retry-Reason": retry_reason or "http_timeout"}
        return await self.post_signed(json.dumps(body), payloads.JSON, extra_headers=headers)

    async def open_home(self, user_id: str) -> BotResponse | None:
        """The person opens the app's Home tab (app_home.py)."""
        return await app_home.open_home(self, user_id)

    async def click_home(self, user_id: str, action_id: str | None = None, *,
                         text: str | None = None, block_id: str | None = None,
                         row: str | None = None) -> BotResponse:
        """Click a button in the person's Home view (app_home.py)."""
        return await app_home.click_home(self, user_id, action_id, text=text,
                                         block_id=block_id, row=row)

    # -- reading the workspace -----------------------------------------------------------------

    def messages(self, channel_id: str) -> list[Message]:
        return self.workspace.messages(channel_id)

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        return self.workspace.thread(channel_id, ts)

    def ephemerals(self, channel_id: str, user_id: str) -> list[Ephemeral]:
        return self.workspace.ephemerals(channel_id, user_id)

    def open_view(self, user_id: str) -> View | None:
        return self.workspace.open_view(user_id)

    def calls(self, method: str | None = None) -> list[ApiCall]:
        return self.workspace.calls(method)

    # -- internals ---------------------------------------------------------------------------

    def _user(self, user_id: str) -> User:
        user = self.workspace.user(user_id)
        if user is None:
            raise LookupError(f"no user {user_id} in the workspace")
        return user

    def _channel(self, channel_id: str) -> Channel:
        channel = self.workspace.channel(channel_id)
        if channel is None:
            raise LookupError(f"no channel {channel_id} in the workspace")
        return channel

    def _top_view(self, user_id: str, view_id: str | None) -> View:
        view = self.workspace.open_view(user_id)
        if view is None:
            raise LookupError(f"{user_id} has no open modal")
        if view_id is not None and view.id != view_id:
            raise LookupError(f"{view_id} is not {user_id}'s top modal (that is {view.id})")
        return view

    def _slackbot_says(self, channel_id: str, user_id: str, text: str) -> None:
        # A user outside the channel sees nothing, in Slack as here.
        with contextlib.suppress(SlackApiRefusal):
            self.workspace.post_ephemeral(method="slackbot", channel=channel_id, user=user_id,
                                          text=text, blocks=None, sender=SLACKBOT)


def _with_outcome(response: BotResponse, outcome: str) -> BotResponse:
    return BotResponse(response.status, response.headers, response.body, outcome)


def _json_object(body: bytes) -> JsonDict | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _thread_of(message: Message) -> str | None:
    if message.thread_ts:
        return message.thread_ts
    return message.ts if message.reply_count else None

