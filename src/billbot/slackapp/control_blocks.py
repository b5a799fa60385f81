"""The controls in Block Kit: warning lines on the pay form, the review and the row, the
review's "checked, not a duplicate" checkbox, and the controls carried in a signed context."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from billbot.domain.bill_controls import Control, ControlKind
from billbot.slackapp.blocks import Block, _mrkdwn, _plain
from billbot.slackapp.mrkdwn import user_text
from billbot.slackapp.payload import view_value

BLOCK_NOT_DUPLICATE = "not_duplicate"
ACTION_NOT_DUPLICATE = "not_duplicate"
_CHECKED = "checked"
TICK_FIRST = ("This bill may be a duplicate: tick \"Checked, not a duplicate\" to pay it, or "
              "Cancel. Nothing was recorded.")
_SHORT, _DETAIL = 80, 300  # a signed context is private_metadata: 3,000 characters in all
_ICON = {ControlKind.DUPLICATE: ":warning:", ControlKind.FIRST_PAYMENT: ":new:",
         ControlKind.UNUSUAL_AMOUNT: ":chart_with_upwards_trend:"}


def carry(controls: Sequence[Control]) -> str | None:
    """The controls as the signed context carries them from the form to the confirmation."""
    if not controls:
        return None
    return json.dumps([[c.kind.value, c.short[:_SHORT], c.detail[:_DETAIL]] for c in controls],
                      separators=(",", ":"))


def carried(text: str | None) -> list[Control]:
    if not text:
        return []
    found: list[Control] = []
    for kind, short, detail in json.loads(text):
        found.append(Control(ControlKind(kind), short, detail))
    return found


def warning_lines(controls: Sequence[Control], *, short: bool) -> list[str]:
    return [f"{_ICON[c.kind]} {user_text(c.short if short else c.detail, 400)}"
            for c in controls]


def form_notice(controls: Sequence[Control], *, lead: str | None = None) -> list[Block]:
    """The pay form's reminder that the review will show warnings; `lead` says when they
    apply (a credit applied alone moves no money, so they only concern a cash part)."""
    if not controls:
        return []
    lines = ([lead] if lead else []) + warning_lines(controls, short=True)
    return [{"type": "context", "block_id": "controls", "elements": [_mrkdwn("\n".join(lines))]}]


def review_blocks(controls: Sequence[Control]) -> list[Block]:
    """The review's warnings and, for a possible duplicate, the checkbox it needs."""
    if not controls:
        return []
    blocks: list[Block] = [{"type": "section", "block_id": "controls", "text": _mrkdwn(
        "*Before you confirm*\n" + "\n".join(warning_lines(controls, short=False)))}]
    if any(c.needs_confirmation for c in controls):
        option = {"text": _mrkdwn("*Checked, not a duplicate*"), "value": _CHECKED,
                  "description": _mrkdwn("I compared it with the bills above; it is a "
                                         "different bill.")}
        blocks.append({"type": "input", "block_id": BLOCK_NOT_DUPLICATE, "optional": True,
                       "label": _plain("Duplicate check", 2000),
                       "element": {"type": "checkboxes", "action_id": ACTION_NOT_DUPLICATE,
                                   "options": [option]}})
    return blocks


def ticked_not_duplicate(view: Any) -> bool:
    state = view_value(view, BLOCK_NOT_DUPLICATE, ACTION_NOT_DUPLICATE) or {}
    chosen = state.get("selected_options")
    return isinstance(chosen, list) and any(
        isinstance(o, dict) and o.get("value") == _CHECKED for o in chosen)


__all__ = ["BLOCK_NOT_DUPLICATE", "TICK_FIRST", "carried", "carry", "form_notice",
           "review_blocks", "ticked_not_duplicate", "warning_lines"]
