"""A monotonic clock the test moves by hand (rate-limit schedules and windows)."""

from __future__ import annotations


class FakeTime:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
