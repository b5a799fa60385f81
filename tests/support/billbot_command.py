"""How tests start the `billbot` console script as a real process."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def billbot_command() -> list[str]:
    """The installed `billbot` script beside this interpreter, else on PATH, else the module."""
    script = Path(sys.executable).with_name("billbot")
    if script.exists():
        return [str(script)]
    found = shutil.which("billbot")
    return [found] if found else [sys.executable, "-m", "billbot.cli"]
