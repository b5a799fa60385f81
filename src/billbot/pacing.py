"""Rate-limit buckets on billbot's side, so that calls are spaced out rather than refused.

Slack (slack_web/pacing.py: per workspace and method tier, per channel for posts) and Codat
(codat/pacing.py: requests a minute per key) each limit how fast billbot may call them. Every
call first reserves a slot in its bucket and waits for it:

- the slot: a GCRA ("generic cell rate algorithm") schedule, so one number per bucket (the
  theoretical arrival time, "tat") says when the next call may go; a short burst is allowed;
- an urgent call (a person's click) goes at once but still takes its slot: the calls that
  can wait (background work) absorb the delay, so the bucket's rate is kept;
- after a 429, `hold` moves the bucket's next slot to at least `Retry-After` from now, so
  every caller of that bucket (not only the one refused) waits it out.

`Slots` keeps the schedule in this process. Replicas on one PostgreSQL share one schedule per
bucket through `storage/slack_slots.py` (a row per bucket, updated atomically).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Limit:
    interval: float  # seconds between calls at the sustained rate
    burst: int  # calls that may go at once when the bucket has been quiet


class SlotBook(Protocol):
    """Where each bucket's schedule is kept: this process, or a shared database."""

    async def reserve(self, key: str, limit: Limit, *, urgent: bool = False) -> float:
        """Take the bucket's next slot; the seconds to wait until it (0 when `urgent`)."""
        ...

    async def hold(self, key: str, seconds: float, limit: Limit) -> None:
        """No slot in this bucket earlier than `seconds` from now (a 429's Retry-After)."""
        ...


def next_slot(tat: float | None, now: float, limit: Limit, *,
              urgent: bool = False) -> tuple[float, float]:
    """GCRA: (this call's slot, the bucket's new theoretical arrival time). An urgent call's
    slot is now, and the schedule moves on as if it had waited its turn."""
    tolerance = (limit.burst - 1) * limit.interval
    tat = now if tat is None else tat
    slot = max(now, tat - tolerance)
    return (now if urgent else slot), max(tat, slot) + limit.interval


def held_until(tat: float | None, now: float, seconds: float, limit: Limit) -> float:
    """The arrival time that puts the next slot `seconds` from now, with no burst left."""
    tolerance = (limit.burst - 1) * limit.interval
    return max(tat if tat is not None else now, now + seconds + tolerance)


class Slots:
    """The schedule in this process (SQLite, or one replica); thread-safe, so a process's
    request loop and its job thread share it."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    async def reserve(self, key: str, limit: Limit, *, urgent: bool = False) -> float:
        with self._lock:
            now = self._now()
            slot, self._tat[key] = next_slot(self._tat.get(key), now, limit, urgent=urgent)
        return slot - now

    async def hold(self, key: str, seconds: float, limit: Limit) -> None:
        with self._lock:
            now = self._now()
            self._tat[key] = held_until(self._tat.get(key), now, seconds, limit)


__all__ = ["Limit", "SlotBook", "Slots", "held_until", "next_slot"]
