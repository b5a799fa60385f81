"""The digest header's actions block (block_id `digest-actions`): buttons that act on many
bills at once: `Pay approved bills` opens a pay run, `Approve all` a bulk approval."""

from __future__ import annotations

from typing import Any

ACTION_PAYRUN_OPEN = "payrun_open"
ACTION_APPROVE_ALL = "digest_approve_all"
DIGEST_ACTIONS_BLOCK_ID = "digest-actions"


def pay_approved_bills_button() -> dict[str, Any]:
    return {"type": "button", "action_id": ACTION_PAYRUN_OPEN,
            "text": {"type": "plain_text", "text": "Pay approved bills", "emoji": True},
            "value": "payrun"}


def approve_all_button() -> dict[str, Any]:
    return {"type": "button", "action_id": ACTION_APPROVE_ALL, "value": "digest",
            "text": {"type": "plain_text", "text": "Approve all", "emoji": True}}


def digest_actions_block() -> dict[str, Any]:
    """The header's buttons; who may press them is checked on the click, not here."""
    return {"type": "actions", "block_id": DIGEST_ACTIONS_BLOCK_ID,
            "elements": [pay_approved_bills_button(), approve_all_button()]}


__all__ = ["ACTION_APPROVE_ALL", "ACTION_PAYRUN_OPEN", "DIGEST_ACTIONS_BLOCK_ID",
           "approve_all_button", "digest_actions_block", "pay_approved_bills_button"]
