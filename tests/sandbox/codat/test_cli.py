"""`billbot sandbox codat` as a real process: it prints its ids and the SDK can use them."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from codat_sync_for_payables.models.shared.security import Security
from codat_sync_for_payables.sdk import CodatSyncPayables
from codat_sync_for_payables.utils.retries import RetryConfig

from billbot.sandbox.serving import free_port
from tests.support.billbot_command import billbot_command

CLI_KEY = "cli-sandbox-key"


@pytest.fixture
def sandbox_process(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """Start the CLI on a free port (with `indirect` flags, if any); yield (base URL,
    everything it printed first)."""
    port = free_port()
    env = {**os.environ, "CODAT_API_KEY": CLI_KEY}
    flags = list(getattr(request, "param", []))
    process = subprocess.Popen([*billbot_command(), "sandbox", "codat", "--port", str(port),
                                *flags],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               text=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]
        deadline = time.monotonic() + 20  # a startup allowance, not a timing assertion
        while True:
            try:
                httpx.get(f"{base_url}/companies", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"sandbox did not start: {process.stderr}") from None
                time.sleep(0.05)
        yield base_url, "".join(banner)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_serves_the_seeded_sandbox_to_the_sdk(sandbox_process: tuple[str, str]) -> None:
    base_url, banner = sandbox_process
    assert base_url in banner and "CODAT_COMPANY_ID=" in banner
    company_id = banner.split("CODAT_COMPANY_ID=")[1].split()[0]
    connection_id = banner.split("CODAT_CONNECTION_ID=")[1].split()[0]
    assert httpx.get(f"{base_url}/companies").status_code == 401
    auth = "Basic " + base64.b64encode(CLI_KEY.encode()).decode()
    sdk: Any  # the SDK's generated method names (`list`) confuse mypy
    with CodatSyncPayables(security=Security(auth_header=auth), server_url=base_url,
                           retry_config=RetryConfig("none")) as sdk:
        companies = sdk.companies.list(request={}).results
        assert company_id in {c.id for c in companies}
        bills = sdk.bills.list(request={"company_id": company_id,
                                        "connection_id": connection_id})
    assert len(bills.results) == 100 and bills.pagination.continuation_token
    assert {b.status.value for b in bills.results} <= {"Open", "PartiallyPaid"}


@pytest.mark.parametrize("sandbox_process", [["--rate-limits"]], indirect=True)
async def test_rate_limits_refuse_an_eleventh_request_at_once(
        sandbox_process: tuple[str, str]) -> None:
    base_url, banner = sandbox_process
    assert "rate limits: 1,000 requests a minute per address, 10 at once per company" in banner
    company_id = banner.split("CODAT_COMPANY_ID=")[1].split()[0]
    auth = {"Authorization": "Basic " + base64.b64encode(CLI_KEY.encode()).decode()}
    async with httpx.AsyncClient(base_url=base_url, headers=auth, timeout=20) as client:
        await client.post("/_sandbox/faults", json={"latency_ms": 1500})
        answers = await asyncio.gather(*(client.get(f"/companies/{company_id}")
                                         for _ in range(11)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 10 + [429]
