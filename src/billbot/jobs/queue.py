"""The PostgreSQL driver: jobs on procrastinate's queue, shared by every replica.

Each replica runs one procrastinate worker inside its event loop, `BILLBOT_JOB_CONCURRENCY`
jobs at a time. The sweeps are procrastinate periodic tasks: every worker tries to defer
each tick and a unique row (task, tick) lets exactly one succeed, so a tick fires once
across replicas; each sweep carries a lock and a queueing lock of its own name, so a slow one
is neither overlapped nor piled up. Jobs carry the company lock and the dedupe key the
catalog gives them, and a failed job is retried with exponential backoff. Workers beat a
heartbeat; the jobs of a worker silent for `BILLBOT_JOB_STALLED_SECONDS` (a killed replica)
are put back in the queue by whichever replica's stalled-job sweep sees them first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial

from procrastinate import App, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Job, Status

from billbot.codat.pacing import background_calls
from billbot.jobs.catalog import (
    JOBS,
    Args,
    digest_sweep,
    full_read_sweep,
    recovery_tick,
    reminder_sweep,
)
from billbot.runtime import Billbot
from billbot.scheduler import REMINDER_TICK_SECONDS
from billbot.storage.db import parse_database_url

logger = logging.getLogger("billbot.jobs")

SCHEMA = "billbot_jobs"  # created by migration 0020
# Waits of 2, 4, 8, 16, 32 s: a Codat or Slack outage of about a minute is ridden out; a
# digest still inside its window is queued again by the next sweep after that.
RETRY = RetryStrategy(max_attempts=6, exponential_wait=2)
# Taken first when a worker is free: a channel's reminders can take minutes (each post paced
# per channel), and the day's digests must not wait behind them (bench/scale.py showed it).
PRIORITY = {"digest": 10}
# The periodic sweeps (they queue the day's work, recover payments and dead workers' jobs)
# before any queued job: behind a day's reminders at 0 they waited minutes (bench/scale.py).
SWEEP_PRIORITY = 20


def every(seconds: float) -> str:
    """A cron line firing about every `seconds` (whole seconds under a minute, else minutes)."""
    if seconds < 60:
        return f"* * * * * */{max(1, round(seconds))}"
    return f"*/{max(1, round(seconds / 60))} * * * *"


def conninfo(database_url: str) -> str:
    return parse_database_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


class QueueJobs:
    def __init__(self, bot: Billbot, *, name: str | None = None) -> None:
        s = bot.settings
        self.bot = bot
        self.name = name or f"billbot-{os.getpid()}"
        self.concurrency = s.billbot_job_concurrency
        self.stalled_seconds = s.billbot_job_stalled_seconds
        self.ran: Counter[str] = Counter()  # jobs this replica finished, by name
        self.acted: Counter[str] = Counter()  # of those, the ones that posted or sent
        self.fired: list[tuple[str, int]] = []  # periodic sweeps this replica ran, and their tick
        connector = PsycopgConnector(
            conninfo=conninfo(s.database_url), kwargs={"options": f"-c search_path={SCHEMA}"},
            min_size=1, max_size=self.concurrency + 3)
        self.app = App(connector=connector)
        self._worker: asyncio.Task[None] | None = None
        for job in JOBS:
            self.app.task(name=job, retry=RETRY, pass_context=False)(self._runner(job))
        self._periodic("digest_sweep", every(60), partial(digest_sweep, bot, self.defer))
        self._periodic("reminder_sweep", every(REMINDER_TICK_SECONDS),
                       partial(reminder_sweep, bot, self.defer))
        self._periodic("full_read_sweep", every(60), partial(full_read_sweep, bot, self.defer))
        self._periodic("recovery_sweep", every(s.billbot_recovery_interval_seconds),
                       partial(recovery_tick, bot))
        # No lock on this one: a sweep of it left `doing` by a dead worker would otherwise
        # hold its lock until... this sweep put it back.
        self._periodic("stalled_jobs", every(max(1.0, self.stalled_seconds / 3)),
                       self.retry_stalled, locked=False)
        if not logging.getLogger("billbot").isEnabledFor(logging.DEBUG):
            # One line per job at INFO would drown billbot's own logs.
            logging.getLogger("procrastinate").setLevel(logging.WARNING)

    def _runner(self, job: str) -> Callable[..., Awaitable[None]]:
        async def run(**args: str) -> None:
            with background_calls():  # a job's Codat calls wait their turn; people's don't
                acted = await JOBS[job](self.bot, args)
            self.ran[job] += 1
            self.acted[job] += acted
        run.__name__ = job
        return run

    def _periodic(self, name: str, cron: str, work: Callable[[], Awaitable[object]], *,
                  locked: bool = True) -> None:
        async def run(timestamp: int) -> None:
            self.fired.append((name, timestamp))
            with background_calls():
                await work()
        run.__name__ = name
        task = self.app.task(name=name, pass_context=False, lock=name if locked else None,
                             queueing_lock=name, priority=SWEEP_PRIORITY)(run)
        self.app.periodic(cron=cron)(task)

    async def defer(self, job: str, args: Args, *, lock: str | None,
                    dedupe: str | None) -> bool:
        try:
            await self.app.tasks[job].configure(
                lock=lock, queueing_lock=dedupe, priority=PRIORITY.get(job, 0)).defer_async(**args)
        except AlreadyEnqueued:
            return False  # the same job is already waiting
        return True

    async def retry_stalled(self) -> int:
        """Put back the jobs of workers whose heartbeat stopped (their process died)."""
        manager = self.app.job_manager
        stalled = list(await manager.get_stalled_jobs(
            seconds_since_heartbeat=self.stalled_seconds))
        retried = 0
        for job in stalled:
            try:
                await manager.retry_job(job)
            except Exception as exc:
                # Another replica's sweep put it back first, or a queued copy of the job holds
                # its queueing lock (a sweep deferred again while this one hung): then the
                # dead run is closed as failed, else its lock would block that copy forever.
                logger.debug("job %s not retried here: %s", job.id, exc)
                await self._close_dead_run(job)
                continue
            retried += 1
            logger.warning("job %s (%s) was left running by a dead worker; queued again",
                           job.id, job.task_name)
        await manager.prune_stalled_workers(self.stalled_seconds)
        return retried

    async def _close_dead_run(self, job: Job) -> None:
        manager = self.app.job_manager
        if job.id is None:
            return
        current = await manager.get_job_status_async(job.id)
        if current is not Status.DOING:
            return  # put back or finished by someone else
        with contextlib.suppress(Exception):  # another replica closed it meanwhile
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            logger.warning("job %s (%s) was left running by a dead worker and a copy is queued;"
                           " closed as failed", job.id, job.task_name)

    async def start(self) -> None:
        await self.app.open_async()
        self._worker = asyncio.create_task(self.app.run_worker_async(
            name=self.name, concurrency=self.concurrency, install_signal_handlers=False,
            update_heartbeat_interval=max(0.5, self.stalled_seconds / 4),
            stalled_worker_timeout=self.stalled_seconds, shutdown_graceful_timeout=10,
            delete_jobs="successful"))
        self._worker.add_done_callback(_log_end)

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
            self._worker = None
        with contextlib.suppress(Exception):  # never opened, or already closed
            await self.app.close_async()


def _log_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("the job worker stopped: %r", task.exception())


__all__ = ["SCHEMA", "QueueJobs", "conninfo", "every"]
