"""Fixtures for the Codat sandbox tests: a seeded state on a fixed day, served over real HTTP,
with every Codat exchange checked against Codat's OpenAPI spec when the test ends."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from billbot.clock import FixedClock
from billbot.sandbox.codat import SandboxState, create_app
from billbot.sandbox.serving import ServedApp, serve_in_thread
from tests.support.codat_async import AsyncApi
from tests.support.openapi_contract import ContractRecorder, session_recorder

TODAY = date(2025, 1, 8)  # a Wednesday
API_KEY = "sandbox-test-key"


def basic_auth(key: str = API_KEY) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}


@dataclass
class Api:
    """An authorised httpx client on a served sandbox, with the main company's paths."""

    client: httpx.Client
    state: SandboxState
    base_url: str

    @property
    def company(self) -> str:
        return f"/companies/{self.state.main_company_id}"

    @property
    def connection(self) -> str:
        return f"{self.company}/connections/{self.state.main_connection_id}"

    @property
    def payables(self) -> str:
        return f"{self.connection}/payables"

    def bills(self, **params: str) -> httpx.Response:
        return self.client.get(f"{self.payables}/bills", params=params)

    def all_bills(self, query: str | None = None) -> list[dict[str, Any]]:
        """Every page of a bill listing, following continuation tokens."""
        results: list[dict[str, Any]] = []
        params: dict[str, str] = {"query": query} if query else {}
        while True:
            response = self.bills(**params)
            assert response.status_code == 200, response.text
            page = response.json()
            results += page["results"]
            token = page["pagination"].get("continuationToken")
            if not token:
                return results
            params["continuationToken"] = token

    def pay(self, bill_id: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return self.client.post(f"{self.payables}/bills/{bill_id}/payment", json=body,
                                headers=headers)

    def account_id(self, name: str) -> str:
        return next(str(a["id"]) for a in self.state.main_ledger.bank_accounts.values()
                    if a["name"] == name)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 1, 8, 10, 0, tzinfo=UTC))


@pytest.fixture
def state(clock: FixedClock) -> SandboxState:
    return SandboxState.seeded(TODAY, clock=clock)


@pytest.fixture
def contract() -> Iterator[ContractRecorder]:
    """Every exchange of the test must match the spec; checked after the test."""
    recorder = ContractRecorder()
    yield recorder
    violations = recorder.flush()
    session_recorder().absorb(recorder.export())  # so the run's report counts them too
    assert not violations, "\n".join(str(v) for v in violations)


@pytest.fixture
def served(state: SandboxState, contract: ContractRecorder) -> Iterator[ServedApp]:
    with serve_in_thread(create_app(state, api_key=API_KEY, on_exchange=contract.record)) as app:
        yield app


@pytest.fixture
def api(served: ServedApp, state: SandboxState) -> Iterator[Api]:
    with httpx.Client(base_url=served.base_url, headers=basic_auth(), timeout=10) as client:
        yield Api(client=client, state=state, base_url=served.base_url)


@pytest.fixture
def async_api(api: Api) -> AsyncApi:
    """The main company's async API on the same served sandbox as `api`."""
    return AsyncApi(client=api.client, company_id=api.state.main_company_id,
                    connection_id=api.state.main_connection_id)
