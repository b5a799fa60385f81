"""Block Kit for Undo payment and Delete bill (async API): the row's buttons and line, and
the modal that asks the admin's reason. Render only; `services/undo.py` decides."""

from __future__ import annotations

from typing import Any

from billbot.domain.bill_handles import carried
from billbot.slackapp.mrkdwn import clip, clip_mrkdwn, user_text
from billbot.slackapp.row_model import RowState

Block = dict[str, Any]

ACTION_UNDO_PAYMENT = "bill_undo_payment"
ACTION_DELETE_BILL = "bill_delete"
CALLBACK_UNDO_PAYMENT = "undo_payment"
CALLBACK_DELETE_BILL = "delete_bill"
_OPEN = ("claimed", "sent", "unknown")
REASON_MAX_CHARS = 500  # interactions.REASON_MAX_CHARS (blocks must not import the flows)


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def _button(action: str, label: str, bill_id: str) -> Block:
    return {"type": "button", "action_id": action, "text": _plain(label, 75), "style": "danger",
            "value": carried(bill_id)}


def with_undo_buttons(buttons: list[Block], bill_id: str, state: RowState, *,
                      max_buttons: int) -> list[Block]:
    """`Undo payment` / `Delete bill` before the last button (Details). Undo payment always
    shows while it may be used (a sixth button on a full row, for the undo window only);
    Delete bill only where the row has room, as Edit."""
    out = list(buttons)
    at = max(len(out) - 1, 0)
    if state.can_undo:
        out.insert(at, _button(ACTION_UNDO_PAYMENT, "Undo payment", bill_id))
    elif state.can_delete and len(out) < max_buttons:
        out.insert(at, _button(ACTION_DELETE_BILL, "Delete bill", bill_id))
    return out


def undo_line(state: RowState) -> str | None:
    """The last request's line: done, in progress, or failed (with Codat's reason)."""
    undo = state.undo
    if undo is None:
        return None
    who, reason = f"<@{undo.by}>", user_text(undo.reason, 300)
    if undo.kind == "payment":
        if undo.state == "succeeded":
            return f":leftwards_arrow_with_hook: Payment undone by {who}: “{reason}”"
        if undo.state in _OPEN:
            return f":hourglass_flowing_sand: Undoing the payment ({who}), waiting for the books"
        return (f":warning: Undo payment by {who} failed: "
                f"{user_text(undo.error or 'no reason given', 300)}; nothing changed")
    if undo.state == "succeeded":
        return f":no_entry: Deleted by {who}: “{reason}”"
    if undo.state in _OPEN:
        return f":hourglass_flowing_sand: Deleting the bill ({who}), waiting for the books"
    return (f":warning: Delete bill by {who} failed: "
            f"{user_text(undo.error or 'no reason given', 300)}; nothing changed")


def reason_modal(kind: str, label: str, *, metadata: str, window: str) -> Block:
    """The admin says why; the reason goes into the audit log and onto the row."""
    if kind == "payment":
        callback, title, submit = CALLBACK_UNDO_PAYMENT, "Undo payment", "Undo payment"
        text = (f"Delete billbot's last payment of {clip_mrkdwn(label, 500)} in the books? The "
                "bill is owed again and its approvals stand. Possible within "
                f"{window} of the payment.")
    else:
        callback, title, submit = CALLBACK_DELETE_BILL, "Delete bill", "Delete bill"
        text = (f"Delete {clip_mrkdwn(label, 500)} from the books? This cannot be undone "
                "here; a bill with payments is refused.")
    return {"type": "modal", "callback_id": callback, "private_metadata": metadata,
            "title": _plain(title, 24), "submit": _plain(submit, 24),
            "close": _plain("Cancel", 24), "blocks": [
                {"type": "section", "block_id": "undo-summary",
                 "text": {"type": "mrkdwn", "text": text}},
                {"type": "input", "block_id": "reason", "label": _plain("Reason", 2000),
                 "element": {"type": "plain_text_input", "action_id": "reason",
                             "multiline": True, "min_length": 1,
                             "max_length": REASON_MAX_CHARS}},
            ]}


__all__ = ["ACTION_DELETE_BILL", "ACTION_UNDO_PAYMENT", "CALLBACK_DELETE_BILL",
           "CALLBACK_UNDO_PAYMENT", "reason_modal", "undo_line", "with_undo_buttons"]
