"""The daily digest as the scheduler posts it: through the served web app's own scheduler,
once per channel per local day however often it fires and however many processes run, and
caught up after downtime only within two hours of the digest time.

The bot's clock is fixed at a chosen local time on today's date (the sandbox dates its bills
from today); the scheduler itself runs on real time and ticks two seconds after start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from billbot.clock import FixedClock
from billbot.sandbox.serving import serve_in_thread
from billbot.sandbox.slack.model import Message
from billbot.server import build_web_app
from billbot.slackapp.digests import digest_tick
from billbot.storage.tables import DigestPost
from tests.e2e.conftest import CHANNEL, Stack, eventually

TZ = "America/New_York"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def local_clock(hour: int, minute: int) -> FixedClock:
    """Today's date (as the sandbox sees it) at hour:minute in TZ."""
    today = datetime.now(UTC).date()
    return FixedClock(datetime.combine(today, time(hour, minute), tzinfo=ZoneInfo(TZ)))


def digests(stack: Stack) -> list[Message]:
    """Top-level digest messages in the finance channel (replies are in threads)."""
    return [m for m in stack.workspace.messages(CHANNEL)
            if m.bot_id and m.thread_ts is None and "due" in m.text.lower()]


def digest_marked_posted(stack: Stack) -> bool:
    """The claim row says `posted` (a `posting` one could be taken over once it is stale)."""
    with Session(stack.bot.engine) as session:
        rows = session.exec(select(DigestPost).where(col(DigestPost.channel_id) == CHANNEL)).all()
    return len(rows) == 1 and rows[0].state == "posted"


async def on_server(stack: Stack, work: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(stack.bot_server.run, work())


async def test_two_processes_and_repeated_ticks_post_one_digest(
        stack_factory: Callable[..., Stack]) -> None:
    clock = local_clock(9, 30)
    stack = stack_factory(clock=clock, run_scheduler=True, billbot_timezone=TZ,
                          billbot_digest_at="09:00", billbot_digest_days="mon-sun")
    # A second `billbot run` on the same database, Slack and Codat, with its own scheduler.
    app, other_bot = build_web_app(stack.settings, run_scheduler=True, clock=clock)
    other = serve_in_thread(app)
    try:
        posted = await eventually(lambda: digests(stack), within=20)
        # Both schedulers have had their first tick; now fire both again, several times at once.
        ticks = [asyncio.to_thread(server.run, digest_tick(bot))
                 for server, bot in ((stack.bot_server, stack.bot), (other, other_bot))
                 for _ in range(3)]
        await asyncio.gather(*ticks)
        await asyncio.sleep(3)  # past both schedulers' first tick (2 s after start)
        await eventually(lambda: digest_marked_posted(stack))
    finally:
        other.stop()
    assert len(digests(stack)) == 1
    assert posted[0].ts == digests(stack)[0].ts
    # The same day later on: still nothing new.
    clock.set(clock.now() + timedelta(hours=1))
    await on_server(stack, partial(digest_tick, stack.bot))
    assert len(digests(stack)) == 1
    assert not stack.workspace.violations


async def test_missed_digest_is_posted_on_start_within_two_hours(
        stack_factory: Callable[..., Stack]) -> None:
    """billbot was down at 09:00 and starts at 10:45: the scheduler's first tick catches up."""
    clock = local_clock(10, 45)
    stack = stack_factory(clock=clock, run_scheduler=True, billbot_timezone=TZ,
                          billbot_digest_at="09:00", billbot_digest_days="mon-sun")
    await eventually(lambda: digests(stack), within=20)
    await eventually(lambda: digest_marked_posted(stack))
    clock.set(clock.now() + timedelta(minutes=14))
    await on_server(stack, partial(digest_tick, stack.bot))
    assert len(digests(stack)) == 1


async def test_no_digest_after_the_window_on_other_days_or_before_time(
        stack_factory: Callable[..., Stack]) -> None:
    today = local_clock(0, 0).now().strftime("%a").lower()
    other_days = ",".join(d for d in WEEKDAYS if d != today)
    clock = local_clock(11, 1)  # 2 h 1 min after 09:00: too late to catch up today
    stack = stack_factory(clock=clock, billbot_timezone=TZ, billbot_digest_at="09:00",
                          billbot_digest_days="mon-sun")
    await on_server(stack, partial(digest_tick, stack.bot))
    assert digests(stack) == []

    clock.set(local_clock(8, 59).now())  # before the digest time
    await on_server(stack, partial(digest_tick, stack.bot))
    assert digests(stack) == []

    clock.set(local_clock(9, 0).now())  # on time: posted
    await on_server(stack, partial(digest_tick, stack.bot))
    assert len(digests(stack)) == 1

    quiet = stack_factory(clock=local_clock(9, 30), billbot_timezone=TZ,
                          billbot_digest_at="09:00", billbot_digest_days=other_days)
    await on_server(quiet, partial(digest_tick, quiet.bot))
    assert digests(quiet) == []
