"""The modals that ask for a reason: rejecting a bill, and an admin overriding a rejection.

Both are opened straight from the click (trigger ids live 3 s), so they name the bill by the
row's own first line rather than waiting on Codat. The reason's length is checked by the
server (`domain.policy.reason_problem`), which answers inline.
"""

from __future__ import annotations

from billbot.slackapp.blocks import (
    CALLBACK_OVERRIDE_REJECTION,
    CALLBACK_REJECT,
    Block,
    _mrkdwn,
    _plain,
    mention,
)
from billbot.slackapp.interactions import REASON_MAX_CHARS
from billbot.slackapp.mrkdwn import clip_mrkdwn, user_text


def _reason_input(label: str) -> Block:
    return {"type": "input", "block_id": "reason", "label": _plain(label, 2000),
            "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True,
                        "min_length": 1, "max_length": REASON_MAX_CHARS}}


def reject_modal(label: str, *, metadata: str) -> Block:
    """The reason modal of `Reject`."""
    return {"type": "modal", "callback_id": CALLBACK_REJECT, "private_metadata": metadata,
            "title": _plain("Reject bill", 24), "submit": _plain("Reject", 24),
            "close": _plain("Cancel", 24), "blocks": [
                {"type": "section", "block_id": "reject-summary",
                 "text": _mrkdwn(f"Reject {clip_mrkdwn(label, 500)}?")},
                _reason_input("Reason"),
            ]}


def override_modal(label: str, rejected_by: str, rejected_because: str, *,
                   metadata: str) -> Block:
    """An admin lifting someone else's rejection says why."""
    because = user_text(rejected_because, 500)
    return {"type": "modal", "callback_id": CALLBACK_OVERRIDE_REJECTION,
            "private_metadata": metadata,
            "title": _plain("Override rejection", 24), "submit": _plain("Override", 24),
            "close": _plain("Cancel", 24), "blocks": [
                {"type": "section", "block_id": "override-summary",
                 "text": _mrkdwn(f"{clip_mrkdwn(label, 500)} was rejected by {mention(rejected_by)}: "
                                 f"“{because}”. Overriding lets it be approved again; the "
                                 "reason goes into the audit log.")},
                _reason_input("Why override it?"),
            ]}
