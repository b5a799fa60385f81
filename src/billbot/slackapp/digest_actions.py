"""The digest header's actions block (block_id `digest-actions`): the buttons that act on the
whole digest rather than on one bill's row."""

from __future__ import annotations

from typing import Any

DIGEST_ACTIONS_BLOCK_ID = "digest-actions"
ACTION_APPROVE_ALL = "digest_approve_all"


def approve_all_button() -> dict[str, Any]:
    return {"type": "button", "action_id": ACTION_APPROVE_ALL, "value": "digest",
            "text": {"type": "plain_text", "text": "Approve all", "emoji": True}}


def digest_actions_block() -> dict[str, Any]:
    return {"type": "actions", "block_id": DIGEST_ACTIONS_BLOCK_ID,
            "elements": [approve_all_button()]}


__all__ = ["ACTION_APPROVE_ALL", "DIGEST_ACTIONS_BLOCK_ID", "approve_all_button",
           "digest_actions_block"]
