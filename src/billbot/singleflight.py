"""Concurrent callers asking for the same thing share one call in flight.

Twenty people typing `/bills due` in the same second need one read of the company's bills,
not twenty (Codat rate-limits per company, and parsing a long bill list is the bot's
costliest work). Nothing outlives the call: a caller arriving after it finished starts a
fresh one, so no answer is older than one that a concurrent reader would have seen anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, call: Callable[[], Awaitable[V]]) -> V:
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(call())
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        # A caller that gives up (cancelled) leaves the call running for the others.
        return await asyncio.shield(flight)

    def _landed(self, key: K, done: asyncio.Future[V]) -> None:
        if self._flights.get(key) is done:
            del self._flights[key]
        if not done.cancelled():
            done.exception()  # retrieved here too, so a failure nobody awaited is not logged

    def in_flight(self) -> int:
        return len(self._flights)


__all__ = ["SingleFlight"]
