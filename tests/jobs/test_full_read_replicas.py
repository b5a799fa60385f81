"""The nightly full read on PostgreSQL's job queue: two replicas, many bound companies.

Each replica is a Billbot with its own procrastinate worker in this process, sharing the
database and the Codat sandbox (100 ms a request). At 05:10 (BILLBOT_BILLS_FULL_READ_AT is
05:00) the periodic sweep fires once across the replicas and queues one full read per
company; every company is read in full exactly once, and a second sweep queues nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest

from billbot.clock import FixedClock
from billbot.config import Settings
from billbot.jobs.catalog import full_read_sweep
from billbot.jobs.queue import QueueJobs
from billbot.runtime import Billbot, build_billbot
from billbot.sandbox.codat.fleet import add_fleet
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import serve_in_thread
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.services import bindings
from billbot.storage import bill_cache
from billbot.storage.db import session_scope
from tests.e2e.conftest import eventually
from tests.support.openapi_contract import validated_sandbox_app

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

COMPANIES = 8
CODAT_KEY = "full-read-codat-key"
ANN = "U0ANN"


@dataclass
class Fleet:
    state: SandboxState
    clock: FixedClock
    bots: list[Billbot]
    replicas: list[QueueJobs]
    companies: list[tuple[str, str]]

    def full_reads(self) -> int:
        """List-bills requests that began a full read (the default listing's first page)."""
        return sum(1 for r in self.state.requests
                   if r.path.endswith("/payables/bills") and r.query == "")

    def read_since(self, since: datetime) -> int:
        with session_scope(self.bots[0].engine, read_only=True) as session:
            states = [bill_cache.refresh_state(session, company_id=c, connection_id=k)
                      for c, k in self.companies]
        return sum(1 for s in states if s and s.full_read_at
                   and s.full_read_at.replace(tzinfo=UTC) >= since)


@pytest.fixture
async def fleet(database_url: str) -> AsyncIterator[Fleet]:
    if not database_url.startswith("postgresql"):
        pytest.skip("the job queue is PostgreSQL's")
    state = SandboxState.seeded(bills=3, due_soon=3)
    companies = add_fleet(state, COMPANIES, bills=3)
    state.faults.latency_ms = 100
    codat = serve_in_thread(validated_sandbox_app(state, api_key=CODAT_KEY))
    workspace = SlackWorkspace(bot_tokens=["xoxb-full-read"])
    workspace.add_user(ANN, "ann")
    channels = [f"C0READ{n:03d}" for n in range(COMPANIES)]
    for channel in channels:
        workspace.add_channel(channel, channel.lower())
    slack = serve_slack_standin(workspace)
    today = datetime.now(UTC).date()
    clock = FixedClock(datetime.combine(today, time(9, 30), tzinfo=UTC))
    settings = Settings(
        _env_file=None, slack_bot_token="xoxb-full-read", slack_signing_secret="read-secret",
        slack_api_url=workspace.api_url, codat_api_key=CODAT_KEY,
        codat_base_url=codat.base_url, billbot_approvers=frozenset({ANN}),
        billbot_digest_at=time(9, 0), billbot_digest_days="mon-sun",
        billbot_job_concurrency=2, database_url=database_url)
    bots = [build_billbot(settings, clock=clock) for _ in range(2)]
    for bot in bots:
        await bot.startup()
    with session_scope(bots[0].engine) as session:
        for channel, (company, connection) in zip(channels, companies, strict=True):
            bindings.bind(session, channel_id=channel, company_id=company,
                          connection_id=connection, actor=ANN, request_id=None,
                          at=clock.now())
    replicas = [QueueJobs(bot, name=f"reader-{n}") for n, bot in enumerate(bots)]
    try:
        yield Fleet(state, clock, bots, replicas, companies)
    finally:
        for replica in replicas:
            await replica.stop()
        for bot in bots:
            await bot.shutdown()
        slack.stop()
        codat.stop()


async def test_the_nightly_full_read_runs_once_per_company_across_replicas(
        fleet: Fleet) -> None:
    # Day 1: every company read (in full: nothing was cached) by the day's readers.
    await asyncio.gather(*(fleet.bots[0].open_bills.refresh(*key) for key in fleet.companies))
    assert fleet.full_reads() == COMPANIES
    # The next morning, in the quiet hour: the workers listen, the first tick queues them.
    night = datetime.combine(fleet.clock.now().date() + timedelta(days=1), time(5, 10), UTC)
    fleet.clock.set(night)
    await asyncio.gather(*(replica.start() for replica in fleet.replicas))
    await eventually(lambda: fleet.read_since(night) == COMPANIES, within=150)
    await eventually(lambda: sum(r.ran["full_read"] for r in fleet.replicas) >= COMPANIES)

    assert fleet.full_reads() == 2 * COMPANIES  # each company read in full once more
    assert sum(r.acted["full_read"] for r in fleet.replicas) == COMPANIES
    fired = [tick for replica in fleet.replicas for tick in replica.fired
             if tick[0] == "full_read_sweep"]
    assert fired and len(fired) == len(set(fired)), fired
    # Another sweep, by either replica, finds nothing left to read tonight.
    assert await full_read_sweep(fleet.bots[1], fleet.replicas[1].defer) == 0
    assert fleet.full_reads() == 2 * COMPANIES
