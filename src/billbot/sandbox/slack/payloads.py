"""The bodies Slack POSTs to an app's request URL, field for field (as in bolt-python's tests and
Slack's interaction payload reference), and how they are signed."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

from billbot.sandbox.slack.model import Channel, JsonDict, User
from billbot.sandbox.slack.workspace import SlackWorkspace

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, as X-Slack-Signature carries it."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def form_body(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def interaction_body(payload: JsonDict) -> bytes:
    """Interactivity payloads travel as one form field: `payload=<urlencoded JSON>`."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def user_ref(ws: SlackWorkspace, user: User) -> JsonDict:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id}


def team_ref(ws: SlackWorkspace) -> JsonDict:
    return {"id": ws.team_id, "domain": ws.team_domain}


def channel_name(channel: Channel) -> str:
    return "directmessage" if channel.is_im else channel.name


def slash_command(ws: SlackWorkspace, *, user: User, channel: Channel, command: str, text: str,
                  response_url: str, trigger_id: str) -> dict[str, str]:
    return {
        "token": ws.verification_token, "team_id": ws.team_id, "team_domain": ws.team_domain,
        "channel_id": channel.id, "channel_name": channel_name(channel),
        "user_id": user.id, "user_name": user.name, "command": command, "text": text,
        "api_app_id": ws.app_id, "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": trigger_id,
    }


def block_actions(ws: SlackWorkspace, *, user: User, channel: Channel, container: JsonDict,
                  message: JsonDict | None, action: JsonDict, trigger_id: str,
                  response_url: str, state_values: JsonDict) -> JsonDict:
    payload: JsonDict = {
        "type": "block_actions", "user": user_ref(ws, user), "api_app_id": ws.app_id,
        "token": ws.verification_token, "container": container, "trigger_id": trigger_id,
        "team": team_ref(ws), "enterprise": None, "is_enterprise_install": False,
        "channel": {"id": channel.id, "name": channel_name(channel)},
    }
    if message is not None:  # Slack leaves the message out for ephemeral ones
        payload["message"] = message
    payload.update({"state": {"values": state_values}, "response_url": response_url,
                    "actions": [action]})
    return payload


def view_block_actions(ws: SlackWorkspace, *, user: User, view: JsonDict, action: JsonDict,
                       trigger_id: str) -> JsonDict:
    """A button pressed inside a modal: Slack sends the view (its private_metadata and
    state), with no channel, no message and no response_url."""
    return {
        "type": "block_actions", "user": user_ref(ws, user), "api_app_id": ws.app_id,
        "token": ws.verification_token,
        "container": {"type": "view", "view_id": view.get("id")}, "trigger_id": trigger_id,
        "team": team_ref(ws), "enterprise": None, "is_enterprise_install": False,
        "view": view, "actions": [action],
    }


def button_action(block_id: str, button: JsonDict, action_ts: str) -> JsonDict:
    text = button.get("text") or {}
    action: JsonDict = {
        "type": "button", "action_id": button.get("action_id"), "block_id": block_id,
        "text": {"type": text.get("type", "plain_text"), "text": text.get("text", ""),
                 "emoji": bool(text.get("emoji", True))},
    }
    if "value" in button:
        action["value"] = button["value"]
    if "style" in button:
        action["style"] = button["style"]
    action["action_ts"] = action_ts
    return action


def view_submission(ws: SlackWorkspace, *, user: User, view: JsonDict,
                    trigger_id: str) -> JsonDict:
    return {
        "type": "view_submission", "team": team_ref(ws), "user": user_ref(ws, user),
        "api_app_id": ws.app_id, "token": ws.verification_token, "trigger_id": trigger_id,
        "view": view, "response_urls": [], "is_enterprise_install": False, "enterprise": None,
    }


def block_suggestion(ws: SlackWorkspace, *, user: User, view: JsonDict, block_id: str,
                     action_id: str, value: str) -> JsonDict:
    """A user typing into an external select of a modal (Slack asks the app for options)."""
    return {
        "type": "block_suggestion", "user": user_ref(ws, user), "team": team_ref(ws),
        "api_app_id": ws.app_id, "token": ws.verification_token, "container": {
            "type": "view", "view_id": view.get("id")},
        "action_id": action_id, "block_id": block_id, "value": value, "view": view,
        "action_ts": f"{ws.clock.now().timestamp():.6f}",
        "is_enterprise_install": False, "enterprise": None,
    }


def view_closed(ws: SlackWorkspace, *, user: User, view: JsonDict,
                is_cleared: bool) -> JsonDict:
    return {
        "type": "view_closed", "team": team_ref(ws), "user": user_ref(ws, user),
        "api_app_id": ws.app_id, "token": ws.verification_token, "view": view,
        "is_cleared": is_cleared, "is_enterprise_install": False, "enterprise": None,
    }


def event_callback(ws: SlackWorkspace, *, event: JsonDict, event_id: str,
                   event_time: int) -> JsonDict:
    return {
        "token": ws.verification_token, "team_id": ws.team_id, "api_app_id": ws.app_id,
        "event": event, "type": "event_callback", "event_id": event_id,
        "event_time": event_time, "is_ext_shared_channel": False,
        "authorizations": [{"enterprise_id": None, "team_id": ws.team_id,
                            "user_id": ws.bot_user_id, "is_bot": True,
                            "is_enterprise_install": False}],
    }

