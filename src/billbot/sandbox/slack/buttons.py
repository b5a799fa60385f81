"""Finding the button a user would click in a message's blocks: by action_id, by its visible
text, within a block_id, or in a row (a section whose text contains some string, with its
accessory and the actions block right after it)."""

from __future__ import annotations

from dataclasses import dataclass

from billbot.sandbox.slack.block_ids import iter_elements
from billbot.sandbox.slack.model import JsonDict


@dataclass(frozen=True)
class Button:
    block_id: str
    action_id: str
    text: str
    value: str | None
    element: JsonDict


def buttons(blocks: list[JsonDict]) -> list[Button]:
    """Every button in the blocks, in reading order."""
    return [b for _, b in _buttons_by_block(blocks)]


def find_button(blocks: list[JsonDict], *, action_id: str | None = None,
                text: str | None = None, block_id: str | None = None,
                row: str | None = None) -> Button:
    """The one button matching every criterion given; LookupError when none or several do."""
    if action_id is None and text is None:
        raise ValueError("give action_id or text to say which button to click")
    candidates = _buttons_by_block(blocks)
    if row is not None:
        row_blocks = _row_block_ids(blocks, row)
        candidates = [(i, b) for i, b in candidates if i in row_blocks]
    matches = [b for _, b in candidates
               if (action_id is None or b.action_id == action_id)
               and (text is None or b.text == text)
               and (block_id is None or _same_block(b.block_id, block_id))]
    if len(matches) == 1:
        return matches[0]
    wanted = ", ".join(f"{k}={v!r}" for k, v in
                       (("action_id", action_id), ("text", text), ("block_id", block_id),
                        ("row", row)) if v is not None)
    found = "; ".join(f"{b.block_id}/{b.action_id} {b.text!r}" for b in buttons(blocks))
    if not matches:
        raise LookupError(f"no button with {wanted}; the message has: {found or 'no buttons'}")
    raise LookupError(f"{len(matches)} buttons match {wanted}; narrow it with block_id or row")


def _buttons_by_block(blocks: list[JsonDict]) -> list[tuple[int, Button]]:
    out = []
    for index, block in enumerate(blocks):
        for element in iter_elements(block):
            if element.get("type") != "button":
                continue
            text = element.get("text") or {}
            value = element.get("value")
            out.append((index, Button(str(block.get("block_id")), str(element.get("action_id")),
                                      str(text.get("text", "")),
                                      value if isinstance(value, str) else None, element)))
    return out


def _row_block_ids(blocks: list[JsonDict], row: str) -> set[int]:
    """Indexes of the blocks holding the buttons of each section that mentions `row`."""
    indexes: set[int] = set()
    for index, block in enumerate(blocks):
        if block.get("type") == "section" and row in _section_text(block):
            indexes.add(index)
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if following is not None and following.get("type") == "actions":
                indexes.add(index + 1)
    return indexes


def _section_text(block: JsonDict) -> str:
    parts = [block.get("text"), *(block.get("fields") or [])]
    return "\n".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def _same_block(actual: str, wanted: str) -> bool:
    """The block itself, or a later iteration of it: apps must give every update new block_ids
    (Slack's rule), which billbot does by adding a `~revision` suffix to the block's name."""
    return actual == wanted or actual.startswith(wanted + "~")
