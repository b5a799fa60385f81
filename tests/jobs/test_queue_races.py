"""The job queue's worker keeps working: two races between workers that procrastinate 3.10
lets stop work for good are settled (billbot.jobs.queue_manager), and a worker that ends (its
database connections killed, as in a PostgreSQL restart) is started again.

Each race is staged on a real PostgreSQL with a second connection holding a transaction open,
then shown twice: procrastinate's own manager failing in it (so the staging is the race), and
billbot's settling it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import psycopg
import pytest
from procrastinate.exceptions import ConnectorException, UniqueViolation
from procrastinate.jobs import Job, Status
from procrastinate.manager import QUEUEING_LOCK_CONSTRAINT, JobManager
from sqlalchemy.engine import make_url

from billbot.config import Settings
from billbot.jobs.queue import SCHEMA, QueueJobs, conninfo
from billbot.jobs.queue_manager import RUNNING_LOCK_CONSTRAINT
from billbot.runtime import Billbot, build_billbot
from tests.conftest import postgres_url
from tests.e2e.conftest import eventually
from tests.support.metrics_scrape import parse, total

pytestmark = pytest.mark.postgres

NAME = "races-test"
OUTAGE_SECONDS = 5.0


@dataclass
class Queue:
    bot: Billbot
    jobs: QueueJobs
    url: str

    async def defer(self, *, lock: str, priority: int = 0, dedupe: str | None = None) -> int:
        return await self.jobs.app.tasks["digest"].configure(
            lock=lock, priority=priority, queueing_lock=dedupe).defer_async(channel="C0RACE")

    async def connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        return await psycopg.AsyncConnection.connect(
            conninfo(self.url), options=f"-c search_path={SCHEMA}")

    async def status(self, job_id: int) -> Status:
        return await self.jobs.manager.get_job_status_async(job_id)

    async def waiting_on_a_lock(self) -> bool:
        async with await self.connect() as conn:
            row = await (await conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = %s AND wait_event_type = 'Lock'", (NAME,))).fetchone()
        return bool(row and row[0])


@pytest.fixture
async def queue(database_url: str) -> AsyncIterator[Queue]:
    if not database_url.startswith("postgresql"):
        pytest.skip("the job queue is PostgreSQL's")
    settings = Settings(_env_file=None, slack_bot_token="xoxb-races",
                        slack_signing_secret="races-secret", codat_api_key="k",
                        database_url=database_url, billbot_job_stalled_seconds=3.0)
    bot = build_billbot(settings)
    await bot.startup()  # migrates: the queue's schema
    jobs = QueueJobs(bot, name=NAME)
    await jobs.app.open_async()
    try:
        yield Queue(bot, jobs, database_url)
    finally:
        await jobs.stop()
        await bot.shutdown()


async def until(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {check}")
        await asyncio.sleep(0.02)


def figure(name: str, **labels: str) -> float:
    """This process's /metrics figure (every replica of these tests is in it)."""
    from billbot import metrics

    return total(parse(metrics.render().decode()), name, **labels)


def races(kind: str) -> float:
    return figure("billbot_job_queue_races_total", kind=kind)


async def fetch_beside_a_lower_priority_start(queue: Queue, manager: JobManager, lock: str,
                                              worker_id: int) -> tuple[int, int, Job | None]:
    """A worker (a second connection) starts the low-priority job of `lock` and has not
    committed; a high-priority job of the same lock arrives; `manager` fetches meanwhile, and
    its snapshot does not see the first job running. Returns both ids and what was fetched."""
    low = await queue.defer(lock=lock, priority=0)
    other = await queue.connect()
    try:
        taken = await (await other.execute(
            "SELECT id FROM procrastinate_fetch_job_v2(NULL, NULL)")).fetchone()
        assert taken == (low,)
        high = await queue.defer(lock=lock, priority=10)
        fetching = asyncio.create_task(manager.fetch_job(queues=None, worker_id=worker_id))
        # It waits on the other transaction's entry in the index of running locks...
        await until(queue.waiting_on_a_lock)
        await other.commit()  # ...which now holds a running job of the lock
        return low, high, await fetching
    finally:
        await other.close()


async def test_a_fetch_racing_another_workers_start_of_the_same_lock_fetches_again(
        queue: Queue) -> None:
    worker_id = await queue.jobs.manager.register_worker()
    # procrastinate's own manager: the worker's fetch loop gets the unique violation.
    plain = JobManager(queue.jobs.app.connector)
    with pytest.raises(UniqueViolation) as raised:
        await fetch_beside_a_lower_priority_start(queue, plain, "company:plain", worker_id)
    assert raised.value.constraint_name == RUNNING_LOCK_CONSTRAINT

    before = races("fetch")
    low, high, fetched = await fetch_beside_a_lower_priority_start(
        queue, queue.jobs.manager, "company:billbot", worker_id)
    # Fetched again: the lock's job is running elsewhere, so nothing of that lock is taken.
    assert fetched is None
    assert await queue.status(low) == Status.DOING
    assert await queue.status(high) == Status.TODO
    assert races("fetch") == before + 1


async def test_a_failed_job_with_a_queued_copy_is_closed_and_its_lock_freed(
        queue: Queue) -> None:
    manager = queue.jobs.manager
    worker_id = await manager.register_worker()
    dedupe = "digest:C0RACE:2026-12-07"
    first = await queue.defer(lock="company:retry", dedupe=dedupe)
    running = await manager.fetch_job(queues=None, worker_id=worker_id)
    assert running is not None and running.id == first
    # A sweep queues the same job again while it runs: the queueing lock binds waiting jobs.
    copy = await queue.defer(lock="company:retry", dedupe=dedupe)

    # procrastinate's own manager cannot put the failed run back to wait, and it stays running,
    # holding the company's lock.
    with pytest.raises(UniqueViolation) as raised:
        await JobManager(queue.jobs.app.connector).retry_job(running)
    assert raised.value.constraint_name == QUEUEING_LOCK_CONSTRAINT
    assert await queue.status(first) == Status.DOING
    assert await manager.fetch_job(queues=None, worker_id=worker_id) is None

    before = races("retry")
    await manager.retry_job(running)  # what the worker calls for a failed job with retries left
    assert await queue.status(first) == Status.FAILED
    assert races("retry") == before + 1
    # The lock is free: the copy runs.
    taken = await manager.fetch_job(queues=None, worker_id=worker_id)
    assert taken is not None and taken.id == copy


async def finish_cut_mid_write(queue: Queue, manager: JobManager, job: Job) -> None:
    """`manager` records `job` as succeeded while another transaction holds the job's row, so
    the write waits; its connection is cut meanwhile (PostgreSQL restarting), then the row is
    let go."""
    assert job.id is not None
    holder = await queue.connect()
    try:
        await holder.execute("SELECT id FROM procrastinate_jobs WHERE id = %s FOR UPDATE",
                             (job.id,))
        writing = asyncio.create_task(
            manager.finish_job(job, status=Status.SUCCEEDED, delete_job=False))
        await until(queue.waiting_on_a_lock)
        await cut_connections(queue)

        async def ended_or_waiting_again() -> bool:
            return writing.done() or await queue.waiting_on_a_lock()

        # billbot's manager writes again on a fresh connection, and waits on the row again.
        await until(ended_or_waiting_again)
        await holder.rollback()
        await writing
    finally:
        await holder.close()


async def test_an_outcome_lost_with_its_connection_is_written_again(queue: Queue) -> None:
    manager = queue.jobs.manager
    worker_id = await manager.register_worker()
    first = await queue.defer(lock="company:cut")
    second = await queue.defer(lock="company:other")
    jobs = [await manager.fetch_job(queues=None, worker_id=worker_id) for _ in range(2)]
    assert [j.id if j else None for j in jobs] == [first, second]
    first_job, second_job = jobs
    assert first_job is not None and second_job is not None

    # procrastinate's manager loses the outcome, and the job stays running with its lock held.
    with pytest.raises(ConnectorException):
        await finish_cut_mid_write(queue, JobManager(queue.jobs.app.connector), first_job)
    assert await queue.status(first) == Status.DOING

    await finish_cut_mid_write(queue, manager, second_job)
    assert await queue.status(second) == Status.SUCCEEDED


async def cut_connections(queue: Queue) -> None:
    async with await queue.connect() as admin:
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE application_name = %s", (NAME,))


async def test_a_worker_that_ends_with_the_database_away_is_started_again(
        queue: Queue) -> None:
    def sweeps() -> int:  # the stalled-job sweep runs as a job every second
        return [name for name, _ in queue.jobs.fired].count("stalled_jobs")

    restarts, running = figure("billbot_job_worker_restarts_total"), figure(
        "billbot_job_workers_running")
    await queue.jobs.start()
    await eventually(lambda: sweeps() >= 1)
    assert figure("billbot_job_workers_running") == running + 1
    # The database refuses connections and drops the ones it had, for a few seconds: the
    # worker's heartbeat or fetch fails, and procrastinate ends the worker.
    database = make_url(queue.url).database
    admin_url = postgres_url()
    assert admin_url is not None and database
    async with await psycopg.AsyncConnection.connect(conninfo(admin_url), autocommit=True) as admin:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        try:
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                " WHERE datname = %s AND pid <> pg_backend_pid()", (database,))
            await asyncio.sleep(OUTAGE_SECONDS)
        finally:
            await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    await eventually(lambda: queue.jobs.restarts >= 1, within=120)
    served_before = sweeps()
    # Started again once the database is back, it serves jobs: the sweep runs again.
    await eventually(lambda: sweeps() >= served_before + 2)
    assert figure("billbot_job_workers_running") == running + 1
    assert figure("billbot_job_worker_restarts_total") >= restarts + 1
