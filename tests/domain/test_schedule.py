"""Digest days, the digest time, the catch-up window, and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from billbot.domain.schedule import DigestSchedule, parse_digest_days


@pytest.mark.parametrize(("text", "days"), [
    ("mon-fri", {0, 1, 2, 3, 4}),
    ("MON,wed , Fri", {0, 2, 4}),
    ("fri-mon", {4, 5, 6, 0}),
    ("sun", {6}),
    ("mon-sun", set(range(7))),
    ("sat-sat", {5}),
])
def test_parse_days(text: str, days: set[int]) -> None:
    assert parse_digest_days(text) == days


@pytest.mark.parametrize("text", ["", "funday", "mon-", "mon--fri", "mon,,tue", "1-5", "mon-tue-wed"])
def test_bad_days_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_digest_days(text)


def test_due_only_from_the_time_until_two_hours_later() -> None:
    tz = ZoneInfo("Europe/London")
    sched = DigestSchedule(at=time(9, 0), days=frozenset(range(5)), tz=tz)
    monday = datetime(2026, 11, 23, tzinfo=tz)
    assert sched.due_day(monday.replace(hour=8, minute=59)) is None
    assert sched.due_day(monday.replace(hour=9)) == monday.date()
    assert sched.due_day(monday.replace(hour=10, minute=59)) == monday.date()
    assert sched.due_day(monday.replace(hour=11, minute=0)) is None
    saturday = datetime(2026, 11, 28, 9, 30, tzinfo=tz)
    assert sched.due_day(saturday) is None


def test_local_day_not_utc_day() -> None:
    """09:00 in Auckland is the previous evening in UTC: the digest belongs to the local day."""
    tz = ZoneInfo("Pacific/Auckland")
    sched = DigestSchedule(at=time(9, 0), days=frozenset(range(7)), tz=tz)
    now = datetime(2026, 11, 22, 20, 30, tzinfo=UTC)  # 09:30 on the 23rd in Auckland
    assert str(sched.due_day(now)) == "2026-11-23"


def test_dst_days_still_have_exactly_one_window() -> None:
    """A ticking scheduler sees the window once on the spring-forward and fall-back days."""
    tz = ZoneInfo("America/New_York")
    for day in (datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)):
        sched = DigestSchedule(at=time(2, 30), days=frozenset(range(7)), tz=tz)
        start = day.replace(hour=0)
        due_minutes = {sched.due_day(start.replace(hour=h, minute=m))
                       for h in range(0, 24) for m in range(0, 60, 5)} - {None}
        assert len(due_minutes) == 1
