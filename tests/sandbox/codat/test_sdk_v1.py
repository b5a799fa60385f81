"""Codat's official SDK for the async API (codat-sync-for-payables-version-1) against the
sandbox over real HTTP, from its own virtual environment (`.venv-codat-v1`, built by
`.ci/run`): the SDK's pins (httpx<0.28, pydantic<2.10) cannot share the product's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from billbot.sandbox.codat import SandboxState
from billbot.sandbox.serving import serve_in_thread
from tests.sandbox.codat.conftest import TODAY
from tests.support.openapi_contract import validated_sandbox_app

REPO = Path(__file__).resolve().parents[3]
SDK_PYTHON = REPO / ".venv-codat-v1" / "bin" / "python"
SCRIPT = Path(__file__).with_name("sdk_v1") / "drive_async_sandbox.py"
API_KEY = "sdk-v1-key"


def _sdk_python() -> Path:
    if SDK_PYTHON.exists():
        return SDK_PYTHON
    message = (f"{SDK_PYTHON} is missing: python3 -m venv .venv-codat-v1 && "
               ".venv-codat-v1/bin/pip install codat-sync-for-payables-version-1 "
               "(.ci/run does this)")
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(message)  # never skipped in CI
    pytest.skip(message)


def test_the_official_async_sdk_drives_the_sandbox() -> None:
    python = _sdk_python()
    state = SandboxState.seeded(TODAY)
    with serve_in_thread(validated_sandbox_app(state, api_key=API_KEY)) as served:
        result = subprocess.run(
            [str(python), str(SCRIPT), served.base_url, API_KEY, state.main_company_id,
             state.main_connection_id],
            capture_output=True, text=True, timeout=120, check=False,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["bill_pages"] >= 2 and seen["open_bills"] > 50
    assert seen["bank_currencies"] == ["EUR", "GBP", "USD"]
    assert (seen["created_status"], seen["settled_status"]) == ("Pending", "Success")
    assert seen["push_operations"] == 1
    assert (seen["bill_status_before_sync"], seen["bill_status_after_sync"]) == ("Open", "Paid")
    assert seen["bills_sync_status"] == "Complete"
    assert seen["payment_by_reference"] == [[True, "sdk-v1-0001"]]
    assert seen["credit_allocation"] == "Success" and seen["credit_remaining"] == "0"
    assert seen["delete_status"] == "Success"
    assert state.bill("7110700004")["status"] == "Open"  # the deleted payment is undone
    assert {p.reference for p in state.payments} == {"sdk-v1-0001", "sdk-v1-credit"}
    assert sys.executable != str(python)  # the SDK never ran in the product's venv
