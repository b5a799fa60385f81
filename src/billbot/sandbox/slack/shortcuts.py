"""Message shortcuts, as Slack delivers them: a person posts a file into a channel, then runs
one of the app's message shortcuts on that message.

Slack shows a message shortcut only when the app's manifest declares it
(`features.shortcuts`, `type: message`) and sends a `message_action` payload carrying the
message (its `files` included), the channel, a `trigger_id` good for one modal within three
seconds, and a `response_url` (https://api.slack.com/interactivity/shortcuts/using).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from billbot.sandbox.slack import payloads
from billbot.sandbox.slack.files import file_object
from billbot.sandbox.slack.manifest_scopes import find_manifest
from billbot.sandbox.slack.model import Channel, JsonDict, Message, User
from billbot.sandbox.slack.workspace import SlackWorkspace


def manifest_message_shortcuts(path: Path | None = None) -> dict[str, str]:
    """callback_id -> name of the manifest's message shortcuts."""
    data: Any = yaml.safe_load((path or find_manifest()).read_text(encoding="utf-8")) or {}
    declared = (data.get("features") or {}).get("shortcuts") or []
    return {str(s["callback_id"]): str(s["name"]) for s in declared
            if isinstance(s, dict) and s.get("type") == "message"}


def post_user_file(ws: SlackWorkspace, *, user: User, channel: Channel, name: str,
                   content: bytes, text: str = "") -> Message:
    """A person uploads a file into the channel: the file is stored, shared, and a message
    from that person carries it (as the Slack client does it)."""
    if not content:
        raise ValueError("Slack takes no empty file")
    user_id, channel_id = user.id, channel.id
    stored = ws.files.new(name=name, length=len(content), user=user_id, alt_txt=None,
                          snippet_type=None)
    ws.files.receive(stored.upload_key, content)
    ws.files.complete(stored.id, name)
    with ws.lock:
        ts = ws.ids.ts()
        message = Message(channel_id, ts, user_id, None, text, [], files=[stored.id])
        ws._messages.setdefault(channel_id, {})[ts] = message  # a person posts it
    ws.files.record_share(stored.id, channel_id, ts)
    return message


def message_action(ws: SlackWorkspace, *, user: User, channel: Channel, message_ts: str,
                   callback_id: str) -> JsonDict:
    """The payload of `callback_id` run by `user` on a message; LookupError when Slack would
    offer no such shortcut or there is no such message."""
    if callback_id not in manifest_message_shortcuts():
        raise LookupError(f"the manifest declares no message shortcut {callback_id!r}")
    message = ws.message(channel.id, message_ts)
    if message is None:
        raise LookupError(f"no message {message_ts} in {channel.id}")
    trigger_id = ws.issue_trigger(user.id)
    response_url = ws.issue_response_url(channel.id, user.id)
    body = message.to_slack(ws.team_id, ws.app_id)
    files = [ws.files.get(file_id) for file_id in message.files]
    if files:
        body["files"] = [file_object(ws, f) for f in files if f is not None]
        body["upload"] = True
    return {
        "type": "message_action", "token": ws.verification_token, "action_ts": ws.ids.ts(),
        "team": payloads.team_ref(ws), "user": payloads.user_ref(ws, user),
        "channel": {"id": channel.id, "name": payloads.channel_name(channel)},
        "is_enterprise_install": False, "enterprise": None, "callback_id": callback_id,
        "trigger_id": trigger_id, "response_url": response_url, "message_ts": message.ts,
        "message": body,
    }
