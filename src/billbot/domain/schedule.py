"""When the daily digest is due: digest days, the digest time, and the catch-up window.

The scheduler only ticks (every minute); this module decides, from the local wall clock,
whether a channel is due its digest today. Computing from local time on every tick makes
DST harmless: there is no cron expression to fire twice or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# A digest missed because billbot was down is still posted within this long after its time.
CATCH_UP_WINDOW = timedelta(hours=2)


def parse_digest_days(text: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri`, `fri-mon` (ranges wrap) -> weekday numbers (Monday = 0)."""
    days: set[int] = set()
    parts = [p.strip().lower() for p in text.split(",")]
    if not any(parts):
        raise ValueError("names no weekday; use e.g. mon-fri")
    for part in parts:
        if not part:
            raise ValueError(f"empty entry in {text!r}")
        ends = [e.strip() for e in part.split("-")]
        if len(ends) > 2 or any(e not in WEEKDAYS for e in ends):
            raise ValueError(f"unknown weekday or range {part!r}; use mon tue wed thu fri sat sun")
        first = WEEKDAYS.index(ends[0])
        last = WEEKDAYS.index(ends[-1])
        day = first
        while True:
            days.add(day)
            if day == last:
                break
            day = (day + 1) % 7
    return frozenset(days)


@dataclass(frozen=True)
class DigestSchedule:
    at: time
    days: frozenset[int]
    tz: ZoneInfo

    def due_day(self, now: datetime) -> date | None:
        """The local day whose digest should be posted now, or None.

        A digest is due from its time until CATCH_UP_WINDOW later, on digest days only;
        "never twice" is the database's job (one claimed row per channel per local day).
        """
        local = now.astimezone(self.tz)
        if local.weekday() not in self.days:
            return None
        start = datetime.combine(local.date(), self.at, tzinfo=self.tz)
        # Wall-clock times that do not exist (DST gap) resolve forward via fold semantics.
        start = start.astimezone(self.tz)
        if start <= local < start + CATCH_UP_WINDOW:
            return local.date()
        return None
