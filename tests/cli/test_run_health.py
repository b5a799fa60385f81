"""`billbot run` as a process: credentials checked at start, `/healthz` for liveness,
`/readyz` for readiness, and Slack's unsigned `ssl_check` answered as Bolt answers it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from billbot.sandbox.codat.app import create_app
from billbot.sandbox.serving import ServedApp, free_port, serve_in_thread
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace

pytestmark = pytest.mark.slow

BOT_TOKEN = "xoxb-health-bot"
CODAT_KEY = "health-codat-key"


@pytest.fixture
def codat() -> Iterator[ServedApp]:
    served = serve_in_thread(create_app(api_key=CODAT_KEY))
    yield served
    served.stop()


def run(tmp_path: Path, port: int, **env: str) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLACK_", "CODAT_", "BILLBOT_")) and k != "DATABASE_URL"}
    clean.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "health-secret",
                  "CODAT_API_KEY": CODAT_KEY, "DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}",
                  **env})
    log = (tmp_path / f"run-{port}.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "billbot.cli", "run", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=tmp_path, env=clean,
                            stdout=subprocess.DEVNULL, stderr=log, text=True)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


async def until(check: Callable[[], Awaitable[bool]], *, within: float = 40.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if await check():
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.2)


def test_refused_credentials_stop_billbot_naming_each(tmp_path: Path, codat: ServedApp) -> None:
    workspace = SlackWorkspace(bot_tokens={"xoxb-the-real-one"})
    slack = serve_slack_standin(workspace)
    try:
        process = run(tmp_path, free_port(), SLACK_API_URL=workspace.api_url,
                      CODAT_BASE_URL=codat.base_url, CODAT_API_KEY="not-the-key")
        process.wait(timeout=60)
    finally:
        slack.stop()
    err = (tmp_path.glob("run-*.log").__next__()).read_text()
    assert process.returncode == 3, err
    assert "SLACK_BOT_TOKEN: Slack refused the token (invalid_auth)" in err
    assert "CODAT_API_KEY: Codat refused CODAT_API_KEY (HTTP 401)" in err
    assert "Traceback" not in err and "not-the-key" not in err


async def test_unreachable_slack_leaves_billbot_running_and_not_ready_until_it_answers(
        tmp_path: Path, codat: ServedApp) -> None:
    slack_port = free_port()
    port = free_port()
    process = run(tmp_path, port, SLACK_API_URL=f"http://127.0.0.1:{slack_port}/api/",
                  CODAT_BASE_URL=codat.base_url)
    url = f"http://127.0.0.1:{port}"
    slack: ServedApp | None = None
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            async def alive() -> bool:
                assert process.poll() is None, "billbot exited"
                return (await http.get(url + "/healthz")).status_code == 200
            await until(alive)
            ready = await http.get(url + "/readyz")
            assert ready.status_code == 503
            assert set(ready.json()["not_ready"]) == {"slack"}
            assert "unreachable" in ready.json()["not_ready"]["slack"]

            # Unsigned: Slack's ssl_check is answered 200 as Bolt does; anything else is 401.
            form = {"content-type": "application/x-www-form-urlencoded"}
            check = await http.post(url + "/slack/events", headers=form,
                                    content=b"ssl_check=1&token=anything")
            assert check.status_code == 200 and check.content == b""
            command = await http.post(url + "/slack/events", headers=form,
                                      content=b"command=%2Fbills&text=help&user_id=U1")
            assert command.status_code == 401
            forged = await http.post(url + "/slack/events", headers=form,
                                     content=b"ssl_check=1&command=%2Fbills&text=digest")
            assert forged.status_code == 200 and forged.content == b""

            workspace = SlackWorkspace(bot_tokens=[BOT_TOKEN])
            slack = serve_slack_standin(workspace, port=slack_port)

            async def ready_now() -> bool:
                return (await http.get(url + "/readyz")).status_code == 200
            await until(ready_now)
            assert (await http.get(url + "/readyz")).json() == {"ok": True, "not_ready": {}}
            calls = [c.method for c in workspace.calls() if c.method == "auth.test"]
            assert calls  # the probe asked Slack, and cached its answer between polls
            for _ in range(10):
                await http.get(url + "/readyz")
            assert len([c for c in workspace.calls() if c.method == "auth.test"]) <= len(calls) + 1
    finally:
        stop(process)
        if slack is not None:
            slack.stop()


class _Handler:
    """Stands in for slack_bolt's AsyncSocketModeHandler: records whether it was connected."""

    def __init__(self) -> None:
        self.connects = 0

    async def connect_async(self) -> None:
        self.connects += 1


async def test_socket_mode_stops_on_a_refused_app_token_and_waits_on_an_unreachable_slack(
        caplog: pytest.LogCaptureFixture) -> None:
    from billbot.config import Settings
    from billbot.server import _connect_socket_mode

    workspace = SlackWorkspace()
    slack = serve_slack_standin(workspace)  # it refuses every xapp- token: invalid_auth
    try:
        settings = Settings(_env_file=None, slack_app_token="xapp-refused",
                            slack_api_url=workspace.api_url)
        handler = _Handler()
        # Returns by itself (no retry every 10 s for ever), with billbot's own message.
        await asyncio.wait_for(_connect_socket_mode(handler, settings), 60)
        assert handler.connects == 0
        assert "SLACK_APP_TOKEN refused (Slack refused the token (invalid_auth))" in caplog.text
    finally:
        slack.stop()

    unreachable = Settings(_env_file=None, slack_app_token="xapp-x",
                           slack_api_url=f"http://127.0.0.1:{free_port()}/api/")
    handler = _Handler()
    trying = asyncio.create_task(_connect_socket_mode(handler, unreachable))
    await until(lambda: asyncio.sleep(0, "socket mode waiting for Slack" in caplog.text))
    assert not trying.done() and handler.connects == 0  # still trying, not given up
    trying.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trying
