"""Faults a test switches on: rate limits (HTTP 429 + Retry-After) or `ok:false` answers."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One planned bad answer. `retry_after` set means HTTP 429 `ratelimited`."""

    method: str
    error: str
    retry_after: int | None = None


class Faults:
    """Per-method queues of bad answers, consumed one per call in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: defaultdict[str, deque[Fault]] = defaultdict(deque)

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and `Retry-After: retry_after`."""
        self._add(Fault(method, "ratelimited", retry_after), times)

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with `{"ok": false, "error": error}`."""
        self._add(Fault(method, error), times)

    def take(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._queued.get(method)
            return queue.popleft() if queue else None

    def pending(self, method: str) -> int:
        with self._lock:
            return len(self._queued.get(method, ()))

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()

    def _add(self, fault: Fault, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queued[fault.method].extend([fault] * times)
