"""Two `billbot run` processes on one PostgreSQL database send each reminder once.

Both start together, so their reminder jobs (5 s after start) tick at the same moment. The
processes run on the real clock, so the time zone is chosen to put "now" at 13:00 local,
inside working hours, whatever time the test runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import _fresh_postgres_database, postgres_url
from tests.process.harness import ANN, BEN, eventually, process_world

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def postgres_database() -> Iterator[str]:
    admin_url = postgres_url()
    if admin_url is None:
        pytest.skip("set BILLBOT_TEST_POSTGRES_URL")
    yield from _fresh_postgres_database(admin_url)


def zone_at_one_pm(now: datetime) -> tuple[str, date]:
    """An Etc/GMT zone where `now` is 13:xx, and the local date there (POSIX signs: Etc/GMT-3
    is three hours ahead of UTC)."""
    offset = 13 - now.hour
    if offset > 14:
        offset -= 24
    if offset < -12:
        offset += 24
    name = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
    return name, (now + timedelta(hours=offset)).date()


async def test_two_processes_remind_each_approver_of_each_bill_once(
        tmp_path: Path, postgres_database: str) -> None:
    zone, local_today = zone_at_one_pm(datetime.now(UTC))
    env = {"BILLBOT_TIMEZONE": zone, "BILLBOT_DIGEST_DAYS": "mon-sun",
           "BILLBOT_DIGEST_AT": "23:30", "BILLBOT_NOTIFY": "dm",
           "BILLBOT_REMIND_DAYS_BEFORE": "2"}
    async with process_world(tmp_path, postgres_database) as world:
        await asyncio.gather(world.start_bot("first", env=env), world.start_bot("second", env=env))
        last = local_today + timedelta(days=2)
        expected = sorted(b["reference"] for b in world.sandbox.main_ledger.bills.values()
                          if b["status"] in ("Open", "PartiallyPaid")
                          and date.fromisoformat(str(b["dueDate"])[:10]) <= last)
        assert expected

        def reminded(user: str) -> list[str]:
            return [m.text for m in world.workspace.messages(f"D{user}")
                    if m.bot_id and m.text.startswith(":alarm_clock:")]

        for user in (ANN, BEN):
            await eventually(lambda u=user: len(reminded(u)) >= len(expected),  # type: ignore[misc]
                             within=60, what=f"reminders to {user}")
        await asyncio.sleep(5)  # both processes' first ticks are over: nothing more arrives
        for user in (ANN, BEN):
            texts = reminded(user)
            refs = sorted(next(r for r in expected if f"*{r}*" in t) for t in texts)
            assert refs == expected, texts
