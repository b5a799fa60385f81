"""`billbot demo` as a newcomer runs it: one process, one URL printed, Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from billbot.sandbox.serving import free_port


@pytest.mark.parametrize("flags", [[], ["--socket-mode"]], ids=["http", "socket_mode"])
def test_demo_prints_one_url_serves_the_page_and_stops_on_ctrl_c(tmp_path: Path,
                                                                  flags: list[str]) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "CODAT_", "BILLBOT_")) and k != "DATABASE_URL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "billbot.cli", "demo", "--port", str(port),
         "--data-dir", str(tmp_path / "data"), *flags],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        assert first.strip() == f"billbot demo is running. Open {url}"

        page = httpx.get(url)
        assert page.status_code == 200 and "local Slack" in page.text
        seen = httpx.get(f"{url}_ui/state", params={"user": "U0ANN"}).json()
        finance = next(c for c in seen["channels"] if c["name"] == "finance")
        assert [m["user"] for m in finance["messages"]] == [seen["bot_user_id"]]  # the digest
        assert (tmp_path / "data" / "billbot.db").exists()

        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out.rstrip().endswith("billbot demo stopped.")
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]  # nothing written outside the data dir
