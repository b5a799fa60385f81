"""Slack's rate limits as token buckets: per method per workspace by tier, and for
chat.postMessage about one message per second per channel with a short burst. Over a limit the
call is answered HTTP 429 with `Retry-After` (whole seconds), as Slack does.

Time is real (monotonic) by default, not the workspace's clock: tests often freeze that clock,
and a frozen bucket would never refill.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from billbot.sandbox.slack.method_rules import (
    POST_BURST,
    POST_PER_SECOND,
    TIER_PER_MINUTE,
    rule_for,
)


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    tokens: float
    at: float

    def take(self, now: float) -> float | None:
        """Spend one call; None if allowed, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.per_second


class RateLimits:
    """On by default. `enabled = False` only in a test that measures something else, with a
    comment saying why."""

    def __init__(self, *, enabled: bool = True,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self._now = monotonic
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def now(self) -> float:
        """The limiter's clock (monotonic seconds unless a test gave another)."""
        return self._now()

    def retry_after(self, method: str, channel: str | None) -> int | None:
        """None if the call may go ahead (and count it), else the Retry-After seconds."""
        if not self.enabled:
            return None
        rule = rule_for(method)
        if rule.tier is None:
            key, capacity, rate = (method, channel or ""), float(POST_BURST), POST_PER_SECOND
        else:
            per_minute = TIER_PER_MINUTE[rule.tier]
            key, capacity, rate = (method, ""), float(per_minute), per_minute / 60
        with self._lock:
            now = self._now()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(capacity, rate, capacity, now)
            wait = bucket.take(now)
        return None if wait is None else max(1, math.ceil(wait))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
