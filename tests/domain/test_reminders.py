"""When reminders and escalations are due: working hours on digest days in the team's zone,
the reminder window, and hours counted from the end of the due date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from billbot.domain.reminders import escalation_due, in_reminder_window, working_day

NY = ZoneInfo("America/New_York")
MON_FRI = frozenset(range(5))


def test_working_hours_are_nine_to_five_local_on_digest_days() -> None:
    # Monday 2026-12-07: 14:00 UTC is 09:00 in New York, 22:00 UTC is 17:00.
    assert working_day(datetime(2026, 12, 7, 13, 59, tzinfo=UTC), NY, MON_FRI) is None
    assert working_day(datetime(2026, 12, 7, 14, 0, tzinfo=UTC), NY, MON_FRI) == date(2026, 12, 7)
    assert working_day(datetime(2026, 12, 7, 21, 59, tzinfo=UTC), NY, MON_FRI) == date(2026, 12, 7)
    assert working_day(datetime(2026, 12, 7, 22, 0, tzinfo=UTC), NY, MON_FRI) is None
    # Saturday is not a digest day.
    assert working_day(datetime(2026, 12, 12, 15, 0, tzinfo=UTC), NY, MON_FRI) is None
    # 01:00 UTC on Tuesday is still Monday evening in New York: outside hours.
    assert working_day(datetime(2026, 12, 8, 1, 0, tzinfo=UTC), NY, MON_FRI) is None


def test_reminder_window_includes_overdue_bills() -> None:
    today = date(2026, 12, 7)
    assert in_reminder_window(date(2026, 12, 9), today, 2)
    assert not in_reminder_window(date(2026, 12, 10), today, 2)
    assert in_reminder_window(date(2026, 11, 1), today, 2)
    assert in_reminder_window(today, today, 0)


def test_escalation_counts_from_the_end_of_the_due_date_in_the_zone() -> None:
    due = date(2026, 12, 7)
    # The due date ends at midnight New York time = 05:00 UTC on the 8th; 24 hours later...
    assert not escalation_due(due, datetime(2026, 12, 9, 4, 59, tzinfo=UTC), NY, 24)
    assert escalation_due(due, datetime(2026, 12, 9, 5, 0, tzinfo=UTC), NY, 24)
    assert escalation_due(due, datetime(2026, 12, 8, 5, 0, tzinfo=UTC), NY, 0)
