"""The pacing schedule on its own clock: a burst, then one call per interval; buckets per
workspace and method, and per channel for chat.postMessage; a 429's hold pushes the next slot
of its bucket past Retry-After."""

from __future__ import annotations

from billbot.slack_web.pacing import (
    POST_BURST,
    Limit,
    Slots,
    bucket_key,
    limit_for,
    workspace_of,
)
from tests.support.fake_time import FakeTime


async def test_a_burst_then_one_call_per_interval() -> None:
    clock = FakeTime()
    slots = Slots(clock)
    limit = Limit(interval=1.2, burst=3)
    waits = [round(await slots.reserve("k", limit), 6) for _ in range(6)]
    assert waits == [0.0, 0.0, 0.0, 1.2, 2.4, 3.6]
    clock.now += 10  # quiet for a while: the burst is back, not more
    assert [round(await slots.reserve("k", limit), 6) for _ in range(4)] == [0, 0, 0, 1.2]


async def test_a_hold_pushes_the_next_slot_past_retry_after_with_no_burst() -> None:
    clock = FakeTime()
    slots = Slots(clock)
    limit = Limit(interval=1.0, burst=4)
    assert await slots.reserve("k", limit) == 0.0
    await slots.hold("k", 30, limit)
    assert await slots.reserve("k", limit) == 30.0
    assert await slots.reserve("k", limit) == 31.0
    assert await slots.reserve("other", limit) == 0.0


def test_tiers_and_the_per_channel_post_limit() -> None:
    assert limit_for("chat.update") == Limit(interval=1.2, burst=25)  # Tier 3: 50 a minute
    assert limit_for("views.update") == Limit(interval=0.6, burst=50)  # Tier 4: 100 a minute
    assert limit_for("usergroups.users.list") == Limit(interval=3.0, burst=10)  # Tier 2
    assert limit_for("apps.connections.open") == Limit(interval=60.0, burst=1)  # Tier 1
    assert limit_for("some.new_method") == limit_for("chat.update")  # unknown: Tier 3
    assert limit_for("chat.postMessage") == Limit(interval=1.0, burst=POST_BURST)
    ws = workspace_of("xoxb-1")
    assert bucket_key(ws, "chat.postMessage", "C1") != bucket_key(ws, "chat.postMessage", "C2")
    assert bucket_key(ws, "chat.update", "C1") == bucket_key(ws, "chat.update", "C2")
    assert bucket_key(workspace_of("xoxb-2"), "chat.update", None) != bucket_key(
        ws, "chat.update", None)
    assert "xoxb" not in ws  # keys never carry the token
