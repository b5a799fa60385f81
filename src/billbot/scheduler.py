"""The clock's side: a tick every minute, and the database decides what is due.

APScheduler job stores must never be shared between schedulers, so each replica runs its
own in-memory scheduler that only ticks. The tick asks "which channels are due a digest
today?" and each channel's digest is claimed by a unique row first (one per channel per
local day), so several replicas, a double fire or a restart inside the window post it once.
The same scheduler runs the payment recovery job that finishes intents left open, and the
reminder job (reminders and escalations, each claimed once per bill, person and day).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

logger = logging.getLogger("billbot.scheduler")

DIGEST_TICK_SECONDS = 60
RECOVERY_TICK_SECONDS = 20
# Reminders need no minute precision; each tick reads the bound companies' bills once.
REMINDER_TICK_SECONDS = 300


def build_scheduler(*, digest_tick: Callable[[], Awaitable[Any]],
                    recovery_tick: Callable[[], Awaitable[Any]],
                    recovery_seconds: float = RECOVERY_TICK_SECONDS,
                    reminder_tick: Callable[[], Awaitable[Any]] | None = None,
                    reminder_seconds: float = REMINDER_TICK_SECONDS,
                    full_read_tick: Callable[[], Awaitable[Any]] | None = None
                    ) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC", job_defaults={
        "coalesce": True,  # a late or doubled fire runs once
        "max_instances": 1,  # a slow tick is never overlapped by the next
        "misfire_grace_time": 30,
    })
    scheduler.add_job(_guarded(digest_tick, "digest"), IntervalTrigger(seconds=DIGEST_TICK_SECONDS),
                      id="digest-tick", replace_existing=True, next_run_time=_soon())
    # Recovery runs at once on start: a restart after a crash finishes the payments it left
    # open (those whose lease has run out) without waiting for the first interval.
    scheduler.add_job(_guarded(recovery_tick, "recovery"),
                      IntervalTrigger(seconds=recovery_seconds), id="payment-recovery",
                      replace_existing=True, next_run_time=_soon(0))
    if reminder_tick is not None:
        # Reminders and escalations: each is claimed in the database, like the digest.
        scheduler.add_job(_guarded(reminder_tick, "reminder"),
                          IntervalTrigger(seconds=reminder_seconds), id="reminder-tick",
                          replace_existing=True, next_run_time=_soon(5))
    if full_read_tick is not None:
        # The periodic full reads of the bills: the tick queues them only at the quiet hour.
        scheduler.add_job(_guarded(full_read_tick, "full read"),
                          IntervalTrigger(seconds=DIGEST_TICK_SECONDS), id="full-read-tick",
                          replace_existing=True, next_run_time=_soon(3))
    return scheduler


def _soon(seconds: float = 2) -> Any:
    from datetime import UTC, datetime, timedelta

    # The first tick shortly after start: a digest missed while billbot was down is caught up.
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _guarded(job: Callable[[], Awaitable[Any]], name: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job()
        except Exception:
            # A failing tick must not kill the scheduler; the next tick tries again.
            logger.exception("%s tick failed", name)

    run.__name__ = f"{name}_tick"
    return run


__all__ = ["build_scheduler"]
