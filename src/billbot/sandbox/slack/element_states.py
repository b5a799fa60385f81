"""The `state.values` Slack sends with a view submission, and the checks Slack's own client
makes before it lets a user submit (required fields, number_input bounds, text lengths).

Tests give values per block_id and action_id using the helpers below. Inputs they leave out
keep their initial value, exactly as an untouched field does in Slack.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation

from billbot.sandbox.slack.block_ids import iter_elements
from billbot.sandbox.slack.model import JsonDict, View

REQUIRED = "Please complete this required field."
_NON_STATEFUL = frozenset({"button", "overflow", "workflow_button", "image"})


# -- what a test passes for each element (the exact shapes Slack sends) ------------------------

def static_select(value: str | None, text: str | None = None) -> JsonDict:
    """A chosen option by value; its text is filled in from the view when left out."""
    return {"type": "static_select", "selected_option": _option(value, text)}


def radio_buttons(value: str | None, text: str | None = None) -> JsonDict:
    return {"type": "radio_buttons", "selected_option": _option(value, text)}


def plain_text_input(value: str | None) -> JsonDict:
    return {"type": "plain_text_input", "value": value or None}


def number_input(value: str | int | Decimal | None) -> JsonDict:
    return {"type": "number_input", "value": None if value is None else str(value)}


def datepicker(selected: date | str | None) -> JsonDict:
    text = selected.isoformat() if isinstance(selected, date) else selected
    return {"type": "datepicker", "selected_date": text}


def _option(value: str | None, text: str | None) -> JsonDict | None:
    if value is None:
        return None
    option: JsonDict = {"value": value}
    if text is not None:
        option["text"] = {"type": "plain_text", "text": text, "emoji": True}
    return option


# -- building the submitted state --------------------------------------------------------------

class SubmissionError(ValueError):
    """Values that no Slack user could submit (unknown block, option not offered, ...)."""


def initial_state(element: JsonDict) -> JsonDict:
    """The state of an element nobody touched."""
    kind = element.get("type")
    state: JsonDict = {"type": kind}
    if kind in ("static_select", "radio_buttons", "external_select"):
        state["selected_option"] = copy.deepcopy(element.get("initial_option"))
    elif kind in ("checkboxes", "multi_static_select"):
        state["selected_options"] = copy.deepcopy(element.get("initial_options", []))
    elif kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        state["value"] = element.get("initial_value")
    elif kind == "datepicker":
        state["selected_date"] = element.get("initial_date")
    elif kind == "timepicker":
        state["selected_time"] = element.get("initial_time")
    elif kind == "users_select":
        state["selected_user"] = element.get("initial_user")
    elif kind == "conversations_select":
        state["selected_conversation"] = element.get("initial_conversation")
    elif kind == "channels_select":
        state["selected_channel"] = element.get("initial_channel")
    return state


def stateful_elements(blocks: list[JsonDict]) -> Iterator[tuple[JsonDict, JsonDict]]:
    """(block, element) for each element that keeps a value (not buttons or overflows)."""
    for block in blocks:
        for element in iter_elements(block):
            if element.get("type") not in _NON_STATEFUL:
                yield block, element


def initial_values(blocks: list[JsonDict]) -> JsonDict:
    """`state.values` of untouched blocks (what a click on a message reports)."""
    state: JsonDict = {}
    for block, element in stateful_elements(blocks):
        state.setdefault(str(block.get("block_id")), {})[
            str(element.get("action_id"))] = initial_state(element)
    return state


def element_keys(blocks: list[JsonDict]) -> set[tuple[str, str]]:
    """(block_id, action_id) of each element that keeps a value."""
    return {(str(block.get("block_id")), str(element.get("action_id")))
            for block, element in stateful_elements(blocks)}


def build_state(view: View, values: dict[str, dict[str, JsonDict]], *,
                suggested: dict[str, list[JsonDict]] | None = None
                ) -> tuple[JsonDict, dict[str, str]]:
    """`state.values` for submitting `view` with `values` applied, and the errors Slack's client
    would show instead of sending (input block_id -> message). An external select can hold
    only an option the app's suggestions offered (`suggested`: action_id -> options)."""
    state = initial_values(view.blocks)
    elements = {(str(block.get("block_id")), str(element.get("action_id"))): (block, element)
                for block, element in stateful_elements(view.blocks)}
    for block_id, actions in values.items():
        for action_id, given in actions.items():
            if (block_id, action_id) not in elements:
                raise SubmissionError(f"view {view.id} has no input {block_id}/{action_id}; "
                                      f"it has {sorted(elements)}")
            _, element = elements[(block_id, action_id)]
            state[block_id][action_id] = _checked_value(
                element, given, (suggested or {}).get(action_id, []))
    errors = {}
    for (block_id, action_id), (block, element) in elements.items():
        if block.get("type") != "input":
            continue
        problem = _client_problem(block, element, state[block_id][action_id])
        if problem:
            errors[block_id] = problem
    return state, errors


def _checked_value(element: JsonDict, given: JsonDict,
                   suggested: list[JsonDict] | None = None) -> JsonDict:
    kind = element.get("type")
    if given.get("type") != kind:
        raise SubmissionError(f"{element.get('action_id')} is a {kind}, not a {given.get('type')}")
    value = copy.deepcopy(given)
    chosen = value.get("selected_option")
    if "selected_option" in value and chosen is not None:
        offered = _offered_options(element) + list(suggested or [])
        match = next((o for o in offered if o.get("value") == chosen.get("value")), None)
        if match is None:
            raise SubmissionError(f"option {chosen.get('value')!r} is not offered by "
                                  f"{element.get('action_id')}")
        value["selected_option"] = copy.deepcopy(match)
    return value


def _offered_options(element: JsonDict) -> list[JsonDict]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return [o for o in options if isinstance(o, dict)]


def _client_problem(block: JsonDict, element: JsonDict, state: JsonDict) -> str | None:
    filled = any(v not in (None, "", []) for k, v in state.items() if k != "type")
    if not filled:
        return None if block.get("optional") else REQUIRED
    kind = element.get("type")
    if kind == "number_input":
        return _number_problem(element, str(state.get("value")))
    if kind == "plain_text_input":
        text = str(state.get("value"))
        if len(text) < int(element.get("min_length", 0)):
            return f"Please enter at least {element['min_length']} characters."
        if len(text) > int(element.get("max_length", 3000)):
            return f"Please enter at most {element.get('max_length', 3000)} characters."
    return None


def _number_problem(element: JsonDict, text: str) -> str | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return "Please enter a number."
    if not number.is_finite():
        return "Please enter a number."
    if not element.get("is_decimal_allowed") and number != number.to_integral_value():
        return "Please enter a whole number."
    low, high = element.get("min_value"), element.get("max_value")
    if low is not None and number < Decimal(str(low)):
        return f"Please enter a number that's {low} or more."
    if high is not None and number > Decimal(str(high)):
        return f"Please enter a number that's {high} or less."
    return None

