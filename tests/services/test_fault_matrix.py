"""The fault matrix: every failure point x seeded trials, against the Codat sandbox over
HTTP, on SQLite and PostgreSQL. Exactly one payment per approved bill, no approval lost,
every intent final and fully audited (bench/money_trials.py says how).

BILLBOT_MONEY_SEEDS sets the seeds per failure point (default 6; `-s` prints the figures).
`python bench/money_safety.py` runs the same trials at a larger scale.
"""

from __future__ import annotations

import os

from bench.money_trials import FAULTS, run_trials
from sqlalchemy import Engine

SEEDS = int(os.environ.get("BILLBOT_MONEY_SEEDS", "6"))


async def test_every_failure_point_pays_each_approved_bill_exactly_once(engine: Engine) -> None:
    figures = await run_trials(engine, SEEDS)
    print(f"\nfault matrix ({engine.dialect.name}, {SEEDS} seeds x {len(FAULTS)} faults): "
          f"{figures.table()}")
    assert figures.trials == SEEDS * len(FAULTS)
    assert figures.problems == []
    assert figures.payments == figures.trials
    assert (figures.duplicates, figures.approvals_lost, figures.intents_open,
            figures.missing, figures.unaudited) == (0, 0, 0, 0, 0)
