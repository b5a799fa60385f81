"""`billbot run --workers N`: PostgreSQL only. With SQLite it stops at once and says why,
before checking credentials or creating anything (tests/process/test_job_workers.py runs
two workers on PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.billbot_command import billbot_command

RUN_ENV = {"SLACK_BOT_TOKEN": "xoxb-workers", "SLACK_SIGNING_SECRET": "workers-secret",
           "CODAT_API_KEY": "workers-key"}


def billbot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLACK_", "CODAT_", "BILLBOT_")) and k != "DATABASE_URL"}
    return subprocess.run([*billbot_command(), *args], cwd=cwd, env={**clean, **env},
                          capture_output=True, text=True, timeout=60, check=False)


def test_workers_with_sqlite_stop_and_say_postgresql(tmp_path: Path) -> None:
    done = billbot(tmp_path, "run", "--workers", "2", **RUN_ENV,
                   DATABASE_URL=f"sqlite:///{tmp_path / 'b.db'}")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "--workers needs PostgreSQL" in done.stderr and "one process" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no database file created


@pytest.mark.parametrize("value", ["0", "-1", "two", "65"])
def test_workers_must_be_a_number_of_processes(tmp_path: Path, value: str) -> None:
    done = billbot(tmp_path, "run", "--workers", value, **RUN_ENV)
    assert done.returncode == 2
    assert "a number of processes from 1 to 64" in done.stderr


def test_a_replica_without_jobs_needs_postgresql(tmp_path: Path) -> None:
    """With SQLite the one process is the only one that can run the digests, reminders and
    recovery: a replica told to run none would leave them undone."""
    done = billbot(tmp_path, "run", **RUN_ENV, BILLBOT_RUN_JOBS="false",
                   DATABASE_URL=f"sqlite:///{tmp_path / 'b.db'}")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "BILLBOT_RUN_JOBS=false needs PostgreSQL" in done.stderr
    assert list(tmp_path.iterdir()) == []
