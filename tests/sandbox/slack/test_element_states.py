"""The state Slack submits: exact element shapes, initial values for untouched inputs, and
the checks Slack's client makes before sending."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billbot.sandbox.slack import (
    SubmissionError,
    View,
    datepicker,
    number_input,
    plain_text_input,
    radio_buttons,
    static_select,
)
from billbot.sandbox.slack.element_states import REQUIRED, build_state

OPTIONS = [{"text": {"type": "plain_text", "text": "Operating"}, "value": "acc-1"}]


def view(*blocks: dict[str, object]) -> View:
    return View("V1", "U1", {"type": "modal", "blocks": list(blocks)}, "h", "V1")


def input_block(block_id: str, element: dict[str, object], optional: bool = False
                ) -> dict[str, object]:
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": {"type": "plain_text", "text": block_id}, "element": element}


def test_helpers_build_the_shapes_slack_sends() -> None:
    assert static_select("a", "A") == {"type": "static_select", "selected_option": {
        "value": "a", "text": {"type": "plain_text", "text": "A", "emoji": True}}}
    assert radio_buttons(None) == {"type": "radio_buttons", "selected_option": None}
    assert plain_text_input("") == {"type": "plain_text_input", "value": None}
    assert number_input(Decimal("12.50")) == {"type": "number_input", "value": "12.50"}
    assert datepicker(date(2026, 11, 22)) == {"type": "datepicker",
                                              "selected_date": "2026-11-22"}


def test_untouched_inputs_submit_their_initial_values() -> None:
    modal = view(
        input_block("acct", {"type": "radio_buttons", "action_id": "a", "options": OPTIONS,
                             "initial_option": OPTIONS[0]}),
        input_block("amount", {"type": "number_input", "action_id": "v",
                               "is_decimal_allowed": True, "initial_value": "5"}),
        input_block("note", {"type": "plain_text_input", "action_id": "t"}, optional=True),
        input_block("when", {"type": "datepicker", "action_id": "d",
                             "initial_date": "2026-11-22"}))
    state, errors = build_state(modal, {"amount": {"v": number_input("4.5")}})
    assert errors == {}
    assert state == {
        "acct": {"a": {"type": "radio_buttons", "selected_option": OPTIONS[0]}},
        "amount": {"v": {"type": "number_input", "value": "4.5"}},
        "note": {"t": {"type": "plain_text_input", "value": None}},
        "when": {"d": {"type": "datepicker", "selected_date": "2026-11-22"}},
    }


def test_a_chosen_option_takes_its_text_from_the_view() -> None:
    modal = view(input_block("acct", {"type": "static_select", "action_id": "a",
                                      "options": OPTIONS}))
    state, _ = build_state(modal, {"acct": {"a": static_select("acc-1")}})
    assert state["acct"]["a"]["selected_option"] == OPTIONS[0]


@pytest.mark.parametrize("element, given, error", [
    ({"type": "number_input", "action_id": "v", "is_decimal_allowed": False}, "1.5",
     "whole number"),
    ({"type": "number_input", "action_id": "v", "is_decimal_allowed": True,
      "min_value": "0.01"}, "0", "0.01 or more"),
    ({"type": "number_input", "action_id": "v", "is_decimal_allowed": True,
      "max_value": "10"}, "10.01", "10 or less"),
    ({"type": "number_input", "action_id": "v", "is_decimal_allowed": True}, "abc",
     "enter a number"),
    ({"type": "number_input", "action_id": "v", "is_decimal_allowed": True}, None, REQUIRED),
])
def test_slacks_client_checks(element: dict[str, object], given: str | None,
                              error: str) -> None:
    _, errors = build_state(view(input_block("b", element)), {"b": {"v": number_input(given)}})
    assert error in errors["b"]


def test_values_no_user_could_submit_are_refused() -> None:
    modal = view(input_block("acct", {"type": "static_select", "action_id": "a",
                                      "options": OPTIONS}))
    with pytest.raises(SubmissionError, match="no input"):
        build_state(modal, {"acct": {"wrong": static_select("acc-1")}})
    with pytest.raises(SubmissionError, match="not a radio_buttons"):
        build_state(modal, {"acct": {"a": radio_buttons("acc-1")}})
    with pytest.raises(SubmissionError, match="not offered"):
        build_state(modal, {"acct": {"a": static_select("acc-2")}})
