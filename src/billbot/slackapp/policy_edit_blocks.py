"""Block Kit of `/bills policy edit`: the form holding the running policy as policy-file YAML,
and an optional note. Render only."""

from __future__ import annotations

from typing import Any

from billbot.slackapp.mrkdwn import clip

Block = dict[str, Any]

CALLBACK_POLICY_EDIT = "policy_edit"
ACTION_POLICY_EDIT = "policy_edit_open"  # the button under `/bills policy` for admins
# block id = action id, so inline errors name the block.
FIELD_POLICY = "policy"
FIELD_NOTE = "note"
# A section's text holds 3000 characters; a message 50 blocks.
_SECTION_CHARS = 3000
_MAX_SECTIONS = 45
# Slack's most for a plain_text_input (its value and its initial_value).
MAX_POLICY_CHARS = 3000
MAX_NOTE_CHARS = 200


def _plain(text: str, limit: int) -> Block:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def too_long(chars: int) -> str:
    return (f"The approval policy is {chars} characters as YAML, more than the "
            f"{MAX_POLICY_CHARS} a Slack form can hold, so it cannot be edited here. Keep it in "
            "a file instead: set BILLBOT_POLICY_FILE to a YAML file holding it (the same "
            "format) and restart billbot; `/bills policy reload` then applies its changes.")


def answer_blocks(text: str) -> list[Block]:
    """`/bills policy`'s answer (mrkdwn), cut into sections at line ends, and the button."""
    chunks: list[str] = []
    for line in text.split("\n"):
        line = clip(line, _SECTION_CHARS)
        if chunks and len(chunks[-1]) + 1 + len(line) <= _SECTION_CHARS:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
                           for chunk in chunks[:_MAX_SECTIONS]]
    blocks.append({"type": "actions", "block_id": "policy-actions", "elements": [
        {"type": "button", "action_id": ACTION_POLICY_EDIT, "text": _plain("Edit policy", 75),
         "value": "edit"}]})
    return blocks


def edit_view(*, metadata: str, text: str, version: int, role_rule: bool) -> Block:
    intro = (f"Version {version} in force, in the policy-file format (rules in order, the first "
             "match decides; `payers:` sets payer limits). Saving makes a new version that "
             "applies to every unpaid bill at once; approvals already recorded count.")
    if role_rule:
        intro += (" The rule below names today's approvers: once saved, the rule asks "
                  "exactly these people.")
    return {
        "type": "modal", "callback_id": CALLBACK_POLICY_EDIT, "private_metadata": metadata,
        "title": _plain("Edit approval policy", 24), "submit": _plain("Save", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            {"type": "section", "block_id": "policy-intro",
             "text": {"type": "mrkdwn", "text": clip(intro, 3000)}},
            {"type": "input", "block_id": FIELD_POLICY, "label": _plain("Policy (YAML)", 2000),
             "hint": _plain("Slack user ids (U…) or user group ids (S…); `need: all` or a "
                            "number.", 2000),
             "element": {"type": "plain_text_input", "action_id": FIELD_POLICY,
                         "multiline": True, "max_length": MAX_POLICY_CHARS,
                         "initial_value": text}},
            {"type": "input", "block_id": FIELD_NOTE, "optional": True,
             "label": _plain("Note", 2000),
             "hint": _plain("Why it changes; kept with the version and in the audit.", 2000),
             "element": {"type": "plain_text_input", "action_id": FIELD_NOTE,
                         "max_length": MAX_NOTE_CHARS}},
        ],
    }


__all__ = ["ACTION_POLICY_EDIT", "CALLBACK_POLICY_EDIT", "FIELD_NOTE", "FIELD_POLICY", "MAX_NOTE_CHARS",
           "MAX_POLICY_CHARS", "answer_blocks", "edit_view", "too_long"]
