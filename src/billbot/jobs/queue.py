"""The PostgreSQL driver: jobs on procrastinate's queue, shared by every replica.

Each replica runs one procrastinate worker inside its event loop, `BILLBOT_JOB_CONCURRENCY`
jobs at a time. The sweeps are procrastinate periodic tasks: every worker tries to defer
each tick and a unique row (task, tick) lets exactly one succeed, so a tick fires once
across replicas; each sweep carries a lock and a queueing lock of its own name, so a slow one
is neither overlapped nor piled up. Jobs carry the company lock and the dedupe key the
catalog gives them, and a failed job is retried with exponential backoff. Workers beat a
heartbeat; the jobs of a worker silent for `BILLBOT_JOB_STALLED_SECONDS` (a killed replica)
are put back in the queue by whichever replica's stalled-job sweep sees them first. A worker
that ends (the database lost, a side task failed) is started again (`_keep_working`), and two
races between workers that would stop one for good are settled in `queue_manager`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial

from procrastinate import App, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued

from billbot import metrics
from billbot.codat.pacing import background_calls
from billbot.jobs.catalog import (
    JOBS,
    Args,
    digest_sweep,
    full_read_sweep,
    recovery_tick,
    reminder_sweep,
)
from billbot.jobs.queue_manager import BillbotJobManager
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
# A worker that ended is started again after 1 s, then 2, 4... up to a minute between tries
# while it keeps ending (the database down for a while).
RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 60.0


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
            conninfo=conninfo(s.database_url),
            # The name shows in pg_stat_activity: which replica's queue holds a connection.
            kwargs={"options": f"-c search_path={SCHEMA}", "application_name": self.name[:63]},
            min_size=1, max_size=self.concurrency + 3)
        self.app = App(connector=connector)
        self.app.job_manager = self.manager = BillbotJobManager(connector=connector)
        self.restarts = 0  # times the worker ended and was started again
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
        stalled = list(await self.manager.get_stalled_jobs(
            seconds_since_heartbeat=self.stalled_seconds))
        retried = 0
        for job in stalled:
            try:
                # A queued copy of the job (a sweep deferred it again while this one hung)
                # gets the dead run closed as failed: its lock would block the copy forever.
                requeued = await self.manager.retry_or_close(job)
            except Exception as exc:  # another replica's sweep put it back or closed it first
                logger.debug("job %s not retried here: %s", job.id, exc)
                continue
            if requeued:
                retried += 1
            logger.warning("job %s (%s) was left running by a dead worker; %s", job.id,
                           job.task_name, "queued again" if requeued
                           else "a copy of it is queued, so it is closed as failed")
        await self.manager.prune_stalled_workers(self.stalled_seconds)
        return retried

    async def start(self) -> None:
        await self.app.open_async()
        self._worker = asyncio.create_task(self._keep_working(), name="billbot-job-worker")

    async def _keep_working(self) -> None:
        """Run the worker; start it again, after a growing pause, whenever it ends.

        procrastinate ends its worker when a query of its fetch loop fails (the database
        restarted or unreachable) or one of its side tasks does (heartbeat, listener,
        periodic deferrer). Without this the replica would run no job until it restarted,
        and with one replica nothing would.
        """
        pause = RESTART_FIRST_SECONDS
        while True:
            started = time.monotonic()
            metrics.job_worker_running(+1)
            try:
                await self.app.run_worker_async(
                    name=self.name, concurrency=self.concurrency, install_signal_handlers=False,
                    update_heartbeat_interval=max(0.5, self.stalled_seconds / 4),
                    stalled_worker_timeout=self.stalled_seconds, shutdown_graceful_timeout=10,
                    delete_jobs="successful")
                why = "one of its tasks failed"  # procrastinate logged which, and why
            except asyncio.CancelledError:
                raise  # stop()
            except Exception as exc:
                why = repr(exc)
            finally:
                metrics.job_worker_running(-1)
            if time.monotonic() - started > RESTART_MAX_SECONDS:
                pause = RESTART_FIRST_SECONDS  # it had been working: not a restart loop
            self.restarts += 1
            metrics.job_worker_restarted()
            logger.error("the job worker stopped (%s); starting it again in %g s", why, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, RESTART_MAX_SECONDS)

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
            self._worker = None
        with contextlib.suppress(Exception):  # never opened, or already closed
            await self.app.close_async()


__all__ = ["SCHEMA", "QueueJobs", "conninfo", "every"]
