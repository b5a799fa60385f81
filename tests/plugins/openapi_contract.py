"""pytest plugin: all Codat traffic through the sandbox is checked against Codat's OpenAPI spec.

Enabled from tests/conftest.py (`pytest_plugins`). It gives tests a served sandbox
(`codat_sandbox`) and billbot's client on it (`codat_client`); every exchange either of
them makes, and every exchange of an app built with `validated_sandbox_app`, lands in the
session recorder. After each test the recorder validates what it collected (never on the
server's thread, so fault-injection timings are untouched), attributing violations to the
test. At the end the run prints `openapi contract: N requests validated, M violations`,
lists the violations and fails if there are any. Under pytest-xdist each worker exports its
recorder and the controller adds them up, so the report covers the whole run.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from billbot.codat import CodatClient
from billbot.sandbox.codat import SandboxState
from billbot.sandbox.serving import ServedApp, serve_in_thread
from tests.support.openapi_contract import session_recorder, validated_sandbox_app

SANDBOX_API_KEY = "contract-test-key"
XDIST_KEY = "openapi_contract"  # where a worker leaves its recorder's export


@dataclass(frozen=True)
class CodatSandbox:
    """A seeded Codat sandbox served on loopback; ids are those of the main company."""

    base_url: str
    state: SandboxState
    api_key: str
    company_id: str
    connection_id: str
    server: ServedApp


@pytest.fixture
def codat_sandbox() -> Iterator[CodatSandbox]:
    """A freshly seeded sandbox over real HTTP, every exchange validated against the spec."""
    state = SandboxState.seeded()
    server = serve_in_thread(validated_sandbox_app(state, api_key=SANDBOX_API_KEY))
    try:
        yield CodatSandbox(base_url=server.base_url, state=state, api_key=SANDBOX_API_KEY,
                           company_id=state.main_company_id,
                           connection_id=state.main_connection_id, server=server)
    finally:
        server.stop()


@pytest.fixture
async def codat_client(codat_sandbox: CodatSandbox) -> AsyncIterator[CodatClient]:
    """billbot's CodatClient on its own httpx.AsyncClient, pointed at `codat_sandbox`."""
    async with httpx.AsyncClient() as http:
        yield CodatClient(http, api_key=codat_sandbox.api_key, base_url=codat_sandbox.base_url)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item,
                            nextitem: pytest.Item | None) -> Generator[None, object, object]:
    recorder = session_recorder()
    recorder.flush()  # whatever session-scoped sandboxes sent between tests
    recorder.current_test = item.nodeid
    try:
        return (yield)
    finally:
        recorder.flush()
        recorder.current_test = None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int | pytest.ExitCode) -> None:
    recorder = session_recorder()
    recorder.flush()
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # a pytest-xdist worker: the controller reports for all
        worker_output[XDIST_KEY] = json.dumps(recorder.export())
    if recorder.violations and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist: a worker finished; add what it validated to the run's report."""
    exported = getattr(node, "workeroutput", {}).get(XDIST_KEY)
    if exported:
        session_recorder().absorb(json.loads(exported))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            exitstatus: int | pytest.ExitCode, config: pytest.Config) -> None:
    recorder = session_recorder()
    if not recorder.validated:
        return
    markup = {"red": True, "bold": True} if recorder.violations else {"green": True}
    terminalreporter.write_sep("=", "openapi contract", **markup)
    for line in recorder.lines():
        terminalreporter.write_line(line)
    if recorder.violations:
        terminalreporter.write_line("the run fails: Codat traffic broke the spec "
                                    "(see tests/contract/README.md)", red=True)
