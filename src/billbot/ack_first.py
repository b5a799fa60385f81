"""Acknowledgements first: the work that follows an `ack()` waits for the others' answers.

Everything billbot does runs on one event loop. When a burst of clicks and commands arrives
together, the first ones acknowledged would start their slow part (re-reading bills from
Codat, parsing them, database writes) while the rest still wait for their 200, and Slack
gives each request 3 seconds. So the slow part first waits until no HTTP request is waiting
for its answer (this one included: its own 200 has left), for at most `max_wait` seconds, so
that under sustained load work is delayed, never starved. A Pay click's trigger_id lives
3 seconds, far longer than the wait.

Socket Mode requests are not counted: their acknowledgement goes out over the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

MAX_WAIT_SECONDS = 0.3


class AckFirst:
    def __init__(self, *, max_wait: float = MAX_WAIT_SECONDS) -> None:
        self._max_wait = max_wait
        self._awaiting = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    @property
    def awaiting(self) -> int:
        """HTTP requests received and not yet answered."""
        return self._awaiting

    @contextlib.contextmanager
    def awaiting_answer(self) -> Iterator[None]:
        """Around the handling of one HTTP request, up to its answer."""
        self._awaiting += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._awaiting -= 1
            if self._awaiting == 0:
                self._quiet.set()

    async def after_answers(self) -> None:
        """Return once no request awaits its answer, or after `max_wait` seconds."""
        if self._awaiting == 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._max_wait):
                await self._quiet.wait()

    def then_work(self, ack: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[None]]:
        """`ack` that, once called, lets the answers in flight go out before returning."""
        async def acknowledge(*args: Any, **kwargs: Any) -> None:
            await ack(*args, **kwargs)
            await self.after_answers()
        return acknowledge


__all__ = ["MAX_WAIT_SECONDS", "AckFirst"]
