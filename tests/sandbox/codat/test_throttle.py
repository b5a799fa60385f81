"""Codat's per-minute and per-company limits in the sandbox (codat.md §3): off unless set;
beyond 1,000 requests a minute per client address, or 10 at once on one company, a 429 with
Retry-After that says when the window has room again."""

from __future__ import annotations

import asyncio

import httpx

from billbot.sandbox.codat import SandboxState
from billbot.sandbox.codat.throttle import Throttle
from billbot.sandbox.serving import ServedApp
from tests.sandbox.codat.conftest import Api, basic_auth
from tests.sandbox.codat.helpers import assert_error
from tests.support.fake_time import FakeTime


def test_off_unless_set(api: Api) -> None:
    assert all(api.client.get(f"{api.payables}/info").status_code == 200 for _ in range(30))


def test_the_documented_figures() -> None:
    throttle = Throttle()
    throttle.documented()
    assert (throttle.per_window, throttle.window_seconds, throttle.concurrent_per_company) == (
        1000, 60.0, 10)


def test_beyond_the_window_a_429_says_when_there_is_room(api: Api, state: SandboxState,
                                                          served: ServedApp) -> None:
    clock = FakeTime(500.0)
    state.throttle = Throttle(per_window=3, window_seconds=60.0, monotonic=clock)
    info = f"{api.payables}/info"
    for _ in range(3):
        assert api.client.get(info).status_code == 200
        clock.now += 10
    refused = api.client.get(info)
    body = assert_error(refused, 429)
    assert "too many requests" in body["error"]
    assert refused.headers["Retry-After"] == "30"  # the first leaves the window 30 s on
    assert refused.headers["X-Rate-Limit-Remaining"]  # the daily figures still come
    # The limit is per client address: another one is admitted meanwhile.
    other = httpx.Client(base_url=served.base_url, headers=basic_auth(), timeout=10,
                         transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    with other:
        assert other.get(info).status_code == 200
    clock.now += 30
    assert api.client.get(info).status_code == 200  # a refusal took no place in the window
    assert state.throttle.refused["per_minute"] == 1


async def test_beyond_ten_at_once_on_a_company_a_429(api: Api, state: SandboxState,
                                                      served: ServedApp) -> None:
    state.throttle = Throttle(concurrent_per_company=2)
    state.faults.latency_ms = 600  # each request is in flight that long
    async with httpx.AsyncClient(base_url=served.base_url, headers=basic_auth(),
                                 timeout=10) as client:
        answers = await asyncio.gather(*(client.get(f"{api.payables}/info") for _ in range(3)),
                                       client.get("/companies"))
    statuses = sorted(a.status_code for a in answers[:3])
    assert statuses == [200, 200, 429]
    assert next(a for a in answers if a.status_code == 429).headers["Retry-After"] == "1"
    assert answers[3].status_code == 200  # not one company's request
    assert state.throttle.in_flight(state.main_company_id) == 0  # every slot given back
    state.faults.latency_ms = 0
    assert api.client.get(f"{api.payables}/info").status_code == 200
