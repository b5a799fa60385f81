"""Web API methods about people and conversations: users.info, bots.info, conversations.open (DMs),
conversations.members and usergroups.users.list, with Slack's arguments, errors and limits."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.model import JsonDict
from billbot.sandbox.slack.workspace import SlackWorkspace

# The bot scopes each method needs (Slack's method pages).
SCOPES: dict[str, tuple[str, ...]] = {
    "users.info": ("users:read",),
    "conversations.open": ("im:write",),  # mpim:write for group DMs, not modelled
    "conversations.members": ("channels:read",),  # groups:/im:/mpim:read by channel type
    "usergroups.users.list": ("usergroups:read",),
    "bots.info": ("users:read",),
}

MEMBERS_DEFAULT_LIMIT = 100
MEMBERS_MAX_LIMIT = 1000
MPIM_MAX_USERS = 8


def users_info(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    user = ws.user(str(params.get("user") or ""))
    if user is None:
        raise SlackApiRefusal("user_not_found")
    body = user.to_slack(ws.team_id)
    if _flag(params.get("include_locale")):
        body["locale"] = "en-US"
    return {"user": body}


def conversations_open(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    """Open (or find, with prevent_creation) the bot's DM with one person."""
    channel_id, users = params.get("channel"), params.get("users")
    if channel_id:
        found = ws.channel(str(channel_id))
        if found is None:
            raise SlackApiRefusal("channel_not_found")
        if not found.is_im:
            raise SlackApiRefusal("method_not_supported_for_channel_type")
        return {"no_op": True, "already_open": True, "channel": _im(ws, found.name, params)}
    if not isinstance(users, str) or not users.strip():
        raise SlackApiRefusal("users_list_not_supplied")
    ids = [u.strip() for u in users.split(",") if u.strip()]
    if len(ids) > MPIM_MAX_USERS:
        raise SlackApiRefusal("too_many_users")
    for user_id in ids:
        if ws.user(user_id) is None:
            raise SlackApiRefusal("user_not_found")
    if len(ids) > 1:
        # Group DMs (mpim) are not modelled: say so rather than pretend.
        raise SlackApiRefusal("invalid_arguments",
                              ["the local Slack opens 1:1 DMs only (one user)"])
    existing = ws.open_dm(ids[0], create=False)
    if existing is None and _flag(params.get("prevent_creation")):
        raise SlackApiRefusal("channel_not_found")
    ws.open_dm(ids[0])
    answer: JsonDict = {"channel": _im(ws, ids[0], params)}
    if existing is not None:
        answer.update(no_op=True, already_open=True)
    return answer


def conversations_members(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    channel = ws.channel(str(params.get("channel") or ""))
    if channel is None:
        raise SlackApiRefusal("channel_not_found")
    limit = _limit(params.get("limit"))
    if channel.is_im:
        members = [channel.name, ws.bot_user_id]
    else:
        members = [u.id for u in ws.users() if channel.has_member(u.id)]
    start = _cursor_start(params.get("cursor"), members)
    page = members[start:start + limit]
    rest = members[start + limit:]
    next_cursor = _cursor(rest[0]) if rest else ""
    return {"members": page, "response_metadata": {"next_cursor": next_cursor}}


def usergroups_users_list(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    usergroup = params.get("usergroup")
    if not usergroup:
        raise SlackApiRefusal("invalid_arguments", ["usergroup is required"])
    return {"users": ws.usergroups.members(
        usergroup, include_disabled=_flag(params.get("include_disabled")))}


def bots_info(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    """The workspace's one app bot (by its bot id): its app id and bot user."""
    if str(params.get("bot") or "") != ws.bot_id:
        raise SlackApiRefusal("bot_not_found")
    bot = ws.user(ws.bot_user_id)
    return {"bot": {"id": ws.bot_id, "deleted": False, "name": bot.name if bot else "bot",
                    "updated": 0, "app_id": ws.app_id, "user_id": ws.bot_user_id,
                    "icons": {"image_36": "", "image_48": "", "image_72": ""}}}


METHODS = {
    "users.info": users_info,
    "bots.info": bots_info,
    "conversations.open": conversations_open,
    "conversations.members": conversations_members,
    "usergroups.users.list": usergroups_users_list,
}


def _im(ws: SlackWorkspace, user_id: str, params: JsonDict) -> JsonDict:
    if not _flag(params.get("return_im")):
        return {"id": f"D{user_id}"}
    now = int(ws.clock.now().timestamp())
    return {"id": f"D{user_id}", "created": now, "is_im": True, "is_org_shared": False,
            "user": user_id, "is_user_deleted": False, "priority": 0}


def _limit(value: Any) -> int:
    if value is None or value == "":
        return MEMBERS_DEFAULT_LIMIT
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise SlackApiRefusal("invalid_limit") from None
    if limit < 1:
        raise SlackApiRefusal("invalid_limit")
    return min(limit, MEMBERS_MAX_LIMIT)


def _cursor(user_id: str) -> str:
    """Slack's member cursors are base64 of `user:<id>`."""
    return base64.b64encode(f"user:{user_id}".encode()).decode()


def _cursor_start(cursor: Any, members: list[str]) -> int:
    if not cursor:
        return 0
    try:
        decoded = base64.b64decode(str(cursor), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SlackApiRefusal("invalid_cursor") from None
    kind, _, user_id = decoded.partition(":")
    if kind != "user" or user_id not in members:
        raise SlackApiRefusal("invalid_cursor")
    return members.index(user_id)


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))
