"""Rate-limit buckets (Slack's, Codat's) shared by replicas on PostgreSQL: two replicas (two engines on one
database) reserving slots of one bucket get one schedule between them, and a Retry-After
held by one holds the other. Intervals are long (1,000 s) so that the time the machine takes
between reservations (milliseconds, or seconds when busy) cannot blur the schedule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from billbot.slack_web.pacing import Limit
from billbot.storage.db import make_engine, upgrade_database
from billbot.storage.slack_slots import DatabaseSlots

ON_POSTGRES = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
LIMIT = Limit(interval=1000.0, burst=2)
SLACK = 60.0  # how far the machine's own delays may move a slot, at most


@pytest.fixture
def replicas(database_url: str) -> Iterator[tuple[Engine, Engine]]:
    first, second = make_engine(database_url), make_engine(database_url)
    upgrade_database(first)
    yield first, second
    first.dispose()
    second.dispose()


def near(wait: float, expected: float) -> bool:
    return expected - SLACK <= wait <= expected + 0.001


@ON_POSTGRES
async def test_two_replicas_share_one_schedule(replicas: tuple[Engine, Engine]) -> None:
    a, b = DatabaseSlots(replicas[0]), DatabaseSlots(replicas[1])
    waits = [await (a if n % 2 == 0 else b).reserve("ws:chat.update", LIMIT) for n in range(5)]
    expected = [0, 0, 1000, 2000, 3000]  # a burst of two, then one per interval, in turn
    assert all(near(w, e) for w, e in zip(waits, expected, strict=True)), waits
    assert near(await b.reserve("ws:chat.postMessage:C1", LIMIT), 0)  # its own bucket


@ON_POSTGRES
async def test_a_hold_by_one_replica_holds_the_other(replicas: tuple[Engine, Engine]) -> None:
    a, b = DatabaseSlots(replicas[0]), DatabaseSlots(replicas[1])
    assert near(await a.reserve("ws:views.update", LIMIT), 0)
    await b.hold("ws:views.update", 500.0, LIMIT)
    assert near(await a.reserve("ws:views.update", LIMIT), 500)


@ON_POSTGRES
async def test_without_the_database_a_replica_paces_itself(replicas: tuple[Engine, Engine]
                                                           ) -> None:
    broken = make_engine("postgresql://nobody@127.0.0.1:1/none")
    slots = DatabaseSlots(broken)
    assert [round(await slots.reserve("k", LIMIT)) for _ in range(3)] == [0, 0, 1000]
    broken.dispose()


@ON_POSTGRES
async def test_an_urgent_call_goes_now_and_moves_the_shared_schedule(
        replicas: tuple[Engine, Engine]) -> None:
    # Codat's bucket (codat/pacing.py): a person's call on one replica goes at once and the
    # other replica's background calls wait for its slot as well.
    a, b = DatabaseSlots(replicas[0]), DatabaseSlots(replicas[1])
    assert [near(await a.reserve("codat:k", LIMIT), 0) for _ in range(2)] == [True, True]
    assert near(await b.reserve("codat:k", LIMIT, urgent=True), 0)
    assert near(await a.reserve("codat:k", LIMIT), 2000)
