"""The PostgreSQL driver's home in a replica: a thread of its own, below the requests.

A replica's job worker parses bills, builds digests and redraws rows: CPU work that, on the
event loop that also answers Slack, delayed acknowledgements behind it (bench/scale.py:
p99 about 3x idle while a day's digests were posted). So the worker runs on its own event loop
in a thread of its own, with a Billbot of its own: to the database and the job queue it is one
more replica, which billbot already is built for (claims, locks and Slack's buckets live in
PostgreSQL, and each replica's in-memory caches are checked against it). What it shares with
the requests is the process: its memory, and the interpreter lock, which a thread waiting
for it gets within `SWITCH_SECONDS`.

The thread runs at a lower CPU priority (`nice`; Linux schedules threads one by one, and the
threads it starts inherit it), so on a busy machine the kernel runs the requests first and the
jobs in the time left. Nothing about a job's outcome depends on its priority: only how soon it
gets the CPU.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import sys
import threading
from collections import Counter
from typing import TYPE_CHECKING

from billbot.runtime import Billbot, build_billbot

if TYPE_CHECKING:
    from billbot.jobs.queue import QueueJobs

logger = logging.getLogger("billbot.jobs")

# Added to the process's nice value: the kernel gives such a thread about a tenth of the CPU
# time a request's thread gets when both want it.
JOB_NICENESS = 10
# How long a thread holding the interpreter runs on once another asks for it (Python's default is
# 5 ms): an acknowledgement waits that long at most each time it needs the interpreter back.
SWITCH_SECONDS = 0.001
STOP_SECONDS = 30.0


class ThreadedJobs:
    """`QueueJobs` on a thread and event loop of its own, with its own Billbot."""

    def __init__(self, bot: Billbot, *, name: str | None = None) -> None:
        self._settings = bot.settings
        self._clock = bot.clock
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._jobs: QueueJobs | None = None
        self._bot: Billbot | None = None
        self._switch_before: float | None = None

    @property
    def ran(self) -> Counter[str]:
        return self._jobs.ran if self._jobs is not None else Counter()

    @property
    def acted(self) -> Counter[str]:
        return self._jobs.acted if self._jobs is not None else Counter()

    @property
    def fired(self) -> list[tuple[str, int]]:
        """The periodic sweeps this replica ran, and their tick."""
        return list(self._jobs.fired) if self._jobs is not None else []

    async def start(self) -> None:
        started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._serve, args=(started,),
                                        name="billbot-jobs", daemon=True)
        self._thread.start()
        try:
            await asyncio.wrap_future(started)
        except BaseException:
            await asyncio.to_thread(self._thread.join, STOP_SECONDS)
            self._thread = None
            raise
        self._switch_before = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_before, SWITCH_SECONDS))

    async def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        stopped = asyncio.run_coroutine_threadsafe(self._stop_inside(), loop)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.wrap_future(stopped), STOP_SECONDS)
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, STOP_SECONDS)
        self._thread = None
        if self._switch_before is not None:
            sys.setswitchinterval(self._switch_before)
            self._switch_before = None

    def _serve(self, started: concurrent.futures.Future[None]) -> None:
        lower_this_threads_priority(JOB_NICENESS)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_inside())
        except BaseException as exc:
            started.set_exception(exc)
            # A start that failed half-way (the queue opened, the worker not) is undone whole.
            with contextlib.suppress(Exception):
                loop.run_until_complete(self._stop_inside())
            loop.close()
            return
        self._loop = loop
        started.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            self._loop = None

    async def _start_inside(self) -> None:
        from billbot.jobs.queue import QueueJobs

        # The requests' Billbot has migrated the schema and recorded the configured policy:
        # this one only follows the policy versions in force.
        self._bot = build_billbot(self._settings, clock=self._clock)
        await self._bot.follow_policies()
        self._jobs = QueueJobs(self._bot, name=self._name)
        await self._jobs.start()

    async def _stop_inside(self) -> None:
        if self._jobs is not None:
            await self._jobs.stop()
        bot, self._bot = self._bot, None
        if bot is not None:
            await bot.shutdown()


def lower_this_threads_priority(niceness: int) -> None:
    """Raise the calling thread's nice value by `niceness` (Linux: per thread; elsewhere it
    is the process's, so it is left alone)."""
    if niceness <= 0 or not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid)
                                                  + niceness))
    except OSError as exc:  # a sandbox that forbids it: the jobs still run, at equal priority
        logger.warning("the job thread's priority was not lowered: %s", exc)


__all__ = ["JOB_NICENESS", "ThreadedJobs", "lower_this_threads_priority"]
