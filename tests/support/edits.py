"""Edit as a person does it, for the e2e tests: a bill marked as created in billbot, the Edit
click and the modal's values."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from billbot.slackapp.edit_blocks import ACTION_EDIT, CALLBACK_EDIT
from billbot.storage.creation_tables import CreatedBill
from billbot.storage.db import session_scope
from tests.e2e.conftest import CHANNEL, Stack, click


def mark_created(stack: Stack, bill_id: str, creator: str) -> None:
    """Record the bill as created in billbot by `creator` (as Create bill does)."""
    with session_scope(stack.bot.engine) as session:
        session.add(CreatedBill(company_id=stack.company_id, connection_id=stack.connection_id,
                                bill_id=bill_id, created_by=creator,
                                created_at=datetime.now(UTC), creation_id=uuid.uuid4()))


async def press_edit(stack: Stack, user: str, message: Any, bill_id: str) -> None:
    await click(stack, user, message, bill_id, ACTION_EDIT)


def edit_view(stack: Stack, user: str) -> Any:
    view = stack.workspace.open_view(user)
    return view if view is not None and view.definition.get("callback_id") == CALLBACK_EDIT \
        else None


def edit_values(view: Any, *, amounts: dict[int, str] | None = None,
                reference: str | None = None, due: str | None = None) -> dict[str, Any]:
    """The modal's values as prefilled, with the given changes."""
    values: dict[str, Any] = {}
    for block in view.definition["blocks"]:
        block_id, element = block.get("block_id", ""), block.get("element") or {}
        if block_id == "reference":
            values[block_id] = {"reference": {"type": "plain_text_input", "value":
                                              reference if reference is not None
                                              else element.get("initial_value")}}
        elif block_id in ("issue_date", "due_date"):
            day = due if block_id == "due_date" and due is not None else element["initial_date"]
            values[block_id] = {"date": {"type": "datepicker", "selected_date": day}}
        elif block_id.startswith("line_"):
            index = int(block_id.removeprefix("line_"))
            value = (amounts or {}).get(index, element["initial_value"])
            values[block_id] = {"amount": {"type": "plain_text_input", "value": value}}
    return values


def bill_updates(stack: Stack, bill_id: str) -> list[str]:
    """The outcomes of the sandbox's update bill requests for this bill."""
    return [r.outcome for r in stack.sandbox.requests
            if r.method == "PUT" and r.path.endswith(f"/bills/{bill_id}")]


__all__ = ["CHANNEL", "bill_updates", "edit_values", "edit_view", "mark_created", "press_edit"]
