"""Identifiers the way Slack shapes them: message ts strings, V... view ids, trigger ids."""

from __future__ import annotations

import hashlib
import threading
from itertools import count

from billbot.clock import Clock

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class IdSource:
    """Unique ids for one workspace. `ts()` strings increase strictly, even on a fixed clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._serial = count(1)
        self._last_micros = 0

    def share(self, other: IdSource) -> None:
        """Draw from `other`'s sequence: workspaces served together never issue the same
        response_url, view or trigger id (a response_url finds its workspace by its id)."""
        self._lock, self._serial = other._lock, other._serial

    def ts(self) -> str:
        """A message timestamp like `1763800000.000100`: seconds, dot, six digits."""
        micros = int(self._clock.now().timestamp() * 1_000_000)
        with self._lock:
            micros = max(micros, self._last_micros + 1)
            self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def serial(self) -> int:
        with self._lock:
            return next(self._serial)

    def object_id(self, prefix: str) -> str:
        """An id like Slack's `V0A1B2C3D4` (views) or `R...` (response urls)."""
        return f"{prefix}{self.serial():09X}"

    def token(self, length: int = 8) -> str:
        """A short opaque string, stable for a given sequence of calls (deterministic tests)."""
        digest = hashlib.sha256(f"billbot-slack-standin:{self.serial()}".encode()).digest()
        return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])

    def trigger_id(self) -> str:
        seconds = int(self._clock.now().timestamp())
        return f"{seconds}.{self.serial()}.{self.token(16)}"

    def view_hash(self) -> str:
        return f"{int(self._clock.now().timestamp())}.{self.token(8)}"
