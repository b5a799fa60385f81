"""The `billbot` command as an operator meets it: clear errors, no traceback, nothing created
by a failed command, every wrong variable named at once, `--version`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.conftest import postgres_url


def billbot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLACK_", "CODAT_", "BILLBOT_")) and k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "billbot.cli", *args], cwd=cwd,
                          env={**clean, **env}, capture_output=True, text=True, timeout=60,
                          check=False)


def test_version_is_the_installed_package_version(tmp_path: Path) -> None:
    done = billbot(tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"billbot {version('billbot')}"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_audit_export_without_database_url_creates_nothing(tmp_path: Path, fmt: str) -> None:
    done = billbot(tmp_path, "audit", "export", "--format", fmt)
    assert done.returncode != 0
    assert done.stdout == ""  # not even the CSV header
    assert "Traceback" not in done.stderr
    assert "DATABASE_URL" in done.stderr and "billbot.db" in done.stderr
    assert list(tmp_path.iterdir()) == []  # no empty billbot.db left behind


def test_audit_export_from_a_file_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "prod.db"
    done = billbot(tmp_path, "audit", "export", DATABASE_URL=f"sqlite:///{target}")
    assert done.returncode != 0 and done.stdout == ""
    assert "Traceback" not in done.stderr and "no billbot database" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_audit_export_from_a_database_without_the_schema(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
    before = other.read_bytes()
    done = billbot(tmp_path, "audit", "export", "--format", "csv",
                   DATABASE_URL=f"sqlite:///{other}")
    assert done.returncode != 0 and done.stdout == ""
    assert "Traceback" not in done.stderr and "no billbot audit log" in done.stderr
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


@pytest.mark.postgres
def test_audit_export_from_a_postgres_database_that_does_not_exist(tmp_path: Path) -> None:
    admin = postgres_url()
    assert admin is not None
    base = admin.rsplit("/", 1)[0]
    done = billbot(tmp_path, "audit", "export", DATABASE_URL=f"{base}/billbot_never_created_x")
    assert done.returncode != 0 and done.stdout == ""
    assert "Traceback" not in done.stderr and "cannot open the database" in done.stderr


def test_run_names_every_wrong_variable_malformed_and_missing_at_once(tmp_path: Path) -> None:
    done = billbot(tmp_path, "run", BILLBOT_TIMEZONE="Mars/Olympus", BILLBOT_DIGEST_AT="25:00")
    assert done.returncode == 2
    for name in ("BILLBOT_TIMEZONE", "BILLBOT_DIGEST_AT", "SLACK_BOT_TOKEN",
                 "SLACK_SIGNING_SECRET", "CODAT_API_KEY"):
        assert name in done.stderr, (name, done.stderr)
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
