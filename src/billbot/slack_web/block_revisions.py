"""Slack: "block_id should be unique for each message and each iteration of a message. If a
message is updated, use a new block_id." billbot names blocks by what they hold (`bill:<key>`)
and finds rows by that name, so each update adds a revision suffix (`bill:<key>~r1a2b3c`), and
lookups compare the name without it."""

from __future__ import annotations

import secrets
from typing import Any

SEPARATOR = "~"
_BLOCK_ID_MAX = 255


def base_block_id(block_id: Any) -> str | None:
    """The block's name without a revision suffix (None when there is no block_id)."""
    if not isinstance(block_id, str):
        return None
    return block_id.split(SEPARATOR, 1)[0]


def with_new_revision(blocks: list[Any]) -> list[Any]:
    """Copies of the blocks whose block_ids carry one fresh revision suffix for this update."""
    revision = f"{SEPARATOR}r{secrets.token_hex(4)}"
    out: list[Any] = []
    for block in blocks:
        name = base_block_id(block.get("block_id")) if isinstance(block, dict) else None
        if name is None:
            out.append(block)
            continue
        out.append({**block, "block_id": name[:_BLOCK_ID_MAX - len(revision)] + revision})
    return out
