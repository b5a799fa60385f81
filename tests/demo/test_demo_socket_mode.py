"""`billbot demo --socket-mode`: the page's clicks reach billbot over its Socket Mode
connection, not its request URL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from billbot.demo import Demo, start_demo
from billbot.slackapp.blocks import ACTION_APPROVE


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    running = start_demo(port=0, data_dir=tmp_path / "data", socket_mode=True)
    yield running
    running.stop()


def test_an_approval_clicked_on_the_page_travels_the_socket(demo: Demo) -> None:
    digest = demo.workspace.message(demo.channel_id, demo.digest_ts[0])
    assert digest is not None
    block = next(b for b in digest.blocks if b.get("type") == "actions"
                 and any(e.get("action_id") == ACTION_APPROVE for e in b["elements"]))
    answer = httpx.post(demo.url + "_ui/click", json={
        "user": "U0ANN", "channel": demo.channel_id, "ts": digest.ts,
        "action_id": ACTION_APPROVE, "block_id": block["block_id"]}, timeout=30)
    assert answer.status_code == 200, answer.text

    deadline = time.monotonic() + 15
    while "<@U0ANN>" not in str(demo.workspace.message(demo.channel_id, digest.ts)):
        assert time.monotonic() < deadline, "the approval never showed on the row"
        time.sleep(0.05)
    (delivery,) = demo.workspace.socket_mode.deliveries()
    assert delivery.envelope["type"] == "interactive" and delivery.acked
    assert demo.settings.slack_app_token is not None
