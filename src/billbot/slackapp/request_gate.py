"""The gate in front of Bolt: a signed body Bolt could not handle safely is refused with 400.

Bolt parses the body in its request constructor and its listener matchers index fields
without checking their types, so a body that is not UTF-8, a `payload` that is not a JSON
object, or an `action_id` that is a number ends in a 500. Slack never sends such bodies;
a forger holding the signing secret could. The gate runs after the signature check (an
unsigned body still gets the contract's 401) and parses the body the way Bolt does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

# Fields Bolt's matchers and loggers read, and the JSON type each must have when present.
_OBJECTS = ("user", "channel", "team", "enterprise", "container", "view", "message", "event",
            "state", "function_data", "bot_profile")
_NULLABLE = ("team", "enterprise", "function_data", "bot_profile")  # Slack sends null
_STRINGS = ("type", "callback_id", "trigger_id", "response_url", "api_app_id", "token",
            "action_ts", "team_id", "enterprise_id", "user_id", "channel_id")
# Inside those objects (and each action), the ids that must be strings.
_ID_STRINGS = ("id", "type", "callback_id", "action_id", "block_id", "name", "team_id",
               "user_id", "channel_id", "private_metadata", "subtype", "bot_id")


def signed(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's signature over the exact bytes, within five minutes (any bad header: False)."""
    try:
        return verifier.is_valid_request(body, dict(headers))
    except (ValueError, TypeError):
        return False  # e.g. a timestamp header that is not a number


def parse_like_bolt(text: str, content_type: str | None) -> Any:
    """What Bolt's `parse_body` makes of the body (raises ValueError where Bolt would)."""
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        return json.loads(text)
    params = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in text and "payload" in params:
        return json.loads(params["payload"])
    return params


def malformed(body: bytes, content_type: str | None) -> str | None:
    """Why Bolt could not handle this body safely, or None when it can."""
    try:
        text = body.decode("utf-8")
        parsed = parse_like_bolt(text, content_type)
    except (UnicodeDecodeError, ValueError):
        return "the body is not UTF-8 form data or a JSON object"
    if not isinstance(parsed, dict):
        return "the payload is not a JSON object"
    return _shape_problem(parsed)


def _shape_problem(body: dict[str, Any]) -> str | None:
    for name in _OBJECTS:
        value = body.get(name)
        if name in body and not (isinstance(value, dict) or (value is None
                                                             and name in _NULLABLE)):
            return f"{name} is not an object"
    for name in _STRINGS:
        if body.get(name) is not None and not isinstance(body[name], str):
            return f"{name} is not a string"
    for name in ("user", "channel", "team", "enterprise", "container", "view", "event"):
        if _bad_ids(body.get(name)):
            return f"{name} has an id that is not a string"
    actions = body.get("actions")
    if "actions" in body and not (isinstance(actions, list) and actions and all(
            isinstance(a, dict) and not _bad_ids(a) for a in actions)):
        return "actions is not a list of actions"
    authorizations = body.get("authorizations")
    if authorizations is not None and not isinstance(authorizations, list):
        return "authorizations is not a list"
    return None


def _bad_ids(node: Any) -> bool:
    return isinstance(node, dict) and any(
        node.get(key) is not None and not isinstance(node[key], str) for key in _ID_STRINGS)


__all__ = ["malformed", "parse_like_bolt", "signed"]
