"""Block and element ids: walking a block's elements, generating the ids Slack fills in, and
the rules Slack states about ids across a message's life and a view's size."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from typing import Any

# "The view payload must be less than 250 kB" (views.open/push/update/publish: view_too_large).
VIEW_MAX_BYTES = 250_000


def input_block_ids(view: Any) -> set[str]:
    """block_ids of the input blocks of a view: the only keys `response_action: errors` may use."""
    blocks = view.get("blocks") if isinstance(view, dict) else None
    if not isinstance(blocks, list):
        return set()
    return {str(b["block_id"]) for b in blocks
            if isinstance(b, dict) and b.get("type") == "input" and "block_id" in b}


def iter_elements(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The interactive elements of a block: accessory, actions elements, or input element."""
    kind = block.get("type")
    candidates: list[Any] = []
    if kind == "section":
        candidates = [block.get("accessory")]
    elif kind == "actions":
        elements = block.get("elements")
        candidates = elements if isinstance(elements, list) else []
    elif kind == "input":
        candidates = [block.get("element")]
    for element in candidates:
        if isinstance(element, dict):
            yield element


def with_generated_ids(blocks: list[Any], make_id: Any) -> list[dict[str, Any]]:
    """A deep copy of valid blocks where, as Slack does, missing block_ids and the action_ids
    of interactive elements are generated (`make_id()` returns a fresh short string)."""
    out: list[dict[str, Any]] = copy.deepcopy(blocks)
    for block in out:
        block.setdefault("block_id", make_id())
        for element in iter_elements(block):
            if element.get("type") != "image":
                element.setdefault("action_id", make_id())
    return out


def block_ids(blocks: Any) -> set[str]:
    if not isinstance(blocks, list):
        return set()
    return {str(b["block_id"]) for b in blocks if isinstance(b, dict) and "block_id" in b}


def reused_block_ids(new_blocks: Any, earlier: Iterable[str]) -> list[str]:
    """block_ids of an update that an earlier iteration of the message already used. Slack:
    "block_id should be unique for each message and each iteration of a message. If a message
    is updated, use a new block_id." Slack does not refuse it, so this is a violation only."""
    seen = set(earlier)
    return sorted(i for i in block_ids(new_blocks) if i in seen)


def view_too_large(view: Any) -> bool:
    """Whether a view's JSON is over Slack's 250 kB limit (compact UTF-8, as slack_sdk sends)."""
    size = len(json.dumps(view, separators=(",", ":"), ensure_ascii=False).encode())
    return size >= VIEW_MAX_BYTES
