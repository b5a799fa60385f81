"""Slack gives an app 3 seconds to answer; then the person sees an error and a late answer's
body is ignored. The driver (and so the demo page, which acts through it) does the same."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from billbot.sandbox.serving import serve_in_thread
from billbot.sandbox.slack import SlackDriver, SlackWorkspace
from billbot.sandbox.slack.driver import ACK_DEADLINE
from tests.sandbox.slack.conftest import ALICE, FINANCE, SIGNING_SECRET

LATE_BY = 1.0  # seconds the slow app takes; the tests shrink the deadline below it


@pytest.fixture
def slow_app_url() -> Iterator[str]:
    async def answer_late(request: Request) -> JSONResponse:
        await asyncio.sleep(LATE_BY)
        return JSONResponse({"text": "a late answer"})

    served = serve_in_thread(Starlette(routes=[Route("/slack/events", answer_late,
                                                     methods=["POST"])]))
    yield f"{served.base_url}/slack/events"
    served.stop()


async def test_a_late_answer_is_slacks_timeout_error_and_its_body_is_ignored(
        workspace: SlackWorkspace, slow_app_url: str) -> None:
    assert ACK_DEADLINE == 3.0
    async with httpx.AsyncClient() as http:
        driver = SlackDriver(workspace, slow_app_url, SIGNING_SECRET, http)
        driver.ack_deadline = LATE_BY / 5  # Slack's rule, scaled down so the test is quick
        response = await driver.slash_command(ALICE, FINANCE, "digest")
    assert response.outcome == "timeout"
    (shown,) = workspace.ephemerals(FINANCE, ALICE)
    assert "operation_timeout" in shown.text and "late answer" not in shown.text


async def test_a_test_may_widen_the_deadline_only_with_a_reason(
        workspace: SlackWorkspace, slow_app_url: str) -> None:
    async with httpx.AsyncClient() as http:
        driver = SlackDriver(workspace, slow_app_url, SIGNING_SECRET, http)
        with pytest.raises(ValueError, match="say why"):
            driver.widen_ack_deadline(10, reason=" ")
        driver.widen_ack_deadline(10, reason="this test shows widening works")
        response = await driver.slash_command(ALICE, FINANCE, "digest")
    assert response.outcome == "shown"
    (shown,) = workspace.ephemerals(FINANCE, ALICE)
    assert shown.text == "a late answer"
