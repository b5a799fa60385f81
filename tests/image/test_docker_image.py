"""The Dockerfile builds, and its image serves: `billbot run` as the non-root user, SQLite in
the data volume, `/healthz` 200, ready against Slack and Codat, Docker's HEALTHCHECK healthy,
and a clean stop on SIGTERM.

The container shares the host's network (`--network host`, nothing leaves loopback), so it
reaches the Slack stand-in and the Codat sandbox this test serves on 127.0.0.1. Outside CI the
test is skipped, saying why, when no Docker daemon is there; in CI (CI=true) that fails.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from billbot.sandbox.codat.app import create_app
from billbot.sandbox.serving import ServedApp, free_port, serve_in_thread
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace
from tests.support.docker_image import (
    build_image,
    docker,
    docker_unavailable,
    ensure_wheelhouse,
    finish_base_image,
    start_base_image,
)

pytestmark = [pytest.mark.image, pytest.mark.slow]

BOT_TOKEN = "xoxb-image-test"
CODAT_KEY = "image-test-codat-key"
WITHIN = 120.0  # seconds: start-up of a fresh container on a busy 2-core machine


@pytest.fixture(scope="module")
def image() -> str:
    reason = docker_unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must build the image, but: {reason}")
        pytest.skip(f"Docker image not built: {reason}")
    debootstrap = start_base_image()
    ensure_wheelhouse()
    finish_base_image(debootstrap)
    return build_image()


@pytest.fixture
def services() -> Iterator[tuple[str, str]]:
    """The Slack Web API and Codat base URLs the container is given."""
    codat: ServedApp = serve_in_thread(create_app(api_key=CODAT_KEY))
    workspace = SlackWorkspace(bot_tokens=[BOT_TOKEN])
    slack = serve_slack_standin(workspace)
    try:
        yield workspace.api_url, codat.base_url
    finally:
        slack.stop()
        codat.stop()


def _inspect(name: str) -> dict[str, Any]:
    state = json.loads(docker("inspect", "--format", "{{json .State}}", name).stdout)
    assert isinstance(state, dict)
    return state


def _until(what: str, check: Callable[[], bool], name: str) -> None:
    """Poll `check` (bounded); fail with the container's log if it never holds."""
    deadline = time.monotonic() + WITHIN
    while True:
        if check():
            return
        state = _inspect(name)
        if not state.get("Running") or time.monotonic() > deadline:
            logs = docker("logs", "--tail", "60", name, check=False)
            pytest.fail(f"{what}: not within {WITHIN:.0f} s (state {state.get('Status')}, "
                        f"health {state.get('Health')}):\n{logs.stdout}{logs.stderr}")
        time.sleep(0.5)


def _answers(url: str, status: int) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == status
    except httpx.TransportError:
        return False


def test_image_builds_and_serves(image: str, services: tuple[str, str], tmp_path: Path) -> None:
    slack_url, codat_url = services
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)  # the container's user (uid 10001) writes the SQLite file here
    port = free_port()
    name = f"billbot-image-test-{uuid.uuid4().hex[:8]}"
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "image-test-secret",
           "CODAT_API_KEY": CODAT_KEY, "SLACK_API_URL": slack_url, "CODAT_BASE_URL": codat_url}
    env_args = [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
    # The image's own HEALTHCHECK, polled every second here instead of every 30 s.
    docker("run", "--detach", "--name", name, "--network", "host", "--health-interval", "1s",
           "--volume", f"{data}:/home/billbot/data", *env_args,
           image, "run", "--host", "127.0.0.1", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        _until("/healthz answers 200", lambda: _answers(base + "/healthz", 200), name)
        _until("/readyz answers 200", lambda: _answers(base + "/readyz", 200), name)
        assert httpx.get(base + "/readyz", timeout=5).json() == {"ok": True, "not_ready": {}}
        # Unsigned requests are refused inside the image as everywhere.
        refused = httpx.post(base + "/slack/events", content=b"command=%2Fbills&text=help",
                             headers={"content-type": "application/x-www-form-urlencoded"})
        assert refused.status_code == 401
        _until("HEALTHCHECK says healthy",
               lambda: (_inspect(name).get("Health") or {}).get("Status") == "healthy", name)

        user = docker("exec", name, "id", "-u").stdout.strip()
        assert user == "10001", "billbot runs as its own user, not root"
        assert (data / "billbot.db").is_file(), "migrated into the volume on start"

        docker("stop", "--time", "30", name, timeout=60)
        stopped = _inspect(name)
        assert stopped["ExitCode"] == 0, "SIGTERM stops billbot cleanly"
    finally:
        docker("rm", "--force", name, check=False, timeout=60)
