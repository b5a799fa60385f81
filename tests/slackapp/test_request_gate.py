"""The request gate: signed bodies whose shape Bolt cannot handle are refused before it runs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from billbot.slackapp import request_gate

FORM = {"content-type": "application/x-www-form-urlencoded"}


def click(**changes: Any) -> bytes:
    payload: dict[str, Any] = {
        "type": "block_actions", "user": {"id": "U0ANN"}, "channel": {"id": "C0FINANCE"},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C0FINANCE"},
        "trigger_id": "t", "actions": [{"action_id": "bill_approve", "value": "b1"}],
    }
    payload.update(changes)
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_a_well_formed_click_goes_through() -> None:
    request = request_gate.bolt_request(click(), FORM)
    assert request.body["actions"][0]["action_id"] == "bill_approve"


@pytest.mark.parametrize(("changes", "problem"), [
    ({"container": None}, "container is not an object"),
    ({"actions": []}, "actions is not a list of actions"),
    ({"actions": [{}]}, "an action has no action_id"),
    ({"actions": [{"action_id": 7}]}, "actions is not a list of actions"),
    ({"trigger_id": 5}, "trigger_id is not a string"),
])
def test_shapes_bolt_would_fail_on_are_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(request_gate.Malformed, match=problem):
        request_gate.bolt_request(click(**changes), FORM)
