"""Real `billbot run` processes on one PostgreSQL job queue.

A replica dies (SIGKILL) the moment its job worker starts the day's digest: the job is left
`doing` under a worker that no longer beats, and another replica puts it back in the queue
and posts the digest, once. `billbot run --workers 2` runs two processes on one port, each
with its own job worker. A replica with BILLBOT_RUN_JOBS=false answers Slack and runs no job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from billbot.storage.db import make_engine
from billbot.testhooks import CrashPoint
from tests.conftest import _fresh_postgres_database, postgres_url
from tests.process.harness import ANN, CHANNEL, DAY_NAMES, ProcessWorld, eventually, process_world

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def postgres_database() -> Iterator[str]:
    admin_url = postgres_url()
    if admin_url is None:
        pytest.skip("set BILLBOT_TEST_POSTGRES_URL")
    yield from _fresh_postgres_database(admin_url)


def digest_due_now() -> dict[str, str]:
    """Today's digest due since a minute ago (UTC), within its catch-up window."""
    now = datetime.now(UTC)
    at = max(now - timedelta(minutes=1), now.replace(hour=0, minute=0))
    return {"BILLBOT_DIGEST_DAYS": DAY_NAMES[now.weekday()],
            "BILLBOT_DIGEST_AT": at.strftime("%H:%M"), "BILLBOT_JOB_STALLED_SECONDS": "2"}


def digests(world: ProcessWorld) -> int:
    return sum(1 for m in world.workspace.messages(CHANNEL) if m.bot_id and " due: " in m.text)


def digests_posted(exposition: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in exposition.splitlines()
               if line.startswith("billbot_digests_posted_total"))


async def scraped_digests(world: ProcessWorld, url: str, *, expected: float) -> float:
    """The process's digests-posted count once it is `expected` (or after 30 s): a digest is
    in the channel a moment before its process counts it (after its messages are saved)."""
    deadline = time.monotonic() + 30
    while True:
        async with httpx.AsyncClient() as fresh:  # a new connection: either process
            count = digests_posted((await fresh.get(url + "/metrics", timeout=10)).text)
        if count == expected or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.2)


def queue_rows(database_url: str, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


async def test_a_replica_killed_mid_job_leaves_the_digest_to_another(
        tmp_path: Path, postgres_database: str) -> None:
    async with process_world(tmp_path, postgres_database) as world:
        doomed = await world.start_bot("doomed", crash_at=CrashPoint.DIGEST_JOB.value,
                                       env=digest_due_now(), healthy=False)
        await world.killed(doomed, within=60)
        stuck = queue_rows(postgres_database, "SELECT id FROM billbot_jobs.procrastinate_jobs "
                                              "WHERE task_name = 'digest' AND status = 'doing'")
        assert len(stuck) == 1, "the dead replica's digest job is left running"
        assert digests(world) == 0

        survivor = await world.start_bot("survivor", env=digest_due_now())
        try:
            await eventually(lambda: digests(world) == 1, within=120, what="the digest")
        except AssertionError:
            jobs = queue_rows(postgres_database, "SELECT id, task_name, status, lock, "
                                                 "worker_id FROM billbot_jobs.procrastinate_jobs")
            raise AssertionError(f"jobs: {jobs}\nsurvivor:\n{survivor.output()}") from None
        job_id = stuck[0][0]
        await eventually(lambda: f"job {job_id} (digest) was left running by a dead worker"
                         in survivor.output(), what="the survivor to re-queue the stuck job")
        # Queued again and run (its row deleted), or closed as failed if the survivor's digest
        # sweep had queued a copy first (which posted): either way its lock is let go.
        await eventually(lambda: not queue_rows(
            postgres_database, f"SELECT id FROM billbot_jobs.procrastinate_jobs "
                               f"WHERE id = {job_id} AND status IN ('todo', 'doing')"),
            what="the stuck job to let its lock go")
        assert digests(world) == 1
        assert not world.workspace.violations


async def test_workers_share_one_port_and_each_runs_a_job_worker(
        tmp_path: Path, postgres_database: str) -> None:
    async with process_world(tmp_path, postgres_database) as world:
        # Two processes importing everything at once: slow to answer on a busy machine.
        # Heartbeats judged at the default: the 2 s of the kill test would, on a busy
        # machine, prune a live worker's row and the count of two would come and go.
        steady = {**digest_due_now(), "BILLBOT_JOB_STALLED_SECONDS": "60"}
        pair = await world.start_bot("pair", env=steady, args=("--workers", "2"), within=180)
        await eventually(lambda: len(queue_rows(
            postgres_database, "SELECT id FROM billbot_jobs.procrastinate_workers")) == 2,
            within=120, what="two job workers registered")
        await eventually(lambda: digests(world) == 1, within=120, what="the digest")
        assert (await world.http.get(pair.url + "/healthz")).status_code == 200
        assert digests(world) == 1
        # Whichever process answers a scrape, /metrics counts both: one digest posted. The
        # count goes up once the digest's messages are saved, a moment after Slack shows them.
        async def scrape() -> str:
            async with httpx.AsyncClient() as fresh:  # a new connection: either process
                return (await fresh.get(pair.url + "/metrics", timeout=10)).text
        for _ in range(300):  # at most about a minute
            if digests_posted(await scrape()) > 0:
                break
            await asyncio.sleep(0.2)
        for _ in range(12):
            scraped = await scrape()
            assert digests_posted(scraped) == 1, scraped[-2000:]


async def test_a_replica_without_jobs_answers_slack_and_leaves_the_jobs_to_the_others(
        tmp_path: Path, postgres_database: str) -> None:
    async with process_world(tmp_path, postgres_database) as world:
        web = await world.start_bot("web", env={**digest_due_now(), "BILLBOT_RUN_JOBS": "false"})
        help_answer = await world.driver(web).slash_command(ANN, CHANNEL, "help")
        assert help_answer.status == 200
        # It registered no job worker, so the day's digest waits for a replica that runs jobs.
        assert queue_rows(postgres_database,
                          "SELECT id FROM billbot_jobs.procrastinate_workers") == []
        assert digests(world) == 0

        jobs = await world.start_bot("jobs", env=digest_due_now())
        await eventually(lambda: digests(world) == 1, within=120, what="the digest")
        assert len(queue_rows(postgres_database,
                              "SELECT id FROM billbot_jobs.procrastinate_workers")) == 1
        assert await scraped_digests(world, jobs.url, expected=1) == 1
        assert digests_posted((await world.http.get(web.url + "/metrics")).text) == 0
        assert digests(world) == 1
        assert not world.workspace.violations
