"""Reading a person's published Home tab in the local Slack (for tests outside App Home's own)."""

from __future__ import annotations

from billbot.sandbox.slack.model import View
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.slack_web.block_revisions import base_block_id
from billbot.slackapp.blocks import section_block_id


def home_row_buttons(workspace: SlackWorkspace, user: str, bill_id: str) -> list[str] | None:
    """The buttons under the bill's row in `user`'s Home tab; None when the row is not there."""
    view: View | None = workspace.views.home(user)
    if view is None:
        return None
    for i, block in enumerate(view.blocks):
        if base_block_id(block.get("block_id")) == section_block_id(bill_id):
            after = view.blocks[i + 1] if i + 1 < len(view.blocks) else {}
            if after.get("type") == "actions":
                return [e["text"]["text"] for e in after["elements"]]
            return []
    return None
