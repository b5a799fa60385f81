"""Web API methods: each takes the workspace and the call's parameters and answers as Slack
does on success, or raises SlackApiRefusal. Parameters arrive already merged from the query
string, a form or JSON, with `blocks`/`view` decoded from JSON strings where possible."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billbot.sandbox.slack import directory, files, oauth, permalinks
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.model import JsonDict, View
from billbot.sandbox.slack.workspace import SlackWorkspace

Method = Callable[[SlackWorkspace, JsonDict], JsonDict]
# Methods that authenticate otherwise (an app token, client credentials): they get the token
# given, the raw Authorization header and the parameters.
OwnAuthMethod = Callable[[SlackWorkspace, str | None, str | None, JsonDict], JsonDict]


def auth_test(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    bot = ws.user(ws.bot_user_id)
    return {"url": f"https://{ws.team_domain}.slack.com/", "team": ws.team_name,
            "user": bot.name if bot else "bot",
            "team_id": ws.team_id, "user_id": ws.bot_user_id, "bot_id": ws.bot_id,
            "is_enterprise_install": False}


def api_test(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    return {"args": {k: v for k, v in params.items() if isinstance(v, str)}}


def chat_post_message(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    message = ws.post_message(method="chat.postMessage", channel=str(params.get("channel") or ""),
                              text=params.get("text"), blocks=params.get("blocks"),
                              thread_ts=params.get("thread_ts"))
    return {"channel": message.channel, "ts": message.ts,
            "message": message.to_slack(ws.team_id, ws.app_id)}


def chat_update(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    channel = params.get("channel")
    if not isinstance(channel, str) or ws.channel(channel) is None:
        raise SlackApiRefusal("channel_not_found")
    message = ws.update_message(method="chat.update", channel=channel, ts=params.get("ts"),
                                text=params.get("text"), blocks=params.get("blocks"))
    return {"channel": message.channel, "ts": message.ts, "text": message.text,
            "message": message.to_slack(ws.team_id, ws.app_id)}


def chat_post_ephemeral(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    ephemeral = ws.post_ephemeral(method="chat.postEphemeral",
                                  channel=str(params.get("channel") or ""),
                                  user=params.get("user"), text=params.get("text"),
                                  blocks=params.get("blocks"), thread_ts=params.get("thread_ts"))
    return {"message_ts": ephemeral.ts}


def chat_delete(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    channel = params.get("channel")
    if not isinstance(channel, str) or ws.channel(channel) is None:
        raise SlackApiRefusal("channel_not_found")
    ws.delete_message(channel=channel, ts=params.get("ts"))
    return {"channel": channel, "ts": params.get("ts")}


def views_open(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    trigger = params.get("trigger_id") or params.get("interactivity_pointer")
    if not trigger:
        raise SlackApiRefusal("invalid_arguments", ["trigger_id is required"])
    view = ws.views.open(method="views.open", trigger_id=trigger, definition=_view(params))
    return _view_answer(ws, view)


def views_push(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    trigger = params.get("trigger_id") or params.get("interactivity_pointer")
    if not trigger:
        raise SlackApiRefusal("invalid_arguments", ["trigger_id is required"])
    view = ws.views.push(method="views.push", trigger_id=trigger, definition=_view(params))
    return _view_answer(ws, view)


def views_update(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    view = ws.views.update(method="views.update", view_id=params.get("view_id"),
                           external_id=params.get("external_id"),
                           view_hash=params.get("hash"), definition=_view(params))
    return _view_answer(ws, view)


def views_publish(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    view = ws.views.publish(method="views.publish", user_id=params.get("user_id"),
                            view_hash=params.get("hash"), definition=_view(params),
                            known_user=lambda u: ws.user(u) is not None)
    return _view_answer(ws, view)


def conversations_info(ws: SlackWorkspace, params: JsonDict) -> JsonDict:
    channel = ws.channel(str(params.get("channel", "")))
    if channel is None:
        raise SlackApiRefusal("channel_not_found")
    return {"channel": channel.to_slack(created=0)}


METHODS: dict[str, Method] = {
    "api.test": api_test,
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.delete": chat_delete,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "conversations.info": conversations_info,
}


def apps_connections_open(ws: SlackWorkspace, token: str | None, authorization: str | None,
                          params: JsonDict) -> JsonDict:
    return ws.socket_mode.open_connection(token)


# Newer methods live in modules of their own (each with the scopes it needs).
METHODS.update(directory.METHODS)
METHODS.update(files.METHODS)
METHODS.update(permalinks.METHODS)

OWN_AUTH_METHODS: dict[str, OwnAuthMethod] = {
    "apps.connections.open": apps_connections_open,
    "oauth.v2.access": oauth.oauth_v2_access,
}


def _view(params: JsonDict) -> Any:
    view = params.get("view")
    if view is None:
        raise SlackApiRefusal("invalid_arguments", ["view is required"])
    if isinstance(view, str):
        raise SlackApiRefusal("invalid_arguments", ["view is not valid JSON"])
    return view


def _view_answer(ws: SlackWorkspace, view: View) -> JsonDict:
    return {"view": view.to_slack(ws.team_id, ws.app_id, ws.bot_id)}
