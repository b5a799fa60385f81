"""The digest header's actions block (block_id `digest-actions`): buttons that act on many
bills at once. `Pay approved bills` opens a pay run; `Approve all` joins it here."""

from __future__ import annotations

from typing import Any

ACTION_PAYRUN_OPEN = "payrun_open"
DIGEST_ACTIONS_BLOCK_ID = "digest-actions"


def pay_approved_bills_button() -> dict[str, Any]:
    return {"type": "button", "action_id": ACTION_PAYRUN_OPEN,
            "text": {"type": "plain_text", "text": "Pay approved bills", "emoji": True},
            "value": "payrun"}


def digest_actions_block() -> dict[str, Any]:
    """The header's buttons; who may press them is checked on the click, not here."""
    return {"type": "actions", "block_id": DIGEST_ACTIONS_BLOCK_ID,
            "elements": [pay_approved_bills_button()]}


__all__ = ["ACTION_PAYRUN_OPEN", "DIGEST_ACTIONS_BLOCK_ID", "digest_actions_block",
           "pay_approved_bills_button"]
