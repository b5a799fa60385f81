"""procrastinate's job manager, minus two races that stop work for good (procrastinate 3.10).

1. **Fetching a job whose lock another worker is taking.** `procrastinate_fetch_job_v2` checks
   that no job of the same lock is running against its snapshot; a worker that starts a job of
   lower priority at the same moment is not in it yet, so two workers can both mark a job of
   one lock `doing`, and the second meets the unique index on running locks. The exception
   leaves the worker's fetch loop and the worker ends (upstream issue #1241). The fetch is
   simply made again: its new snapshot sees the other job running and picks another.
2. **Retrying a job that a copy of is already queued.** A sweep may queue a job again under
   the same queueing lock while it runs (the lock binds waiting jobs only); if the running one
   then fails, putting it back to wait meets the unique index on queueing locks, the exception
   is lost in the job's task, and the row stays `doing` with its lock held (upstream #1446):
   the company's jobs would wait until the replica restarts. The copy will do the work, so the
   failed run is closed as failed instead.
3. **A job's outcome lost with a database connection.** The same lost exception, the same row
   left `doing` under a live worker, when the connection recording the outcome was cut (a
   PostgreSQL restart, a proxy's idle timeout): the outcome is written again on a fresh
   connection, for about 15 s. A longer outage also stops the worker's heartbeat, which ends
   the worker (started again by `QueueJobs`), and its jobs are put back by the stalled sweep.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Callable, Iterable

from procrastinate.exceptions import ConnectorException, NoResult, UniqueViolation
from procrastinate.jobs import Job, Status
from procrastinate.manager import QUEUEING_LOCK_CONSTRAINT, JobManager

from billbot import metrics

logger = logging.getLogger("billbot.jobs")

# The unique index on the locks of running jobs (procrastinate's schema.sql).
RUNNING_LOCK_CONSTRAINT = "procrastinate_jobs_lock_idx_v1"
# A second fetch sees the winner's job running; more than that means a burst of such races.
FETCH_ATTEMPTS = 3
# Pauses before writing a job's outcome again (about 15 s in all).
PERSIST_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)


class BillbotJobManager(JobManager):
    async def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> Job | None:
        for _ in range(FETCH_ATTEMPTS):
            try:
                return await super().fetch_job(queues=queues, worker_id=worker_id)
            except UniqueViolation as exc:
                if exc.constraint_name != RUNNING_LOCK_CONSTRAINT:
                    raise
                metrics.job_queue_race("fetch")
                logger.debug("another worker took a job of the same lock; fetching again")
        return None  # the worker fetches again on its next notification or poll

    async def retry_job(self, job: Job, retry_at: datetime.datetime | None = None,
                        priority: int | None = None, queue: str | None = None,
                        lock: str | None = None) -> None:
        if not await self.retry_or_close(job, retry_at=retry_at, priority=priority,
                                         queue=queue, lock=lock):
            logger.warning("job %s (%s) failed while a copy of it was queued: closed as failed,"
                           " the copy does the work", job.id, job.task_name)

    async def retry_or_close(self, job: Job, retry_at: datetime.datetime | None = None,
                             priority: int | None = None, queue: str | None = None,
                             lock: str | None = None) -> bool:
        """Put `job` back to wait; False when a queued copy made it closed as failed instead."""
        try:
            await self._persist(job, lambda: super(BillbotJobManager, self).retry_job(
                job, retry_at=retry_at, priority=priority, queue=queue, lock=lock))
        except UniqueViolation as exc:
            if exc.constraint_name != QUEUEING_LOCK_CONSTRAINT:
                raise
            await self.finish_job(job, status=Status.FAILED, delete_job=False)
            metrics.job_queue_race("retry")
            return False
        return True

    async def finish_job(self, job: Job, status: Status, delete_job: bool) -> None:
        await self._persist(job, lambda: super(BillbotJobManager, self).finish_job(
            job, status=status, delete_job=delete_job))

    async def _persist(self, job: Job, write: Callable[[], Awaitable[None]]) -> None:
        pauses = iter(PERSIST_PAUSES)
        while True:
            try:
                await write()
                return
            except UniqueViolation:
                raise
            except ConnectorException as exc:
                pause = next(pauses, None)
                if pause is None:
                    raise
                logger.warning("job %s (%s): its outcome was not recorded (%r); writing it again"
                               " in %g s", job.id, job.task_name, exc.__cause__ or exc, pause)
            await asyncio.sleep(pause)
            if not await self._running(job):
                return  # the lost answer was to a write that took effect

    async def _running(self, job: Job) -> bool:
        if job.id is None:
            return False
        try:
            return await self.get_job_status_async(job.id) is Status.DOING
        except NoResult:
            return False  # it succeeded and was removed
        except ConnectorException:
            return True  # the database is still away: write again, or give up


__all__ = ["FETCH_ATTEMPTS", "PERSIST_PAUSES", "RUNNING_LOCK_CONSTRAINT", "BillbotJobManager"]
