"""Create bill's lines: line 1's inputs keep their historical block ids (`description`,
`amount`, `account`, `tax_rate`); line n > 1 suffixes them (`amount_2`). "Add line" re-renders
the modal with one more group cloned from line 1, leaving every existing block_id/action_id
unchanged so Slack keeps what was typed in them. Render and read only."""

from __future__ import annotations

import copy
from typing import Any

Block = dict[str, Any]

LINE_FIELDS = ("description", "amount", "account", "tax_rate")
MAX_LINES = 10
ACTION_ADD_LINE = "bill_new_add_line"
ADD_LINE_BLOCK = "new-bill-add-line"
# What views.update takes of a view (the payload's view also carries id, hash, state...).
_VIEW_KEYS = ("type", "callback_id", "private_metadata", "title", "submit", "close", "blocks",
              "external_id", "clear_on_close", "notify_on_close")


def field_id(field: str, line: int) -> str:
    return field if line == 1 else f"{field}_{line}"


def add_line_block() -> Block:
    return {"type": "actions", "block_id": ADD_LINE_BLOCK, "elements": [
        {"type": "button", "action_id": ACTION_ADD_LINE,
         "text": {"type": "plain_text", "text": "Add line", "emoji": True}}]}


def line_count(blocks: list[Block]) -> int:
    ids = {b.get("block_id") for b in blocks if isinstance(b, dict)}
    return max((n for n in range(1, MAX_LINES + 1) if field_id("description", n) in ids),
               default=1)


def _cloned(block: Block, field: str, line: int) -> Block:
    new = copy.deepcopy(block)
    new["block_id"] = field_id(field, line)
    element = new.get("element") or {}
    element["action_id"] = field_id(field, line)
    for key in ("initial_value", "initial_option"):
        element.pop(key, None)
    label = new.get("label") or {}
    label["text"] = str(label.get("text", "")).replace("Line:", f"Line {line}:", 1)
    if field == "amount":
        new["hint"] = {"type": "plain_text", "text": "Net of tax, in the bill's currency.",
                       "emoji": True}
    return new


def with_line_added(view: Block) -> Block | None:
    """The modal to update `view` to, with one more line; None at MAX_LINES."""
    blocks = [b for b in view.get("blocks") or [] if isinstance(b, dict)]
    lines = line_count(blocks)
    if lines >= MAX_LINES:
        return None
    first = {b.get("block_id"): b for b in blocks if b.get("block_id") in LINE_FIELDS}
    group = [_cloned(first[f], f, lines + 1) for f in LINE_FIELDS if f in first]
    at = next((i for i, b in enumerate(blocks) if b.get("block_id") == ADD_LINE_BLOCK),
              len(blocks))
    new_blocks = blocks[:at] + group + blocks[at:]
    if lines + 1 >= MAX_LINES:
        new_blocks = [b for b in new_blocks if b.get("block_id") != ADD_LINE_BLOCK]
    updated = {k: copy.deepcopy(view[k]) for k in _VIEW_KEYS if k in view}
    updated["blocks"] = new_blocks
    return updated


__all__ = ["ACTION_ADD_LINE", "LINE_FIELDS", "MAX_LINES", "add_line_block", "field_id",
           "line_count", "with_line_added"]
