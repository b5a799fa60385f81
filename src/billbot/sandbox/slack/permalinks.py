"""`chat.getPermalink`: a message's permanent URL, as Slack answers it.

Slack: arguments `channel` and `message_ts` (both required); no scope needed; errors
`channel_not_found` and `message_not_found`. A reply's link names its thread
(`?thread_ts=<parent>&cid=<channel>`)."""

from __future__ import annotations

from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.model import JsonDict
from billbot.sandbox.slack.workspace import SlackWorkspace


def chat_get_permalink(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    channel_id = params.get("channel")
    if not isinstance(channel_id, str) or ws.channel(channel_id) is None:
        raise SlackApiRefusal("channel_not_found")
    ts = params.get("message_ts")
    message = ws.message(channel_id, ts) if isinstance(ts, str) else None
    if message is None:
        raise SlackApiRefusal("message_not_found")
    link = (f"https://{ws.team_domain}.slack.com/archives/{channel_id}/"
            f"p{message.ts.replace('.', '')}")
    if message.thread_ts:
        link += f"?thread_ts={message.thread_ts}&cid={channel_id}"
    return {"channel": channel_id, "permalink": link}


METHODS = {"chat.getPermalink": chat_get_permalink}

__all__ = ["METHODS", "chat_get_permalink"]
