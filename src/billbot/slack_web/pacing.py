"""Slack's rate limits, kept on billbot's side so that calls are spaced out rather than refused.

Slack limits each Web API method per workspace by tier (Tier 1–4: 1, 20, 50, 100+ calls a
minute) and chat.postMessage about one message a second per channel (guide slack.md §4).
Every call first reserves a slot in its bucket (billbot/pacing.py: the schedule, the burst,
a 429's hold) and waits for it. The bucket's key: the workspace (the token's fingerprint), the
method, and for chat.postMessage the channel.
"""

from __future__ import annotations

import hashlib

from billbot.pacing import Limit, SlotBook, Slots

__all__ = [
    "METHOD_TIERS",
    "POSTS_PER_SECOND",
    "POST_BURST",
    "TIER_PER_MINUTE",
    "Limit",
    "SlotBook",
    "Slots",
    "bucket_key",
    "limit_for",
    "workspace_of",
]

# Calls a minute per tier (Slack's documented floor: "Tier 3: 50+ per minute").
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
POSTS_PER_SECOND = 1.0
POST_BURST = 3  # below the burst Slack tolerates, so a paced bot never meets the limit

# The tier of each method billbot calls (docs.slack.dev/reference/methods/<method>); a method
# missing here is taken as Tier 3. chat.postMessage has its own per-channel limit (None).
METHOD_TIERS: dict[str, int | None] = {
    "chat.postMessage": None,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "users.info": 4,
    "bots.info": 3,
    "auth.test": 4,
    "conversations.info": 3,
    "conversations.members": 4,
    "conversations.open": 3,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 3,
    "files.info": 3,
    "usergroups.users.list": 2,
    "usergroups.list": 2,
    "apps.connections.open": 1,
}


def limit_for(method: str) -> Limit:
    tier = METHOD_TIERS.get(method, 3)
    if tier is None:
        return Limit(1 / POSTS_PER_SECOND, POST_BURST)
    per_minute = TIER_PER_MINUTE[tier]
    # Half a minute's worth at once at most: Slack tolerates bursts but documents none.
    return Limit(60 / per_minute, max(1, per_minute // 2))


def bucket_key(workspace: str, method: str, channel: str | None) -> str:
    if METHOD_TIERS.get(method, 3) is None:
        return f"{workspace}:{method}:{channel or ''}"
    return f"{workspace}:{method}"


def workspace_of(token: str | None) -> str:
    """A short fingerprint of the token, so keys (and the database) never hold the token."""
    return hashlib.sha256((token or "").encode()).hexdigest()[:16]
