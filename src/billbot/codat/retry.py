"""When and how long the Codat client waits before trying a request again.

The policy is plain data; the client asks it for the next delay and keeps the budget. Delays
grow exponentially (Codat's own SDK uses 0.5 s x 1.5^n), are capped per wait and in total, and
are jittered so that many bot replicas hitting the same 503 do not come back in lock step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol


class JitterSource(Protocol):
    """Anything with `random() -> float` in [0, 1); `random.Random` fits, tests pass a stub."""

    def random(self) -> float: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by a total time budget.

    Attributes:
        initial_interval: the first wait, in seconds, before jitter.
        exponent: each further wait is the previous one times this.
        max_interval: no single backoff wait exceeds this (a Retry-After is only capped by
            the remaining budget).
        max_elapsed: total seconds one call may spend, waits and attempts included; no retry
            starts once it is used up.
        max_attempts: an optional cap on attempts per call (None: the budget decides).
        conflict_retries: how often a 409 "dataset still syncing" on a read is retried
            before it surfaces as CodatConflict.
        jitter: the share of each backoff wait that is random; 0.5 waits between half and
            all of the computed interval.
        rng: the jitter source; inject a seeded `random.Random` for reproducible runs.
    """

    initial_interval: float = 0.5
    exponent: float = 1.5
    max_interval: float = 8.0
    max_elapsed: float = 30.0
    max_attempts: int | None = None
    conflict_retries: int = 3
    jitter: float = 0.5
    rng: JitterSource = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.initial_interval < 0 or self.max_interval < 0 or self.max_elapsed < 0:
            raise ValueError("retry intervals and budget must not be negative")
        if self.exponent < 1:
            raise ValueError("exponent must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    @classmethod
    def none(cls) -> RetryPolicy:
        """Exactly one attempt: callers that run their own retry loop (the completer)."""
        return cls(max_attempts=1, conflict_retries=0)

    @classmethod
    def background(cls, *, rng: JitterSource | None = None) -> RetryPolicy:
        """A longer budget for scheduled jobs, where nobody waits on a Slack modal."""
        return cls(max_interval=60.0, max_elapsed=300.0, rng=rng or random.Random())

    def backoff(self, retry_number: int) -> float:
        """The wait before retry number `retry_number` (0 for the first retry), jittered."""
        base = min(self.max_interval, self.initial_interval * self.exponent**retry_number)
        return base * (1.0 - self.jitter * self.rng.random())

    def allows_attempt(self, attempts_made: int) -> bool:
        return self.max_attempts is None or attempts_made < self.max_attempts


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date.

    `now` is the reference for a date; pass the response's own `Date` so that clock skew
    between Codat and this machine does not matter. Unparseable values give None.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is not a wait
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now or datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP `Date` header as an aware datetime, or None."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


__all__ = ["JitterSource", "RetryPolicy", "parse_http_date", "parse_retry_after"]
