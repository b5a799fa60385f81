"""`/bills away` periods: checking what was typed, and the instants a period covers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A longer absence is a role change for an admin, not a delegation.
MAX_AWAY_DAYS = 366


def away_problem(absent_id: str, delegate_id: str, first_day: date, last_day: date, *,
                 today: date) -> str | None:
    """Why this period cannot be delegated, in words for the person who typed it; None if it can."""
    if delegate_id == absent_id:
        return "You cannot delegate to yourself; name the person who covers for you."
    if last_day < first_day:
        return (f"The last day ({last_day.isoformat()}) is before the first "
                f"({first_day.isoformat()}); give the first day first.")
    if first_day < today:
        return (f"The first day ({first_day.isoformat()}) is in the past; start today "
                f"({today.isoformat()}) or later.")
    if (last_day - first_day).days + 1 > MAX_AWAY_DAYS:
        return (f"That is more than {MAX_AWAY_DAYS} days; ask an admin to change roles "
                "instead.")
    return None


def period_bounds(first_day: date, last_day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC: local midnight of the first day to local midnight after the last
    (both days included where the finance team is)."""
    start = datetime.combine(first_day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


__all__ = ["MAX_AWAY_DAYS", "away_problem", "period_bounds"]
