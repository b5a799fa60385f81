"""Money safety figures: seeded payment trials under every failure point.

    python bench/money_safety.py [--seeds 30] [--database-url URL] [--api sync|async]

Each trial (bench/money_trials.py) approves a fresh bill in the Codat sandbox
(served over HTTP), pays it while one failure happens (connection refused, 500, 503, 429,
Codat commits then the answer is lost, a crash before the Codat call, a crash after Codat
answered and before the local commit), restarts and runs recovery until every intent is
final, and pays again where the first payment failed for good. Printed per failure point
and in total: trials, payments made, duplicates, approvals lost, intents left open (the last
three must be 0), bills left unpaid, intents whose audit misses a transition, and the wall
time. The database is a fresh SQLite file unless --database-url names an empty PostgreSQL
database. `--api async` runs the trials through Codat's async API (push operations, a
unique reference instead of an Idempotency-Key), with one more failure point: the push
operation ends Failed. Exit status 1 when any invariant was broken.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

# The trial engine (bench/money_trials.py) is shared with the tests; run from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.money_trials import FAULTS_BY_API, Figures, trial_world
from billbot.storage.db import make_engine, upgrade_database


async def main(seeds: int, database_url: str, api: str = "sync") -> int:
    engine = make_engine(database_url)
    upgrade_database(engine)
    total = Figures()
    faults = FAULTS_BY_API[api]
    print(f"{seeds} seeds per failure point on {engine.dialect.name}, {api} API")
    print(f"{'failure point':<14}{'trials':>7}{'payments':>9}{'dupes':>6}{'lost appr':>10}"
          f"{'open':>5}{'unpaid':>7}{'unaudited':>10}{'paid again':>11}{'seconds':>9}")
    try:
        # One world for every failure point: the database remembers every trial, so each
        # needs a bill of its own (a second world would reuse the first one's bill ids).
        async with trial_world(engine, seeds * len(faults), api) as world:
            for fault in faults:
                started = time.perf_counter()
                figures = Figures()
                for seed in range(seeds):
                    figures.add(await world.trial(fault, seed))
                seconds = time.perf_counter() - started
                total.add(figures)
                print(f"{fault:<14}{figures.trials:>7}{figures.payments:>9}"
                      f"{figures.duplicates:>6}{figures.approvals_lost:>10}"
                      f"{figures.intents_open:>5}{figures.missing:>7}{figures.unaudited:>10}"
                      f"{figures.repaid:>11}{seconds:>9.1f}")
    finally:
        engine.dispose()
    print(f"total: {total.table()}")
    for problem in total.problems[:20]:
        print(f"  problem: {problem}")
    return 0 if total.clean and total.payments == total.trials else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30, help="trials per failure point")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--api", choices=sorted(FAULTS_BY_API), default="sync",
                        help="the Codat Bill Pay API the payments go through")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="billbot-money-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'billbot.db'}"
        sys.exit(asyncio.run(main(args.seeds, url, args.api)))
