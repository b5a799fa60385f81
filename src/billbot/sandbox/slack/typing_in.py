"""A person typing into an open modal without submitting it: Slack's client holds the values
and sends them as the view's `state` with the next block action or submission."""

from __future__ import annotations

from typing import Any, Protocol

from billbot.sandbox.slack import payloads
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


class _Poster(_Driver, Protocol):
    async def post_signed(self, raw_body: bytes | str, content_type: str) -> Any: ...


async def type_and_dispatch(driver: _Poster, user_id: str, block_id: str, value: str) -> Any:
    """Type `value` into a plain-text input whose block has `dispatch_action: true`: Slack
    sends a block_actions with the value (and the view's state); without it, nothing is sent."""
    view = type_into(driver, user_id, {block_id: {block_id: {
        "type": "plain_text_input", "value": value}}})
    current = driver.workspace.views.get(view.id)
    assert current is not None
    block = next((b for b in current.blocks if b.get("block_id") == block_id), {})
    if block.get("dispatch_action") is not True:
        return None
    ws = driver.workspace
    user = ws.user(user_id)
    assert user is not None
    action = {"type": "plain_text_input", "block_id": block_id,
              "action_id": block["element"]["action_id"], "value": value,
              "action_ts": ws.ids.ts()}
    payload = payloads.view_block_actions(
        ws, user=user, view=current.to_slack(ws.team_id, ws.app_id, ws.bot_id),
        action=action, trigger_id=ws.issue_trigger(user_id))
    return await driver.post_signed(payloads.interaction_body(payload), payloads.FORM)
