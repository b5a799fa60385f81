"""Codat's per-minute request limit, kept on billbot's side.

Codat answers 429 beyond 1,000 requests a minute per IP (codat.md §3). Every request of a
deployment (all its replicas: they usually leave through one address) takes a slot in one
bucket per API key before it is sent (billbot/pacing.py; shared through PostgreSQL when
replicas share one). Background work (jobs: digests, refreshes, reminders, recovery) waits
for its slot; a person's call goes at once and the background calls absorb it. A 429 that
still comes holds the bucket for its Retry-After.

The pace stays under the limit by design: a burst of a twentieth of the limit, then a
sustained rate that keeps any window of the limit's length at 97% of the limit or less (the
rest is room for network jitter and people's calls).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import ParamSpec, TypeVar

from billbot import metrics
from billbot.pacing import Limit, SlotBook

_P = ParamSpec("_P")
_R = TypeVar("_R")

# Codat's documented limit (requests a minute per IP), the default of
# BILLBOT_CODAT_REQUESTS_PER_MINUTE.
CODAT_REQUESTS_PER_MINUTE = 1000
_HEADROOM = 0.97

_background: ContextVar[bool] = ContextVar("billbot_codat_background", default=False)


def codat_limit(requests: int, window_seconds: float = 60.0) -> Limit:
    """The pace that keeps any `window_seconds` at 97% of `requests` or less."""
    if requests < 1 or window_seconds <= 0:
        raise ValueError("a Codat limit needs at least one request in a positive window")
    burst = max(1, requests // 20)
    sustained = max(1, int(requests * _HEADROOM) - burst)
    return Limit(interval=window_seconds / sustained, burst=burst)


def bucket_key(api_key: str) -> str:
    """One bucket per Codat key; the key itself never reaches the database."""
    return "codat:" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


@contextmanager
def background_calls() -> Iterator[None]:
    """Codat calls made inside wait for their turn (a job's), instead of going at once."""
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


def in_background(work: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """`work`'s Codat calls are background calls."""
    @wraps(work)
    async def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with background_calls():
            return await work(*args, **kwargs)
    return run


def is_background() -> bool:
    return _background.get()


class CodatPace:
    """One deployment's bucket of Codat requests."""

    def __init__(self, slots: SlotBook, key: str, limit: Limit, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.slots = slots
        self._key = key
        self.limit = limit
        self._sleep = sleep

    async def turn(self) -> float:
        """Wait for this request's slot (a background one) or take it now; the seconds waited."""
        wait = await self.slots.reserve(self._key, self.limit, urgent=not is_background())
        if wait > 0:
            metrics.codat_paced(wait)
            await self._sleep(wait)
        return max(0.0, wait)

    async def hold(self, seconds: float) -> None:
        """Codat said Retry-After: no background request in this bucket before then."""
        await self.slots.hold(self._key, seconds, self.limit)


__all__ = ["CODAT_REQUESTS_PER_MINUTE", "CodatPace", "background_calls", "bucket_key",
           "codat_limit", "in_background", "is_background"]
