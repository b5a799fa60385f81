"""Block Kit for holds: the row's "On hold" line, its Hold / Release button, and the modal
that asks the question. Render only; `services/holds.py` decides."""

from __future__ import annotations

from typing import Any

from billbot.domain.bill_handles import carried
from billbot.slackapp.mrkdwn import clip, clip_mrkdwn, user_text
from billbot.slackapp.row_model import RowState

Block = dict[str, Any]

ACTION_HOLD = "bill_hold"
ACTION_RELEASE = "bill_release"
CALLBACK_HOLD = "hold_bill"
# Characters of the question shown on the row; the whole question goes into the thread.
QUESTION_ON_ROW = 300


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def hold_line(state: RowState) -> str | None:
    """"On hold: <question> — <@person>", or None when the bill is not held."""
    if not state.held_by:
        return None
    question = user_text(state.hold_question or "", QUESTION_ON_ROW)
    return f":raised_hand: *On hold:* “{question}” — <@{state.held_by}>"


def hold_button(bill_id: str, state: RowState) -> Block:
    """`Hold` on a row, or `Release` on a held one."""
    if state.held_by:
        return {"type": "button", "action_id": ACTION_RELEASE, "text": _plain("Release", 75),
                "value": carried(bill_id)}
    return {"type": "button", "action_id": ACTION_HOLD, "text": _plain("Hold", 75),
            "value": carried(bill_id)}


def hold_modal(label: str, *, metadata: str, min_chars: int, max_chars: int) -> Block:
    """The question asked when `Hold` is pressed; it is posted in the bill's thread."""
    return {"type": "modal", "callback_id": CALLBACK_HOLD, "private_metadata": metadata,
            "title": _plain("Put bill on hold", 24), "submit": _plain("Hold", 24),
            "close": _plain("Cancel", 24), "blocks": [
                {"type": "section", "block_id": "hold-summary", "text": {
                    "type": "mrkdwn", "text": clip_mrkdwn(
                        f"Hold {label}? Approve and Pay are refused until you or an admin "
                        "release it; the question is posted in the bill's thread for answers.",
                        3000)}},
                {"type": "input", "block_id": "question", "label": _plain("Question", 2000),
                 "element": {"type": "plain_text_input", "action_id": "question",
                             "multiline": True, "min_length": min_chars,
                             "max_length": max_chars}},
            ]}


__all__ = ["ACTION_HOLD", "ACTION_RELEASE", "CALLBACK_HOLD", "hold_button", "hold_line",
           "hold_modal"]
