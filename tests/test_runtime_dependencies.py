"""Every module billbot imports at run time comes from a package `pip install billbot` brings:
a declared dependency or one of theirs. A dev-only package imported by src/ works in the
test venv and breaks the image (PyYAML did, caught only by tests/image)."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "billbot"


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _installed_with_billbot() -> set[str]:
    """Distributions a plain install of billbot brings: its dependencies, and theirs."""
    seen: set[str] = set()
    todo = [_name(r) for r in metadata.requires("billbot") or [] if "extra ==" not in r]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return seen


def _imported_top_levels() -> dict[str, str]:
    """Top-level module imported -> a file importing it (billbot's own and stdlib left out)."""
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "billbot" and top not in sys.stdlib_module_names:
                    found.setdefault(top, str(path.relative_to(SRC)))
    return found


def test_every_third_party_import_is_installed_with_billbot() -> None:
    providers = metadata.packages_distributions()
    installed = _installed_with_billbot()
    missing = {}
    for module, where in _imported_top_levels().items():
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        if not dists & installed:
            missing[module] = (where, sorted(dists))
    assert not missing, f"imported by src/ but not a run-time dependency: {missing}"
