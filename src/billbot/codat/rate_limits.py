"""Codat's daily request allowance, as its `X-Rate-Limit-*` headers report it.

Every response carries `X-Rate-Limit-Limit`, `-Remaining` and `-Reset` (codat.md §3; the spec
declares none of them, so each is read defensively and a malformed one is ignored). The
client hands each response's headers to its `RateLimits`; background work asks
`under_reserve` before reading, so people's clicks keep the last part of the allowance.
`process_allowance()` is the latest figure any client in this process saw; the same figures
go to the `billbot_codat_rate_limit_remaining`/`_limit` gauges (`billbot.metrics`).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from billbot import metrics

logger = logging.getLogger("billbot.codat.allowance")

LIMIT_HEADER = "X-Rate-Limit-Limit"
REMAINING_HEADER = "X-Rate-Limit-Remaining"
RESET_HEADER = "X-Rate-Limit-Reset"
# The remaining allowance is logged whenever it crosses one of these shares of the limit.
_LOG_STEPS = 10


@dataclass(frozen=True)
class Allowance:
    limit: int
    remaining: int
    reset_at: datetime | None  # when the allowance is renewed (00:00 UTC at Codat)
    seen_at: datetime

    @property
    def share_left(self) -> float:
        return self.remaining / self.limit if self.limit > 0 else 1.0

    def renewed_by(self, now: datetime) -> bool:
        return self.reset_at is not None and now >= self.reset_at


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def _instant(value: str | None) -> datetime | None:
    """Unix seconds (what the sandbox sends) or an ISO-8601 instant."""
    if value is None:
        return None
    text = value.strip()
    seconds = _int(text)
    if seconds is not None:
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_allowance(headers: Mapping[str, str], *, now: datetime) -> Allowance | None:
    """The allowance a response reports; None when it carries no usable pair of figures."""
    limit, remaining = _int(headers.get(LIMIT_HEADER)), _int(headers.get(REMAINING_HEADER))
    if limit is None or remaining is None:
        return None
    return Allowance(limit=limit, remaining=min(remaining, limit),
                     reset_at=_instant(headers.get(RESET_HEADER)), seen_at=now)


class RateLimits:
    """The latest allowance one Codat client (and its clones) saw; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Allowance | None = None

    @property
    def latest(self) -> Allowance | None:
        return self._latest

    def observe(self, headers: Mapping[str, str], *, now: datetime | None = None) -> None:
        seen = read_allowance(headers, now=now or datetime.now(UTC))
        if seen is None:
            return
        with self._lock:
            before = self._latest
            self._latest = seen
        _remember_for_process(seen)
        metrics.codat_allowance(seen.remaining, seen.limit)
        if before is None or before.limit != seen.limit or _step(before) != _step(seen):
            logger.info("codat allowance: %d of %d requests left today", seen.remaining,
                        seen.limit, extra={"codat_remaining": seen.remaining,
                                           "codat_limit": seen.limit})

    def under_reserve(self, reserve: float, *, now: datetime) -> bool:
        """True when the last answer left less than `reserve` (a share of the limit) and the
        allowance has not been renewed since: background reads wait."""
        latest = self._latest
        if latest is None or reserve <= 0 or latest.renewed_by(now):
            return False
        return latest.share_left < reserve


def _step(allowance: Allowance) -> int:
    return math.floor(allowance.share_left * _LOG_STEPS)


_process_lock = threading.Lock()
_process_latest: Allowance | None = None


def _remember_for_process(seen: Allowance) -> None:
    global _process_latest
    with _process_lock:
        _process_latest = seen


def process_allowance() -> Allowance | None:
    """The allowance the most recent Codat response in this process reported (a gauge)."""
    return _process_latest


__all__ = ["Allowance", "RateLimits", "process_allowance", "read_allowance"]
