"""Text of `/bills setup` and of the onboarding DM. Render only.

The onboarding DM is for the person who installs billbot through Slack's OAuth flow (not
built yet): `onboarding_message` is ready for that install handler to send with
`direct_messages.send_dm`.
"""

from __future__ import annotations

from typing import Any

from billbot.domain.setup_checklist import Step, missing

Block = dict[str, Any]
MARKS = {True: ":white_check_mark:", False: ":white_large_square:", None: ":grey_question:"}


def _line(step: Step, *, admin: bool) -> str:
    line = f"{MARKS[step.done]} {step.what}"
    if step.done is not True:
        who = " _(admins)_" if step.admin_only and not admin else ""
        line += f" — {step.fix}{who}"
    return line


def setup_text(steps: list[Step], *, admin: bool) -> str:
    left = missing(steps)
    head = ("*billbot is set up here.* Nothing is missing." if not left else
            f"*billbot setup: {len(left)} of {len(steps)} steps still to do.*")
    body = "\n".join(_line(step, admin=admin) for step in steps)
    tail = "" if admin or not any(s.admin_only for s in left) else (
        "\nSteps marked _(admins)_ are done by a billbot admin.")
    return f"{head}\n{body}{tail}"


def setup_blocks(steps: list[Step], *, admin: bool) -> list[Block]:
    return [{"type": "section", "block_id": "setup-checklist",
             "text": {"type": "mrkdwn", "text": setup_text(steps, admin=admin)[:3000]}}]


def onboarding_message(installer_id: str) -> tuple[str, list[Block]]:
    """The DM to the installer after an install: the next steps, in order."""
    text = (f"Thanks for installing billbot, <@{installer_id}>. Next steps:\n"
            "1. Invite billbot to your finance channel: `/invite @billbot`\n"
            "2. Connect a company there: `/bills connect`\n"
            "3. Name who approves and who pays: `/bills approvers add @person`, "
            "`/bills payers add @person`\n"
            "4. Add a bank account to pay from if the books have none: `/bills accounts add`\n"
            "`/bills setup` in the channel shows what is still missing.")
    return text, [{"type": "section", "block_id": "onboarding",
                   "text": {"type": "mrkdwn", "text": text}}]


__all__ = ["onboarding_message", "setup_blocks", "setup_text"]
