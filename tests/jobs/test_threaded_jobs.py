"""A replica's job worker on its own thread: it works while the requests' loop is busy, at a
lower CPU priority, and stops with the replica."""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from billbot.config import Settings
from billbot.jobs.drivers import build_job_driver
from billbot.jobs.threaded import JOB_NICENESS, SWITCH_SECONDS, ThreadedJobs
from billbot.runtime import build_billbot

pytestmark = pytest.mark.postgres


def job_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "billbot-jobs"]


def postgres_settings(database_url: str, **extra: Any) -> Settings:
    if not database_url.startswith("postgresql"):
        pytest.skip("the job queue is PostgreSQL's")
    return Settings(_env_file=None, slack_bot_token="xoxb-threaded",
                    slack_signing_secret="threaded-secret", codat_api_key="k",
                    database_url=database_url, **extra)


async def test_jobs_run_on_their_own_thread_while_the_requests_loop_is_busy(
        database_url: str) -> None:
    settings = postgres_settings(database_url, billbot_job_stalled_seconds=3.0)
    bot = build_billbot(settings)
    await bot.startup()
    switch_before = sys.getswitchinterval()
    jobs = build_job_driver(bot, name="threaded-test")
    assert isinstance(jobs, ThreadedJobs)
    try:
        await jobs.start()
        [thread] = job_threads()
        assert thread.native_id is not None
        if sys.platform.startswith("linux"):
            ours = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            theirs = os.getpriority(os.PRIO_PROCESS, thread.native_id)
            assert theirs == min(19, ours + JOB_NICENESS)
        assert sys.getswitchinterval() <= SWITCH_SECONDS

        # This loop (the requests') stays blocked outright throughout: the stalled-job sweep,
        # every second, still fires on the worker's loop.
        def sweeps() -> int:
            return [name for name, _ in jobs.fired].count("stalled_jobs")
        deadline = time.monotonic() + 60
        while sweeps() < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # noqa: ASYNC251 - blocking this loop is the point
        assert sweeps() >= 2, jobs.fired
    finally:
        await jobs.stop()
        await bot.shutdown()
    assert job_threads() == []
    assert sys.getswitchinterval() == switch_before


async def test_a_worker_that_cannot_start_says_so_and_leaves_no_thread(
        database_url: str) -> None:
    settings = postgres_settings(database_url)
    bot = build_billbot(settings)
    await bot.startup()
    switch_before = sys.getswitchinterval()
    gone = make_url(database_url).set(database="billbot_no_such_database")
    broken = settings.model_copy(update={
        "database_url": gone.render_as_string(hide_password=False)})
    jobs = ThreadedJobs(replace(bot, settings=broken))
    try:
        with pytest.raises(OperationalError):
            await jobs.start()
        assert job_threads() == []
        assert sys.getswitchinterval() == switch_before
        await jobs.stop()  # nothing to stop: no error
    finally:
        await bot.shutdown()
