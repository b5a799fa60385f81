"""The embedded driver (SQLite): APScheduler ticks in this one process, and a deferred job
runs at once, inline, in the tick that found it due, as billbot always ran them.

There is one process, so there is nothing to spread or lock across; the claim rows still
make a double fire or a restart inside the window act once.
"""

from __future__ import annotations

import logging
from collections import Counter
from functools import partial

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from billbot.codat.pacing import in_background
from billbot.jobs.catalog import (
    JOBS,
    Args,
    digest_sweep,
    full_read_sweep,
    recovery_tick,
    reminder_sweep,
)
from billbot.runtime import Billbot
from billbot.scheduler import build_scheduler

logger = logging.getLogger("billbot.jobs")


class LocalJobs:
    def __init__(self, bot: Billbot) -> None:
        self.bot = bot
        self.ran: Counter[str] = Counter()
        self.acted: Counter[str] = Counter()
        self._scheduler: AsyncIOScheduler | None = None

    async def defer(self, job: str, args: Args, *, lock: str | None,
                    dedupe: str | None) -> bool:
        try:
            self.acted[job] += await JOBS[job](self.bot, args)
        except Exception:
            # One channel's failure must not stop the sweep; the next tick tries again.
            logger.exception("job %s failed (%s); the next tick tries again", job, dedupe)
        self.ran[job] += 1
        return True

    async def start(self) -> None:
        bot = self.bot
        # The ticks' Codat calls (the jobs they run) wait their turn; people's don't.
        self._scheduler = build_scheduler(
            digest_tick=in_background(partial(digest_sweep, bot, self.defer)),
            recovery_tick=in_background(partial(recovery_tick, bot)),
            recovery_seconds=bot.settings.billbot_recovery_interval_seconds,
            reminder_tick=in_background(partial(reminder_sweep, bot, self.defer)),
            full_read_tick=in_background(partial(full_read_sweep, bot, self.defer)))
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None


__all__ = ["LocalJobs"]
