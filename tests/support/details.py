"""Opening a bill's Details modal from its row and reading what it shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billbot.sandbox.slack.model import Message, View
from billbot.slackapp.blocks import ACTION_DETAILS, actions_block_id
from billbot.slackapp.details_blocks import CALLBACK_DETAILS
from tests.e2e.conftest import CHANNEL, Stack, eventually


def details_text(view: View | None) -> str:
    """Every text of the modal, in order (sections, fields, headers, contexts)."""
    out: list[str] = []
    if view is None:
        return ""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(view.definition.get("blocks") or [])
    return "\n".join(out)


def filled(view: View | None) -> bool:
    """The Details modal once the bill was read (not the "Reading…" placeholder)."""
    return (view is not None and view.definition.get("callback_id") == CALLBACK_DETAILS
            and "Reading the bill" not in details_text(view))


async def open_details(stack: Stack, user: str, message: Message, bill_id: str) -> View:
    earlier = stack.workspace.open_view(user)
    earlier_id = earlier.id if earlier is not None else None
    response = await stack.driver.click(user, CHANNEL, message.ts, ACTION_DETAILS,
                                        block_id=actions_block_id(bill_id))
    assert response.status == 200
    return await modal_where(stack, user, lambda v: v.id != earlier_id and filled(v))


async def modal_where(stack: Stack, user: str, wanted: Callable[[View], bool]) -> View:
    """The user's top modal once it is what `wanted` says."""

    def found() -> View | None:
        view = stack.workspace.open_view(user)
        return view if view is not None and wanted(view) else None

    view = await eventually(found)
    assert view is not None
    return view
