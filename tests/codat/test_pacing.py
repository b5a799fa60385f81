"""Codat's per-minute limit on billbot's side (codat/pacing.py): the pace keeps every window
under the limit; a job's calls wait their turn while a person's go at once and the jobs absorb
them; a 429 holds the bucket; against the sandbox with its limit on, paced background reads
meet no 429 where unpaced ones do."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from billbot.codat import RetryPolicy
from billbot.codat.pacing import (
    CodatPace,
    background_calls,
    bucket_key,
    codat_limit,
    in_background,
    is_background,
)
from billbot.pacing import Limit, Slots, next_slot
from billbot.sandbox.codat.throttle import Throttle
from tests.plugins.openapi_contract import CodatSandbox
from tests.support.fake_time import FakeTime

from .conftest import SleepRecorder, client_on, ids


def most_in_any_window(sends: list[float], window: float) -> int:
    most, first = 0, 0
    for last, at in enumerate(sends):
        while sends[first] <= at - window:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.parametrize("per_minute", [1000, 100, 10])
def test_a_greedy_caller_stays_under_the_limit_in_every_window(per_minute: int) -> None:
    limit = codat_limit(per_minute)
    tat: float | None = None
    now, sends = 0.0, []
    for _ in range(per_minute * 4):
        slot, tat = next_slot(tat, now, limit)
        sends.append(slot)
        now = slot  # each call goes the moment it may
    assert most_in_any_window(sends, 60.0) <= per_minute * 0.97
    # ... and close to it: the sustained rate is what the floor of a long day is set by.
    sustained = (len(sends) - limit.burst) / (sends[-1] - sends[0]) * 60
    assert sustained >= per_minute * 0.8


def test_codat_documented_limit_gives_a_burst_of_fifty() -> None:
    limit = codat_limit(1000)
    assert limit.burst == 50 and limit.interval == pytest.approx(60 / 920)
    with pytest.raises(ValueError):
        codat_limit(0)


def test_the_bucket_never_names_the_key() -> None:
    assert "secret-key" not in bucket_key("secret-key")
    assert bucket_key("a") != bucket_key("b") and bucket_key("a").startswith("codat:")


async def test_a_person_goes_at_once_and_the_jobs_absorb_it() -> None:
    sleeps = SleepRecorder()
    pace = CodatPace(Slots(FakeTime()), "codat:k", Limit(interval=1.0, burst=2), sleep=sleeps)
    with background_calls():
        assert [await pace.turn() for _ in range(3)] == [0.0, 0.0, 1.0]
    assert await pace.turn() == 0.0  # a person's call: no wait, but a slot taken
    with background_calls():
        assert await pace.turn() == 3.0  # the next job waits for the person's slot too
    assert sleeps.delays == [1.0, 3.0]


async def test_only_the_work_marked_background_waits() -> None:
    seen: list[bool] = []

    @in_background
    async def job() -> None:
        await asyncio.sleep(0)
        seen.append(is_background())

    async def click() -> None:
        await asyncio.sleep(0)
        seen.append(is_background())

    await asyncio.gather(job(), click())
    assert sorted(seen) == [False, True] and not is_background()


async def test_a_429_holds_the_bucket_for_its_retry_after(
        codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
    codat_sandbox.state.faults.rate_limit_next = 1
    codat_sandbox.state.faults.retry_after_seconds = 7
    paced = SleepRecorder()
    pace = CodatPace(Slots(FakeTime()), "codat:k", codat_limit(1000), sleep=paced)
    client = client_on(codat_sandbox, http, sleep=SleepRecorder(), pace=pace)
    with background_calls():
        assert (await client.get_company_info(*ids(codat_sandbox))).company_name
    # The retry (and every other job's call) waited for the held bucket, on its clock.
    assert paced.delays == [7.0]
    assert await pace.turn() == 0.0  # a person's click is not held (it meets its own 429)


async def read_all(client_calls: int, sandbox: CodatSandbox, http: httpx.AsyncClient,
                   pace: CodatPace | None) -> list[int]:
    client = client_on(sandbox, http, pace=pace,
                       retry=RetryPolicy(initial_interval=0.05, max_elapsed=30.0))

    async def one() -> None:
        with background_calls():
            await client.get_company_info(*ids(sandbox))

    await asyncio.gather(*(one() for _ in range(client_calls)))
    return [r.status for r in sandbox.state.requests]


async def test_paced_background_reads_meet_no_429_from_the_limit(
        codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
    # Codat's limit shrunk to 10 a second so the test takes seconds, not minutes.
    codat_sandbox.state.throttle = Throttle(per_window=10, window_seconds=1.0)
    pace = CodatPace(Slots(), "codat:k", codat_limit(10, window_seconds=1.0))
    statuses = await read_all(20, codat_sandbox, http, pace)
    assert statuses == [200] * 20
    assert codat_sandbox.state.throttle.refused["per_minute"] == 0


async def test_unpaced_the_same_reads_are_refused_and_retried(
        codat_sandbox: CodatSandbox, http: httpx.AsyncClient) -> None:
    codat_sandbox.state.throttle = Throttle(per_window=10, window_seconds=1.0)
    statuses = await read_all(20, codat_sandbox, http, None)
    assert statuses.count(200) == 20 and 429 in statuses  # done, but late and wasteful
    assert codat_sandbox.state.throttle.refused["per_minute"] == statuses.count(429)
