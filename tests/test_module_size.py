"""Small modules with one job: no module of billbot (product or sandbox) grows past 400 lines."""

from __future__ import annotations

from pathlib import Path

import billbot

LIMIT = 400


def test_no_module_is_over_the_limit() -> None:
    root = Path(billbot.__file__).parent
    too_long = {str(path.relative_to(root)): n for path in sorted(root.rglob("*.py"))
                if (n := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT}
    assert too_long == {}, f"split these modules (over {LIMIT} lines): {too_long}"
