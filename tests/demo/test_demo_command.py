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


def _demo(tmp_path: Path, port: int, data_dir: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "CODAT_", "BILLBOT_")) and k != "DATABASE_URL"}
    return subprocess.Popen(
        [sys.executable, "-m", "billbot.cli", "demo", "--port", str(port),
         "--data-dir", str(data_dir)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _snapshot(data_dir: Path) -> dict[str, int]:
    """Each file and its inode: a file deleted and made again shows up as a new one."""
    return {p.name: p.stat().st_ino for p in data_dir.iterdir()}


def test_a_second_demo_never_touches_the_running_demos_files(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    first = _demo(tmp_path, port, data)
    try:
        assert first.stdout is not None
        assert first.stdout.readline().startswith("billbot demo is running.")
        before = _snapshot(data)
        # WAL mode: the main file changes only at a checkpoint, which an idle demo does not do.
        db_before = (data / "billbot.db").read_bytes()

        # Same folder, another port: refused on the data directory's lock.
        same_dir = _demo(tmp_path, free_port(), data)
        out, err = same_dir.communicate(timeout=60)
        assert same_dir.returncode != 0 and out == ""
        assert "another billbot demo is running" in err and "Traceback" not in err
        # Another folder, the same port: refused before its own folder is set up.
        other = tmp_path / "other"
        same_port = _demo(tmp_path, port, other)
        out, err = same_port.communicate(timeout=60)
        assert same_port.returncode != 0 and f"port {port}" in err and "Traceback" not in err
        assert not (other / "billbot.db").exists()

        assert _snapshot(data) == before
        assert (data / "billbot.db").read_bytes() == db_before
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200  # still serving
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=20)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0
