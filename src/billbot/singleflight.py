"""Concurrent callers asking for the same thing share one call in flight.

Twenty people typing `/bills due` in the same second need one read of the company's bills,
not twenty (Codat rate-limits per company, and parsing a long bill list is the bot's
costliest work). Nothing outlives the call: a caller arriving after it finished starts a
fresh one, so no answer is older than one that a concurrent reader would have seen anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

logger = logging.getLogger("billbot.coalesce")

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


class Coalescer(Generic[K]):
    """Requests for the same key arriving while its job waits or runs make one more run, not
    one each: ten approvals in a second re-publish a person's Home view once or twice.

    A request made while the job runs is not lost: the job runs again after it, so the last
    run always starts after the last request.
    """

    def __init__(self, delay: float = 0.2) -> None:
        self.delay = delay
        self._tasks: dict[K, asyncio.Task[None]] = {}
        self._again: set[K] = set()

    def request(self, key: K, job: Callable[[], Awaitable[None]]) -> None:
        self._again.add(key)
        if key not in self._tasks:
            self._tasks[key] = asyncio.get_running_loop().create_task(self._run(key, job))

    async def _run(self, key: K, job: Callable[[], Awaitable[None]]) -> None:
        try:
            while key in self._again:
                await asyncio.sleep(self.delay)
                self._again.discard(key)
                try:
                    await job()
                except Exception:
                    logger.exception("coalesced job failed")
        finally:
            del self._tasks[key]

    async def settle(self) -> None:
        """Wait until no job is waiting or running (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def pending(self) -> int:
        return len(self._tasks)


__all__ = ["Coalescer", "SingleFlight"]
