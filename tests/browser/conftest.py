"""Browser tests: `billbot demo` started in this process on free ports, driven by Debian's
Chromium through Playwright, as a person would use it.

Without Chromium these tests skip locally (with the reason) and FAIL under CI=true, so a
CI machine that lost its browser cannot pass by skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from billbot.demo import Demo, start_demo
from tests.browser.chromium import chromium_path, launch_chromium


def _require_chromium() -> str:
    path = chromium_path()
    if path is not None:
        return path
    message = ("Chromium is not installed (/usr/bin/chromium or BILLBOT_CHROMIUM); "
               "install it with: apt-get install -y chromium")
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with pytest.MonkeyPatch.context() as env:
        # The demo's own settings only: no developer tokens or policy tweaks leak in.
        for name in list(os.environ):
            if name.startswith(("SLACK_", "CODAT_", "BILLBOT_")):
                env.delenv(name)
        env.delenv("DATABASE_URL", raising=False)
        running = start_demo(port=0, data_dir=Path(tmp_path_factory.mktemp("demo")))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = _require_chromium()
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright, path)
        yield launched
        launched.close()
