"""The plugin reports the contract at the end of a run and fails the run on any violation.

Each case runs pytest in a child process on a tiny test file, since the verdict is the
child's exit status and terminal output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

TESTS = '''
from tests.support.openapi_contract import session_recorder
from tests.support.openapi_exchange import HttpExchange

def test_refused_unknown_route():
    session_recorder().record(HttpExchange.build("GET", "/unknown", status=404))

def test_accepted_unknown_route():
    session_recorder().record(HttpExchange.build("GET", "/unknown", status={status}))
'''


def run_pytest(tmp_path: Path, second_status: int) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_traffic.py").write_text(TESTS.replace("{status}", str(second_status)))
    # No third-party plugins: hypothesis alone would add a second to each run.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-p", "tests.plugins.openapi_contract", "test_traffic.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_clean_run_reports_its_count_and_passes(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, second_status=404)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "openapi contract: 2 requests validated, 0 violations" in result.stdout


def test_a_violation_is_listed_with_its_test_and_fails_the_run(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, second_status=200)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 passed" in result.stdout  # the tests themselves passed...
    assert "openapi contract: 2 requests validated, 1 violations" in result.stdout  # ...the run not
    assert ("test_traffic.py::test_accepted_unknown_route: request GET /unknown: "
            "no such operation in the spec, yet the server answered 200") in result.stdout
