"""The bot scopes the stand-in grants: exactly those the project's `manifest.yml` asks for, so
a feature that needs a new scope fails its tests until the manifest asks for it too."""

from __future__ import annotations

from pathlib import Path

import yaml

import billbot

MANIFEST_NAME = "manifest.yml"


def find_manifest() -> Path:
    """The manifest beside the source tree: the repository root of an editable install (or a
    checkout on PYTHONPATH), found by walking up from the package."""
    start = Path(billbot.__file__).resolve().parent
    for folder in (start, *start.parents):
        candidate = folder / MANIFEST_NAME
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no {MANIFEST_NAME} above {start}; pass the bot scopes to SlackWorkspace(scopes=...)")


def manifest_bot_scopes(path: Path | None = None) -> tuple[str, ...]:
    """`oauth_config.scopes.bot` of the manifest, in its order."""
    data = yaml.safe_load((path or find_manifest()).read_text(encoding="utf-8"))
    scopes = (((data or {}).get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValueError(f"{path or MANIFEST_NAME}: oauth_config.scopes.bot must list strings")
    return tuple(scopes)
