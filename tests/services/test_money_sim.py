"""The money simulation (bench/money_sim.py) at a small size: single payments and pay runs
under random faults, double clicks, Slack retries and racing replicas leave exactly one
payment per bill, no approval lost and no intent open. `python bench/money_sim.py` runs it
ten thousand times."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bench.money_sim import SCENARIOS, run_sim


async def test_random_trials_pay_each_bill_once_and_leave_nothing_open(tmp_path: Path) -> None:
    tally: Counter[str] = Counter()
    figures = await run_sim(40, chunk=20, seed=7, workdir=tmp_path, tally=tally)
    print(f"\nmoney sim: {figures.table()} {dict(tally)}")
    assert figures.trials == 40 and sum(tally.values()) == 40
    assert {name.split("/")[0] for name in tally} == set(SCENARIOS) == {"single", "payrun"}
    assert figures.problems == []
    runs = sum(n for key, n in tally.items() if key.startswith("payrun/"))
    # One payment per single trial, two to four per pay run, none twice.
    assert 40 - runs + 2 * runs <= figures.payments <= 40 - runs + 4 * runs
    assert (figures.duplicates, figures.approvals_lost, figures.intents_open,
            figures.missing, figures.unaudited) == (0, 0, 0, 0, 0)
