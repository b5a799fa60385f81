"""The fault matrix: every failure point x seeded trials, against the Codat sandbox over
HTTP, on SQLite and PostgreSQL, through the sync and the async Bill Pay API. Exactly one
payment per approved bill, no approval lost, every intent final and fully audited
(bench/money_trials.py says how).

BILLBOT_MONEY_SEEDS sets the seeds per failure point (default 6; `-s` prints the figures).
`python bench/money_safety.py` runs the same trials at a larger scale.
"""

from __future__ import annotations

import os

import pytest
from bench.money_trials import FAULTS_BY_API, run_trials
from sqlalchemy import Engine

SEEDS = int(os.environ.get("BILLBOT_MONEY_SEEDS", "6"))


@pytest.mark.parametrize("api", ["sync", "async"])
async def test_every_failure_point_pays_each_approved_bill_exactly_once(engine: Engine,
                                                                        api: str) -> None:
    """The async API has no Idempotency-Key: the payment's reference and its push operation
    must give the same figures."""
    faults = FAULTS_BY_API[api]
    figures = await run_trials(engine, SEEDS, api=api)
    print(f"\nfault matrix ({api} API, {engine.dialect.name}, {SEEDS} seeds x {len(faults)} "
          f"faults): {figures.table()}")
    assert figures.trials == SEEDS * len(faults)
    assert figures.problems == []
    assert figures.payments == figures.trials
    assert (figures.duplicates, figures.approvals_lost, figures.intents_open,
            figures.missing, figures.unaudited) == (0, 0, 0, 0, 0)
