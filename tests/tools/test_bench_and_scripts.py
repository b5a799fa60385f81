"""The benchmark and trace scripts still run (tiny sizes); their figures are not checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 180) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_digest_bench_runs_and_counts_codat_pages() -> None:
    out = run("bench/digest_build.py", "--bills", "5", "150", "--latency-ms", "0")
    rows = [line.split() for line in out.splitlines()[2:]]
    assert [r[0] for r in rows] == ["5", "150"]
    assert [r[2] for r in rows] == ["1", "2"]  # Codat requests: 100 bills per page
    assert all(r[9] == "0" for r in rows)  # no Block Kit violations (the column before App Home's)
    assert all(int(r[-1]) <= 100 for r in rows)  # an App Home view holds at most 100 blocks


def test_refresh_bench_runs_and_counts_codat_requests() -> None:
    out = run("bench/refresh.py", "--bills", "150", "--latency-ms", "0", "--edits", "2")
    counts = {line[:42].strip(): line.split()[-2] for line in out.splitlines()[2:]}
    assert int(counts.pop("day 1: digest (controls checked)")) >= 1
    # The day-2 digest: the refresh request, and the supplier history of the one row saying
    # "first payment" (checked daily); the unchanged bills' rows are not checked again.
    assert int(counts.pop("day 2, unchanged: digest")) <= 2
    assert counts == {"day 1: /bills due (full read)": "2", "day 2, unchanged: /bills due": "1",
                      "day 2, 2 bills edited: /bills due": "1",
                      "a day later: the nightly full read": "2",
                      "a day later: /bills due": "1"}  # the full read is the job's alone


def test_startup_memory_bench_runs_and_prints_both_figures() -> None:
    out = run("bench/startup_memory.py", "--bills", "20")
    assert "billbot.server" in out and "`billbot run` started: RSS" in out
    assert "after one digest of 20 bills: RSS" in out


def test_ack_latency_bench_runs_against_both_servers() -> None:
    out = run("bench/ack_latency.py", "--concurrency", "4", "--rounds", "1", "--bills", "10",
              "--codat-latency-ms", "0")
    assert "billbot run" in out and "bare Bolt" in out
    assert "work done after acknowledging: 2 chat.update (for 2 clicks)" in out


def test_trace_records_one_payment_with_an_idempotency_key(tmp_path: Path) -> None:
    out = run("scripts/trace_approve_and_pay.py", "--out", str(tmp_path))
    assert "Payments the sandbox recorded: 1." in out
    sequence = (tmp_path / "approve-and-pay-sequence.md").read_text()
    assert "/payment | 201 handled, Idempotency-Key" in sequence
    digest = json.loads((tmp_path / "digest-example.json").read_text())
    assert digest[0]["blocks"][0]["type"] == "header"


def test_pacing_bench_runs_and_every_update_lands() -> None:
    out = run("bench/pacing.py", "--updates", "12", "--inject-429", "1")
    assert "0 from the stand-in's limits + 1 injected; 0 failed; 12 updated" in out
