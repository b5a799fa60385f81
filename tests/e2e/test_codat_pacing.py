"""Codat's per-minute limit end to end, with the sandbox at Codat's own limits (1,000 a minute,
10 at once per company): a person's `/bills due` takes its Codat slots at once; the scheduled
digest's requests (a job's) wait their turn; neither meets a 429."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from billbot.clock import FixedClock
from billbot.codat.pacing import codat_limit
from billbot.jobs.local import LocalJobs
from tests.e2e.conftest import ANN, CHANNEL, Stack, eventually
from tests.support.pace_record import RecordingSlots

TZ = "Europe/London"


def digests(stack: Stack) -> list[Any]:
    return [m for m in stack.workspace.messages(CHANNEL)
            if m.bot_id and m.thread_ts is None and "due" in m.text.lower()]


async def test_people_go_first_and_the_scheduled_digest_waits_its_turn(
        stack_factory: Any) -> None:
    today = datetime.now(UTC).date()
    clock = FixedClock(datetime.combine(today, time(9, 30), tzinfo=ZoneInfo(TZ)))
    stack: Stack = stack_factory(clock=clock, billbot_timezone=TZ, billbot_digest_at="09:00",
                                 billbot_digest_days="mon-sun")
    stack.sandbox.throttle.documented()
    pace = stack.bot.codat.sync.pace
    assert pace is not None and pace.limit == codat_limit(1000)  # the default setting
    recorded = RecordingSlots()
    pace.slots = recorded

    await stack.driver.slash_command(ANN, CHANNEL, "due")
    await eventually(lambda: stack.workspace.ephemerals(CHANNEL, ANN))
    assert recorded.urgent and all(recorded.urgent)  # a person's: no request waited

    recorded.urgent.clear()
    jobs = LocalJobs(stack.bot)
    await asyncio.to_thread(stack.bot_server.run, jobs.start())
    try:
        await eventually(lambda: digests(stack))
    finally:
        await asyncio.to_thread(stack.bot_server.run, jobs.stop())
    assert recorded.urgent and not any(recorded.urgent)  # every one of the job's waited
    assert sum(stack.sandbox.throttle.refused.values()) == 0
    assert all(r.status != 429 for r in stack.sandbox.requests)
