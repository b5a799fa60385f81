"""A person typing into an open modal without submitting it: Slack's client holds the values
and sends them as the view's `state` with the next block action or submission."""

from __future__ import annotations

from typing import Protocol

from billbot.sandbox.slack.element_states import build_state
from billbot.sandbox.slack.model import JsonDict, View
from billbot.sandbox.slack.workspace import SlackWorkspace


class _Driver(Protocol):
    workspace: SlackWorkspace


def type_into(driver: _Driver, user_id: str, values: dict[str, dict[str, JsonDict]]) -> View:
    """Apply `values` (block_id -> action_id -> element state) to the user's top modal."""
    view = driver.workspace.open_view(user_id)
    if view is None:
        raise LookupError(f"{user_id} has no modal open")
    state, _ = build_state(view, values)
    for block_id, actions in view.state_values.items():  # typed before, not retyped now
        for action_id, typed in actions.items():
            if action_id in state.get(block_id, {}) and action_id not in values.get(block_id, {}):
                state[block_id][action_id] = typed
    driver.workspace.views.record_state(view.id, state)
    return view
