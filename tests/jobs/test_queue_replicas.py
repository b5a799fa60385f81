"""Three replicas on one PostgreSQL job queue, many bound channels, one day's digests.

Each replica is a Billbot with its own procrastinate worker (two jobs at a time) in this
process, sharing the database, the Codat sandbox (100 ms per request) and the Slack stand-in
(its rate limits on). The digest sweep is a periodic task: it fires once per tick across the
replicas and queues one job per channel; every digest is posted exactly once, and every
replica posted some.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from sqlmodel import col, select

from billbot.clock import FixedClock
from billbot.config import Settings
from billbot.jobs.catalog import digest_sweep
from billbot.jobs.queue import PRIORITY, SWEEP_PRIORITY, QueueJobs
from billbot.runtime import Billbot, build_billbot
from billbot.sandbox.codat.fleet import add_fleet
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import serve_in_thread
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.services import bindings
from billbot.storage.db import session_scope
from billbot.storage.tables import DigestPost
from tests.e2e.conftest import eventually
from tests.support.openapi_contract import validated_sandbox_app
from tests.support.pace_record import RecordingSlots

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CHANNELS = 18
REPLICAS = 3
CODAT_KEY = "jobs-codat-key"
ANN = "U0ANN"


@dataclass
class Fleet:
    state: SandboxState
    workspace: SlackWorkspace
    bots: list[Billbot]
    replicas: list[QueueJobs]
    channels: list[str]

    def digests_in(self, channel: str) -> int:
        # Reminders are due too at 09:30; only the digests' main messages are counted.
        return sum(1 for m in self.workspace.messages(channel)
                   if m.bot_id and " due: " in m.text)

    def posted(self) -> int:
        with session_scope(self.bots[0].engine, read_only=True) as session:
            return len(session.exec(select(DigestPost).where(
                col(DigestPost.state) == "posted")).all())


@pytest.fixture
async def fleet(database_url: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    if not database_url.startswith("postgresql"):
        pytest.skip("the job queue is PostgreSQL's")
    state = SandboxState.seeded(bills=3, due_soon=3)
    companies = add_fleet(state, CHANNELS, bills=3)
    state.faults.latency_ms = 100  # each digest reads Codat: a job takes a while
    codat = serve_in_thread(validated_sandbox_app(state, api_key=CODAT_KEY))
    workspace = SlackWorkspace(bot_tokens=["xoxb-jobs"])
    workspace.add_user(ANN, "ann")
    channels = [f"C0JOBS{n:03d}" for n in range(CHANNELS)]
    for channel in channels:
        workspace.add_channel(channel, channel.lower())
    slack = serve_slack_standin(workspace)
    today = datetime.now(UTC).date()
    clock = FixedClock(datetime.combine(today, time(9, 30), tzinfo=UTC))
    settings = Settings(
        _env_file=None, slack_bot_token="xoxb-jobs", slack_signing_secret="jobs-secret",
        slack_api_url=workspace.api_url, codat_api_key=CODAT_KEY,
        codat_base_url=codat.base_url, billbot_approvers=frozenset({ANN}),
        billbot_digest_at=time(9, 0), billbot_digest_days="mon-sun",
        billbot_job_concurrency=2, database_url=database_url)
    bots = [build_billbot(settings, clock=clock) for _ in range(REPLICAS)]
    for bot in bots:
        await bot.startup()
    with session_scope(bots[0].engine) as session:
        for channel, (company, connection) in zip(channels, companies, strict=True):
            bindings.bind(session, channel_id=channel, company_id=company,
                          connection_id=connection, actor=ANN, request_id=None,
                          at=clock.now())
    replicas = [QueueJobs(bot, name=f"replica-{n}") for n, bot in enumerate(bots)]
    try:
        yield Fleet(state, workspace, bots, replicas, channels)
    finally:
        for replica in replicas:
            await replica.stop()
        for bot in bots:
            await bot.shutdown()
        slack.stop()
        codat.stop()


async def test_replicas_post_every_digest_once_and_share_the_work(fleet: Fleet) -> None:
    # Codat's own limits on; every replica's Codat requests go through a recorder around its
    # shared (PostgreSQL) schedule.
    fleet.state.throttle.documented()
    paces = [bot.codat.sync.pace for bot in fleet.bots]
    recorders = [RecordingSlots(pace.slots) for pace in paces if pace is not None]
    assert len(recorders) == REPLICAS
    for pace, recorder in zip(paces, recorders, strict=True):
        assert pace is not None
        pace.slots = recorder
    # All workers listen before anything is due; the first periodic tick queues the day.
    await asyncio.gather(*(replica.start() for replica in fleet.replicas))
    await eventually(lambda: fleet.posted() == CHANNELS, within=120)
    # A digest job counts once its function returns, just after the claim says posted.
    await eventually(lambda: sum(r.acted["digest"] for r in fleet.replicas) >= CHANNELS)

    assert [fleet.digests_in(c) for c in fleet.channels] == [1] * CHANNELS
    posted_by = [replica.acted["digest"] for replica in fleet.replicas]
    assert sum(posted_by) == CHANNELS, posted_by  # no digest posted twice
    assert all(n > 0 for n in posted_by), f"every replica posted some of the day: {posted_by}"

    # A periodic tick fired once across the replicas (a unique row per task and tick).
    fired = [tick for replica in fleet.replicas for tick in replica.fired]
    assert ("digest_sweep" in {name for name, _ in fired})
    assert len(fired) == len(set(fired)), fired

    # Another sweep, by any replica, finds nothing left to queue; nothing is posted again.
    assert await digest_sweep(fleet.bots[1], fleet.replicas[1].defer) == 0
    assert [fleet.digests_in(c) for c in fleet.channels] == [1] * CHANNELS
    assert not fleet.workspace.violations
    # The sweeps are taken before any queued job (a day's reminders must not delay them).
    sweeps = {name for name, _ in fired} | {"recovery_sweep", "stalled_jobs"}
    tasks = fleet.replicas[0].app.tasks
    assert {tasks[name].priority for name in sweeps} == {SWEEP_PRIORITY}
    assert max(PRIORITY.values()) < SWEEP_PRIORITY
    # The jobs' Codat requests all waited their turn in the one schedule; none met a 429.
    urgent = [flag for recorder in recorders for flag in recorder.urgent]
    assert urgent and not any(urgent)
    assert sum(fleet.state.throttle.refused.values()) == 0


async def test_a_queued_digest_is_deduplicated_per_channel_and_day(fleet: Fleet) -> None:
    """Workers not started: the sweep's jobs wait in the queue, and a second sweep (another
    replica's tick) queues none of them again."""
    first, second = fleet.replicas[:2]
    await first.app.open_async()
    await second.app.open_async()
    assert await digest_sweep(fleet.bots[0], first.defer) == CHANNELS
    assert await digest_sweep(fleet.bots[1], second.defer) == 0
