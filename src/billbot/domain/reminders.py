"""When a bill is reminded or escalated: working hours, the reminder window, and the hours
counted from the end of the due date, all in the finance team's time zone. Pure."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WORK_STARTS = time(9, 0)
WORK_ENDS = time(17, 0)


def working_day(now: datetime, tz: ZoneInfo, days: frozenset[int]) -> date | None:
    """The local day when `now` falls in working hours (09:00-17:00 on a digest day), else None."""
    local = now.astimezone(tz)
    if local.weekday() not in days or not WORK_STARTS <= local.time() < WORK_ENDS:
        return None
    return local.date()


def in_reminder_window(due_date: date, today: date, days_before: int) -> bool:
    """Due within `days_before` days, or overdue: an unapproved bill is worth a reminder."""
    return (due_date - today).days <= days_before


def escalation_due(due_date: date, now: datetime, tz: ZoneInfo, hours: float) -> bool:
    """`hours` have passed since the end of the due date (local midnight after it)."""
    end_of_due = datetime.combine(due_date + timedelta(days=1), time(0), tzinfo=tz)
    return now >= end_of_due + timedelta(hours=hours)


__all__ = ["WORK_ENDS", "WORK_STARTS", "escalation_due", "in_reminder_window", "working_day"]
