"""Issue 20: the periodic full read of the bills is the nightly job's, never a reader's.

The real stack (Codat sandbox over HTTP, every exchange checked against the spec; the Slack
stand-in; SQLite and PostgreSQL) with a clock moved by hand across days. The job, queued by
its sweep at BILLBOT_BILLS_FULL_READ_AT and run by the embedded driver, reads every page and
so drops a bill deleted in the books; the next digest costs at most two Codat requests, none
of them a full read; with the job not run, a digest reads in full once the last full read is
twice BILLBOT_BILLS_FULL_READ_HOURS old (the safety net), and not before.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from billbot.jobs.catalog import full_read_sweep
from billbot.jobs.local import LocalJobs
from billbot.slackapp import row_controls
from billbot.slackapp.digests import post_digest, scheduled_digest
from billbot.storage import bill_cache
from billbot.storage.db import session_scope
from tests.e2e.conftest import CHANNEL, Stack, bot_messages


class MovableClock:
    """The wall clock, set to a given day and time and running on from there."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)
        self.base = datetime.now(UTC).date()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def at(self, day: int, hour: int, minute: int = 0) -> date:
        """Move to `day` days after the first, at hour:minute UTC; that local day."""
        wanted = datetime.combine(self.base + timedelta(days=day), time(hour, minute), UTC)
        self.ahead = wanted - datetime.now(UTC)
        return wanted.date()


def bill_lists(stack: Stack) -> list[str]:
    """The query of every list-bills request so far ('' for the first page of a full read)."""
    return [r.query for r in stack.sandbox.requests if r.path.endswith("/payables/bills")]


def codat_requests(stack: Stack) -> int:
    return sum(1 for r in stack.sandbox.requests if not r.path.startswith("/_sandbox"))


def full_reads(queries: list[str]) -> int:
    """Full reads begun: the default listing's first page (no query, no page token)."""
    return sum(1 for q in queries if q == "")


def incremental_reads(queries: list[str]) -> int:
    return sum(1 for q in queries if q.startswith("query=sourceModifiedDate"))


def cached_ids(stack: Stack) -> set[str]:
    with session_scope(stack.bot.engine, read_only=True) as session:
        return {json.loads(text)["id"] for text in bill_cache.iter_cached_bills(
            session, company_id=stack.company_id, connection_id=stack.connection_id)}


def least_urgent_cached(stack: Stack) -> str:
    with session_scope(stack.bot.engine, read_only=True) as session:
        bills = [json.loads(text) for text in bill_cache.iter_cached_bills(
            session, company_id=stack.company_id, connection_id=stack.connection_id)]
    return str(max(bills, key=lambda b: (b["dueDate"], b["id"]))["id"])


async def digest(stack: Stack, day: date) -> None:
    binding = await stack.bot.binding_for(CHANNEL)
    assert binding is not None
    before = len(bot_messages(stack))
    assert await scheduled_digest(stack.bot, binding, day)
    assert len(bot_messages(stack)) > before


async def test_the_nightly_job_reads_in_full_and_the_next_digest_costs_two_requests(
        stack_factory: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="billbot.controls")
    clock = MovableClock()
    # The bench's ledger shape (every bill due soon): one first-payment supplier among the
    # rows, whose history the rows' controls read again daily (row_controls.py).
    stack = stack_factory(clock=clock, bills=200)
    jobs = LocalJobs(stack.bot)
    await digest(stack, clock.at(0, 9, 30))  # day 1: nothing cached, so a full read
    assert "could not be checked" not in caplog.text
    assert full_reads(bill_lists(stack)) == 1
    # The least urgent bill: one the digest's rows do not show, so deleting it changes no row
    # (a row's bill deleted would bring in another row, whose supplier day 2 checks).
    deleted = least_urgent_cached(stack)
    async with httpx.AsyncClient(base_url=stack.settings.codat_base_url) as control:
        assert (await control.delete(f"/_sandbox/bills/{deleted}")).status_code == 204

    # Out of the quiet hour the sweep queues nothing.
    clock.at(0, 23, 0)
    assert await full_read_sweep(stack.bot, jobs.defer) == 0
    # The next morning at 05:00 (BILLBOT_BILLS_FULL_READ_AT): one full read per company.
    clock.at(1, 5, 10)
    lists = len(bill_lists(stack))
    assert await full_read_sweep(stack.bot, jobs.defer) == 1
    assert jobs.acted["full_read"] == 1
    assert full_reads(bill_lists(stack)[lists:]) == 1
    assert deleted not in cached_ids(stack)
    # Done for the day: a later tick of the window queues it no more.
    clock.at(1, 5, 40)
    assert await full_read_sweep(stack.bot, jobs.defer) == 0

    # Day 2's digest on the unchanged books: what changed only, two requests at most.
    requests, lists = codat_requests(stack), len(bill_lists(stack))
    await digest(stack, clock.at(1, 9, 30))
    assert codat_requests(stack) - requests <= 2, [
        r.query for r in stack.sandbox.requests if not r.path.startswith("/_sandbox")][requests:]
    assert full_reads(bill_lists(stack)[lists:]) == 0
    assert incremental_reads(bill_lists(stack)[lists:]) == 1


async def test_readers_read_in_full_only_when_the_job_has_not_run_for_two_periods(
        stack_factory: Any) -> None:
    clock = MovableClock()
    stack = stack_factory(clock=clock)
    await digest(stack, clock.at(0, 9, 30))
    # No nightly job: a day on, and almost two, the digests still read only what changed.
    await digest(stack, clock.at(1, 9, 30))
    await digest(stack, clock.at(2, 9, 0))
    assert full_reads(bill_lists(stack)) == 1
    # Past twice the period since the last full read: the safety net reads in full.
    lists = len(bill_lists(stack))
    await digest(stack, clock.at(3, 9, 40))
    assert full_reads(bill_lists(stack)[lists:]) == 1


async def test_a_scheduled_digest_waits_for_its_row_checks_longer_than_a_person_does(
        stack_factory: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # Day 2 reuses day 1's row checks only if they finished; a scheduled digest's checks wait
    # mostly on the pace shared with the other jobs, so it allows them more time.
    monkeypatch.setattr(row_controls, "ROW_CHECK_SECONDS", 0.3)
    monkeypatch.setattr(row_controls, "ROW_CHECK_BACKGROUND_SECONDS", 120.0)
    caplog.set_level(logging.WARNING, logger="billbot.controls")
    clock = MovableClock()
    stack = stack_factory(clock=clock, bills=200)
    day = clock.at(0, 9, 30)
    binding = await stack.bot.binding_for(CHANNEL)
    assert binding is not None
    stack.sandbox.faults.latency_ms = 400  # each supplier history outlasts a person's bound

    await post_digest(stack.bot, CHANNEL, binding)  # /bills digest: a person asked
    assert "could not be checked" in caplog.text
    caplog.clear()
    assert await scheduled_digest(stack.bot, binding, day)
    assert "could not be checked" not in caplog.text

    # Every check done: the next day's digest reads what changed and rechecks only the row
    # saying "first payment".
    stack.sandbox.faults.latency_ms = 0
    requests = codat_requests(stack)
    assert await scheduled_digest(stack.bot, binding, clock.at(1, 9, 30))
    assert codat_requests(stack) - requests <= 2
