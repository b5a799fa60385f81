"""Forged buttons: a request can carry any action id, whatever the row showed (a stale copy
of a message, or a hand-made payload). The stand-in's driver clicks only buttons a message
has, so the test puts one into the stored message first."""

from __future__ import annotations

from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.slackapp.blocks import actions_block_id


def add_button(workspace: SlackWorkspace, channel: str, ts: str, bill_id: str, *,
               action_id: str, text: str) -> None:
    """Give the bill's row in message `ts` a button `action_id` (as a forged request would)."""
    with workspace.lock:
        stored = workspace._messages[channel][ts]
        block = next(b for b in stored.blocks
                     if str(b.get("block_id", "")).startswith(actions_block_id(bill_id)))
        block["elements"].append({"type": "button", "action_id": action_id, "value": bill_id,
                                  "text": {"type": "plain_text", "text": text}})
