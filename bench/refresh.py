"""What the open-bills cache costs in Codat requests and time, day 1 against day 2.

    python bench/refresh.py [--bills 5000] [--latency-ms 100] [--edits 10]

The Codat sandbox is seeded with `--bills` Open bills, all due within the window, and answers
every API request after `--latency-ms`. billbot runs on a fresh SQLite file. Printed, each a
step in order:

* day 1: the first `/bills due` (a full read of every page into the database, then the list);
* day 1: the first digest, which checks its rows' controls (one supplier history per supplier);
* day 2 (21 hours on), unchanged: `/bills due` (one `sourceModifiedDate>…` request, then the
  cached bills), the digest (read, row states — unchanged bills are not checked again —
  Block Kit, chat.postMessage into the local Slack stand-in);
* day 2 after `--edits` bookkeeper edits: `/bills due` again;
* the periodic full read (a day later): the nightly job's, then `/bills due` after it
  (only what changed: readers never carry the full read).

`/bills due` is timed as its answer is built after the acknowledgement: the due bills read,
summed and laid out as the first page. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The shared set-up (bench/one_company.py); run from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.one_company import CHANNEL, OneCompany, serve_one_company
from billbot.domain.digest import summarise
from billbot.runtime import build_billbot
from billbot.sandbox.codat.control import edit_bill
from billbot.slackapp.digests import post_digest
from billbot.slackapp.due_pages import due_page_blocks


class LaterClock:
    """The wall clock, moved on by hand (for the periodic full read a day later)."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead


async def _step(world: OneCompany, work: Callable[[], Awaitable[Any]]) -> tuple[int, float]:
    before = world.codat_requests()
    started = time.perf_counter()
    await work()
    return world.codat_requests() - before, time.perf_counter() - started


async def measure(bills: int, latency_ms: int, edits: int, workdir: Path
                  ) -> list[tuple[str, int, float]]:
    world = serve_one_company(bills, workdir / f"refresh-{bills}.db")
    state, settings = world.state, world.settings
    clock = LaterClock()
    bot = build_billbot(settings, clock=clock)
    rows: list[tuple[str, int, float]] = []
    try:
        await bot.startup()
        binding = await bot.binding_for(CHANNEL)
        assert binding is not None
        state.faults.latency_ms = latency_ms
        window = settings.billbot_due_within_days

        async def bills_due() -> None:
            due = await bot.due_bills(binding, within_days=window)
            today = bot.today()
            due_page_blocks(due, summarise(due, today=today), today=today, days=window)

        async def digest() -> None:
            await post_digest(bot, CHANNEL, binding)

        rows.append(("day 1: /bills due (full read)", *await _step(world, bills_due)))
        # The first digest checks its rows' controls: one supplier history per supplier shown.
        rows.append(("day 1: digest (controls checked)", *await _step(world, digest)))
        # The next morning (the day's full read is 24 hours after the first one).
        clock.ahead = timedelta(hours=21)
        rows.append(("day 2, unchanged: /bills due", *await _step(world, bills_due)))
        rows.append(("day 2, unchanged: digest", *await _step(world, digest)))
        with state.lock:
            for bill_id in list(state.main_ledger.bills)[:edits]:
                edit_bill(state, state.main_ledger, bill_id, {"reference": "edited"})
        rows.append((f"day 2, {edits} bills edited: /bills due", *await _step(world, bills_due)))
        clock.ahead = timedelta(hours=settings.billbot_bills_full_read_hours)

        async def nightly() -> None:
            await bot.open_bills.full_read(binding.company_id, binding.connection_id)

        rows.append(("a day later: the nightly full read", *await _step(world, nightly)))
        rows.append(("a day later: /bills due", *await _step(world, bills_due)))
        return rows
    finally:
        await bot.shutdown()
        world.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=5000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--edits", type=int, default=10)
    args = parser.parse_args(argv)
    print(f"open-bills refresh: {args.bills} open bills, all due; Codat sandbox latency "
          f"{args.latency_ms} ms per request, 100 bills per page; SQLite file")
    print(f"{'step':<42} {'Codat req':>9} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, requests, seconds in asyncio.run(
                measure(args.bills, args.latency_ms, args.edits, Path(tmp))):
            print(f"{name:<42} {requests:>9} {seconds:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
