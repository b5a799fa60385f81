"""Approve all's ticks: which of the confirmation's bills the approver left ticked, and the
narrowed confirmation (new count and totals) shown when they unticked some, before anything
is recorded. Only bills the signed context lists can be picked: a forged value picks nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from billbot.slackapp.approve_all_blocks import (
    CALLBACK_APPROVE_ALL,
    NOTE,
    PICK_ACTION,
    PICK_PREFIX,
    TITLE,
    pick_blocks,
    totals_line,
)
from billbot.slackapp.payload import dig

Block = dict[str, Any]
NONE_TICKED = "Tick at least one bill, or press Cancel."


def ticked(view: Any, signed: Sequence[str]) -> list[Block] | None:
    """The ticked options whose token the signed context lists, in the listed order, as the
    view itself offered them (a state may carry only the values); None when the view has no
    checkboxes (every listed bill then counts as ticked)."""
    values = dig(view, "state", "values")
    if not isinstance(values, dict):
        return None
    groups = [v for k, v in values.items() if isinstance(k, str) and k.startswith(PICK_PREFIX)]
    if not groups:
        return None
    offered: dict[str, Block] = {}
    for block in dig(view, "blocks") or []:
        for option in dig(block, "element", "options") or []:
            if isinstance(option, dict) and isinstance(option.get("value"), str):
                offered[option["value"]] = option
    chosen: dict[str, Block] = {}
    for group in groups:
        options = dig(group, PICK_ACTION, "selected_options")
        for option in options if isinstance(options, list) else []:
            value = dig(option, "value")
            if isinstance(value, str) and value in offered:
                chosen[value.split(":", 1)[0]] = offered[value]
    return [chosen[token] for token in signed if token in chosen]


def narrowed_view(options: Sequence[Block], *, metadata: str, left_out: int) -> Block:
    """The confirmation again, with only the ticked bills, their count and totals."""
    sums: dict[str, Decimal] = {}
    unknown = 0
    for option in options:
        _, currency, amount = [*str(option.get("value", "")).split(":"), "", "", ""][:3]
        try:
            sums[currency] = sums.get(currency, Decimal(0)) + Decimal(amount)
        except InvalidOperation:
            unknown += 1
    plural = "s" if len(options) != 1 else ""
    head = {"type": "section", "text": {"type": "mrkdwn", "text": (
        f"Approve *{len(options)} bill{plural}*, each on its own as its Approve button would "
        f"({left_out} unticked left out).\n*Total due:* {totals_line(sums, unknown)}")}}
    return {"type": "modal", "callback_id": CALLBACK_APPROVE_ALL,
            "title": {"type": "plain_text", "text": TITLE}, "submit": {
                "type": "plain_text", "text": "Approve"},
            "close": {"type": "plain_text", "text": "Cancel"}, "private_metadata": metadata,
            "blocks": [head, *pick_blocks(list(options)), NOTE]}


__all__ = ["NONE_TICKED", "narrowed_view", "ticked"]
