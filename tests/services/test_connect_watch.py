"""The connection watch on a real database: the backoff, one lease at a time, a form's
second submission refused, and the pause while disconnected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from billbot.services import connect_watch
from billbot.storage.db import session_scope

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_backoff_doubles_from_five_seconds_up_to_five_minutes() -> None:
    waits = [connect_watch.backoff(n) for n in range(8)]
    assert waits[:3] == [timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=20)]
    assert waits[-1] == connect_watch.MAX_WAIT
    assert connect_watch.backoff(10_000) == connect_watch.MAX_WAIT


def test_one_submission_one_watch_and_one_lease(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert connect_watch.start_creation(s, view_id="V1", channel_id="C1", actor="U1", at=T0)
    with session_scope(engine) as s:
        assert not connect_watch.start_creation(s, view_id="V1", channel_id="C1", actor="U1",
                                                at=T0)
    with session_scope(engine) as s:
        assert connect_watch.due(s, now=T0 + timedelta(hours=1)) == []  # still being created
        connect_watch.start_waiting(s, view_id="V1", company_id="co", connection_id="cn", at=T0)
    later = T0 + timedelta(minutes=1)
    with session_scope(engine) as s:
        (watch_id,) = connect_watch.due(s, now=later)
    with session_scope(engine) as s:
        watch = connect_watch.claim(s, watch_id=watch_id, now=later)
    with session_scope(engine) as s:
        assert connect_watch.claim(s, watch_id=watch_id, now=later) is None  # leased
        assert connect_watch.due(s, now=later) == []
    assert watch is not None and watch.phase == connect_watch.WAITING
    with session_scope(engine) as s:
        connect_watch.settle(s, watch=watch, phase=connect_watch.WAITING, status="PendingAuth",
                             at=later)
    with session_scope(engine) as s:  # the lease is given back; the next check backs off
        assert connect_watch.due(s, now=later + timedelta(seconds=9)) == []
        assert connect_watch.due(s, now=later + timedelta(seconds=10)) == [watch_id]


def test_digests_pause_while_disconnected(engine: Engine) -> None:
    with session_scope(engine) as s:
        connect_watch.watch_bound(s, channel_id="C1", company_id="co", connection_id="cn",
                                  actor="U1", status="Linked", at=T0)
    due_at = T0 + connect_watch.LINKED_CHECK
    with session_scope(engine) as s:
        (watch_id,) = connect_watch.due(s, now=due_at)
        watch = connect_watch.claim(s, watch_id=watch_id, now=due_at)
    assert watch is not None
    with session_scope(engine) as s:
        connect_watch.settle(s, watch=watch, phase=connect_watch.DISCONNECTED,
                             status="Unlinked", at=due_at)
    with session_scope(engine) as s:
        assert connect_watch.paused(s, channel_id="C1", company_id="co", connection_id="cn")
        assert not connect_watch.paused(s, channel_id="C2", company_id="co", connection_id="cn")
