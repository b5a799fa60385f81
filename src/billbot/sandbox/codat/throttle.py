"""Codat's per-minute and per-company limits (codat.md §3, D): 1,000 requests a minute per IP
and 10 concurrent requests per connected company, each answered 429 with Retry-After beyond
it. Off unless set (a long demo or a test would otherwise meet them by accident); the scale
benchmark and the pacing tests turn them on.

The minute is a sliding window of the requests admitted (a refused one does not count, so a
client that waits its Retry-After gets in). The window's length can be shortened for tests.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

PER_MINUTE = 1000  # Codat's documented figures, what `documented()` turns on
CONCURRENT_PER_COMPANY = 10


@dataclass
class Throttle:
    per_window: int | None = None  # requests admitted per window and client address
    window_seconds: float = 60.0
    concurrent_per_company: int | None = None
    monotonic: Callable[[], float] = time.monotonic
    refused: Counter[str] = field(default_factory=Counter)  # "per_minute" / "concurrent"
    _admitted: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _in_flight: Counter[str] = field(default_factory=Counter, repr=False)

    def documented(self) -> None:
        """Codat's own figures: 1,000 a minute per address, 10 at once per company."""
        self.per_window, self.window_seconds = PER_MINUTE, 60.0
        self.concurrent_per_company = CONCURRENT_PER_COMPANY

    def admit(self, address: str, company_id: str | None) -> int | None:
        """Admit one request (None), or the seconds to wait (its Retry-After). The caller
        holds the sandbox's lock and calls `release` when an admitted request ends."""
        now = self.monotonic()
        admitted = self._admitted.setdefault(address, deque())
        if self.per_window is not None:
            while admitted and admitted[0] <= now - self.window_seconds:
                admitted.popleft()
            if len(admitted) >= self.per_window:
                self.refused["per_minute"] += 1
                return max(1, math.ceil(admitted[0] + self.window_seconds - now))
        if (company_id and self.concurrent_per_company is not None
                and self._in_flight[company_id] >= self.concurrent_per_company):
            self.refused["concurrent"] += 1
            return 1
        if self.per_window is not None:
            admitted.append(now)
        if company_id:
            self._in_flight[company_id] += 1
        return None

    def release(self, company_id: str | None) -> None:
        if company_id:
            self._in_flight[company_id] -= 1
            if self._in_flight[company_id] <= 0:
                del self._in_flight[company_id]

    def in_flight(self, company_id: str) -> int:
        return self._in_flight[company_id]


__all__ = ["CONCURRENT_PER_COMPANY", "PER_MINUTE", "Throttle"]
