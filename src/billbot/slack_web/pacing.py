"""Slack's rate limits, kept on billbot's side so that calls are spaced out rather than refused.

Slack limits each Web API method per workspace by tier (Tier 1–4: 1, 20, 50, 100+ calls a
minute) and chat.postMessage about one message a second per channel (guide slack.md §4).
Every call first reserves a slot in its bucket, and waits for it:

- the bucket's key: the workspace (the token's fingerprint), the method, and for
  chat.postMessage the channel;
- the slot: a GCRA ("generic cell rate algorithm") schedule, so one number per bucket (the
  theoretical arrival time) says when the next call may go; a short burst is allowed;
- after a 429, `hold` moves the bucket's next slot to at least `Retry-After` from now, so
  every caller of that bucket (not only the one refused) waits it out.

`Slots` keeps the schedule in this process. Several replicas on one PostgreSQL share one
schedule per bucket through `storage/slack_slots.py` (a row per bucket, updated atomically).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

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


@dataclass(frozen=True)
class Limit:
    interval: float  # seconds between calls at the sustained rate
    burst: int  # calls that may go at once when the bucket has been quiet


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


class SlotBook(Protocol):
    """Where each bucket's schedule is kept: this process, or a shared database."""

    async def reserve(self, key: str, limit: Limit) -> float:
        """Take the bucket's next slot; the seconds to wait until it."""
        ...

    async def hold(self, key: str, seconds: float, limit: Limit) -> None:
        """No slot in this bucket earlier than `seconds` from now (Slack said Retry-After)."""
        ...


def next_slot(tat: float | None, now: float, limit: Limit) -> tuple[float, float]:
    """GCRA: (this call's slot, the bucket's new theoretical arrival time)."""
    tolerance = (limit.burst - 1) * limit.interval
    tat = now if tat is None else tat
    slot = max(now, tat - tolerance)
    return slot, max(tat, slot) + limit.interval


def held_until(tat: float | None, now: float, seconds: float, limit: Limit) -> float:
    """The arrival time that puts the next slot `seconds` from now, with no burst left."""
    tolerance = (limit.burst - 1) * limit.interval
    return max(tat if tat is not None else now, now + seconds + tolerance)


class Slots:
    """The schedule in this process (SQLite, or one replica)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    async def reserve(self, key: str, limit: Limit) -> float:
        with self._lock:
            now = self._now()
            slot, self._tat[key] = next_slot(self._tat.get(key), now, limit)
        return slot - now

    async def hold(self, key: str, seconds: float, limit: Limit) -> None:
        with self._lock:
            now = self._now()
            self._tat[key] = held_until(self._tat.get(key), now, seconds, limit)
