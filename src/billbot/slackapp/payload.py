"""Reading Slack payloads defensively: a hostile or malformed body yields None, never a crash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from billbot.slackapp.home_blocks import HOME_TS, channel_of_home_block


def dig(body: Any, *path: str | int) -> Any:
    """body[path[0]][path[1]]... or None when any step is missing or of the wrong type."""
    node = body
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return None
        elif not isinstance(node, dict):
            return None
        node = node[step] if isinstance(step, int) else node.get(step)
    return node


def text_at(body: Any, *path: str | int, limit: int = 255) -> str | None:
    value = dig(body, *path)
    if isinstance(value, str) and 0 < len(value) <= limit:
        return value
    return None


def request_id(raw_body: str | bytes) -> str:
    """A stable id for one Slack request (its retries share it): audit and log correlation."""
    data = raw_body.encode() if isinstance(raw_body, str) else raw_body
    return "slk-" + hashlib.sha256(data).hexdigest()[:20]


@dataclass(frozen=True)
class Click:
    user_id: str
    channel_id: str
    message_ts: str
    bill_id: str
    trigger_id: str | None
    blocks: list[dict[str, Any]]
    request_id: str


def read_click(body: Any, raw_body: str | bytes) -> Click | None:
    """The parts of a block_actions payload a bill button needs, or None if any is unusable."""
    user = text_at(body, "user", "id", limit=64)
    channel = text_at(body, "channel", "id", limit=64) or text_at(body, "container", "channel_id",
                                                                   limit=64)
    ts = text_at(body, "container", "message_ts", limit=64) or text_at(body, "message", "ts",
                                                                       limit=64)
    bill_id = text_at(body, "actions", 0, "value", limit=255)
    if channel is None and dig(body, "view", "type") == "home":
        # App Home: no channel; the actions block names the one bound to the bill's company.
        channel = channel_of_home_block(text_at(body, "actions", 0, "block_id"))
        ts = HOME_TS
    if not (user and channel and ts and bill_id):
        return None
    blocks = dig(body, "message", "blocks")
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        blocks = []
    return Click(user_id=user, channel_id=channel, message_ts=ts, bill_id=bill_id,
                 trigger_id=text_at(body, "trigger_id", limit=255), blocks=blocks,
                 request_id=request_id(raw_body))


def view_value(view: Any, block_id: str, action_id: str) -> dict[str, Any] | None:
    value = dig(view, "state", "values", block_id, action_id)
    return value if isinstance(value, dict) else None
