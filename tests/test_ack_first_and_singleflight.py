"""The two helpers that keep a burst of requests cheap: AckFirst and SingleFlight."""

from __future__ import annotations

import asyncio

import pytest

from billbot.ack_first import AckFirst
from billbot.singleflight import SingleFlight


async def test_work_waits_for_the_answers_in_flight() -> None:
    gate = AckFirst(max_wait=5)
    order: list[str] = []

    async def request(name: str, answer_after: float) -> None:
        with gate.awaiting_answer():
            await asyncio.sleep(answer_after)
            order.append(f"{name} answered")

    async def work_after_ack() -> None:
        await gate.after_answers()
        order.append("work")

    first = asyncio.create_task(request("first", 0.05))
    second = asyncio.create_task(request("second", 0.15))
    await asyncio.sleep(0.01)
    await asyncio.gather(work_after_ack(), first, second)
    assert order == ["first answered", "second answered", "work"]
    assert gate.awaiting == 0


async def test_work_is_delayed_never_starved() -> None:
    gate = AckFirst(max_wait=0.05)
    with gate.awaiting_answer():  # an answer that never goes out
        done = asyncio.create_task(gate.after_answers())
        await asyncio.wait_for(done, timeout=5)
        assert done.done() and gate.awaiting == 1


async def test_no_request_in_flight_means_no_wait() -> None:
    gate = AckFirst(max_wait=60)
    await asyncio.wait_for(gate.after_answers(), timeout=1)


async def test_then_work_acknowledges_with_the_arguments_given() -> None:
    gate = AckFirst()
    seen: list[tuple[tuple[object, ...], dict[str, object]]] = []

    async def ack(*args: object, **kwargs: object) -> None:
        seen.append((args, kwargs))

    await gate.then_work(ack)(text="hi")
    assert seen == [((), {"text": "hi"})]


async def test_concurrent_callers_share_one_call() -> None:
    flights: SingleFlight[str, list[int]] = SingleFlight()
    calls = 0

    async def fetch() -> list[int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return [calls]

    results = await asyncio.gather(*(flights.run("acme", fetch) for _ in range(20)))
    assert calls == 1 and all(r == [1] for r in results)
    # Nothing is kept: the next caller after the flight landed starts a new one.
    assert await flights.run("acme", fetch) == [2] and flights.in_flight() == 0


async def test_keys_fly_separately_and_failures_reach_every_waiter() -> None:
    flights: SingleFlight[str, int] = SingleFlight()

    async def fail() -> int:
        await asyncio.sleep(0.01)
        raise RuntimeError("codat is down")

    async def ok() -> int:
        return 7

    outcomes = await asyncio.gather(flights.run("a", fail), flights.run("a", fail),
                                    flights.run("b", ok), return_exceptions=True)
    assert [type(o) for o in outcomes[:2]] == [RuntimeError, RuntimeError] and outcomes[2] == 7


async def test_a_cancelled_caller_leaves_the_call_running_for_the_others() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    release = asyncio.Event()

    async def fetch() -> str:
        await release.wait()
        return "bills"

    quitter = asyncio.create_task(flights.run("acme", fetch))
    stayer = asyncio.create_task(flights.run("acme", fetch))
    await asyncio.sleep(0.01)
    quitter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await quitter
    release.set()
    assert await stayer == "bills"
