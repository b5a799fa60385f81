"""The gate in front of Bolt: a signed body Bolt could not handle safely is refused with 400.

Bolt parses the body in its request constructor and its listener matchers index fields
without checking their types, so a body that is not UTF-8, a `payload` that is not a JSON
object, or an `action_id` that is a number ends in a 500. Slack never sends such bodies;
a forger holding the signing secret could. The gate runs after the signature check (an
unsigned body still gets the contract's 401). It builds Bolt's request itself, so the body is
parsed once (a click's payload carries the whole digest message: parsing it is most of the
cost of an acknowledgement), then checks the parsed body's shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
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


class Malformed(ValueError):
    """A signed body Bolt could not handle safely; the message says why (no payload data)."""


def signed(verifier: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's signature over the exact bytes, within five minutes (any bad header: False)."""
    try:
        return verifier.is_valid_request(body, dict(headers))
    except (ValueError, TypeError):
        return False  # e.g. a timestamp header that is not a number


def bolt_request(body: bytes, headers: Mapping[str, str], query: str = "") -> AsyncBoltRequest:
    """Bolt's request for this body, parsed once; raises Malformed where Bolt would fail."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed("the body is not UTF-8") from exc
    try:
        request = AsyncBoltRequest(body=text, query=query, headers=dict(headers))
    except Exception as exc:
        # The constructor parses the body and reads fields from it: a payload that is not
        # JSON, or JSON that is not an object, fails there with one of several errors.
        raise Malformed("the body is not form data or a JSON object") from exc
    if not isinstance(request.body, dict):
        raise Malformed("the payload is not a JSON object")
    problem = _shape_problem(request.body)
    if problem is not None:
        raise Malformed(problem)
    return request


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
    # Bolt's block_actions matchers index `action_id` unguarded (a KeyError, then a 500).
    if body.get("type") == "block_actions" and isinstance(actions, list) and not all(
            isinstance(a.get("action_id"), str) for a in actions):
        return "an action has no action_id"
    authorizations = body.get("authorizations")
    if authorizations is not None and not isinstance(authorizations, list):
        return "authorizations is not a list"
    return None


def _bad_ids(node: Any) -> bool:
    return isinstance(node, dict) and any(
        node.get(key) is not None and not isinstance(node[key], str) for key in _ID_STRINGS)


__all__ = ["Malformed", "bolt_request", "signed"]
