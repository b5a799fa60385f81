"""One interface, two drivers: the database decides which runs the background jobs."""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from billbot.jobs.local import LocalJobs
from billbot.runtime import Billbot


class JobDriver(Protocol):
    @property
    def ran(self) -> Counter[str]: ...  # jobs run here, by name

    @property
    def acted(self) -> Counter[str]: ...  # of those, the ones that posted or sent

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_job_driver(bot: Billbot, *, name: str | None = None) -> JobDriver:
    """PostgreSQL: the shared queue (several replicas), worked on a thread of its own below
    the requests; SQLite: in process, on the requests' loop, as one replica."""
    if bot.engine.dialect.name == "postgresql":
        # Imported here: procrastinate and psycopg (about 13 MB resident, loaded by the
        # thread's start) serve no purpose in a SQLite replica.
        from billbot.jobs.threaded import ThreadedJobs

        return ThreadedJobs(bot, name=name)
    return LocalJobs(bot)


__all__ = ["JobDriver", "build_job_driver"]
