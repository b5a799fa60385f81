"""What a POST to a response_url does: replace or delete the message the interaction came
from, or post a new message (ephemeral unless `response_type` is `in_channel`)."""

from __future__ import annotations

from typing import Any

from billbot.sandbox.slack.model import JsonDict
from billbot.sandbox.slack.workspace import SlackWorkspace

METHOD = "response_url"


def deliver(ws: SlackWorkspace, url_id: str, body: JsonDict) -> None:
    """Apply one response_url message; raises SlackApiRefusal as Slack would refuse it."""
    url = ws.use_response_url(url_id)
    text, blocks = body.get("text"), body.get("blocks")
    original = url.message_ts
    if original is not None and _flag(body.get("delete_original")):
        if url.message_is_ephemeral:
            ws.delete_ephemeral(channel=url.channel_id, user=url.user_id, ts=original)
        else:
            ws.delete_message(channel=url.channel_id, ts=original)
        return
    if original is not None and _flag(body.get("replace_original")):
        if url.message_is_ephemeral:
            ws.replace_ephemeral(method=METHOD, channel=url.channel_id, user=url.user_id,
                                 ts=original, text=text, blocks=blocks)
        else:
            # Replacing means replacing: blocks left out are gone, unlike chat.update.
            ws.update_message(method=METHOD, channel=url.channel_id, ts=original,
                              text=text or "", blocks=blocks if blocks is not None else [])
        return
    thread_ts = body.get("thread_ts") or url.thread_ts
    if body.get("response_type") == "in_channel":
        ws.post_message(method=METHOD, channel=url.channel_id, text=text, blocks=blocks,
                        thread_ts=thread_ts)
    else:
        ws.post_ephemeral(method=METHOD, channel=url.channel_id, user=url.user_id, text=text,
                          blocks=blocks, thread_ts=thread_ts)


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))
