"""The stand-in's page draws every emoji shortcode billbot writes, as Slack does: a shortcode
it did not know would show as ":house:" text in the demo and its screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import billbot

PACKAGE = Path(billbot.__file__).resolve().parent
SHORTCODE = re.compile(r":([a-z][a-z0-9_+\-]*):")


def _known_to_the_page() -> set[str]:
    script = (PACKAGE / "sandbox" / "slack" / "static" / "mrkdwn.js").read_text(encoding="utf-8")
    table = script[script.index("const EMOJI = {"):]
    table = table[: table.index("};")]
    return set(re.findall(r"\b([a-z][a-z0-9_]*):\s*\"", table))


def _written_by_billbot() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in ("slackapp", "domain", "services"):
        for path in (PACKAGE / folder).rglob("*.py"):
            for literal in re.findall(r"\"[^\"\n]*\"|'[^'\n]*'", path.read_text(encoding="utf-8")):
                for name in SHORTCODE.findall(literal):
                    found.setdefault(name, path.name)
    return found


def test_every_shortcode_billbot_writes_is_drawn_by_the_page() -> None:
    written = _written_by_billbot()
    assert {"warning", "house", "new"} <= set(written)
    missing = {n: where for n, where in written.items() if n not in _known_to_the_page()}
    assert not missing, f"shortcodes the stand-in's page would show as text: {missing}"
