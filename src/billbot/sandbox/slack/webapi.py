"""The Starlette app serving a SlackWorkspace as Slack's Web API.

- `POST|GET /api/<method>`: parameters from the query string, a urlencoded or multipart form,
  or a JSON body (slack_sdk uses all of these); `blocks`/`view` may be JSON strings in a form.
  The token comes from `Authorization: Bearer xoxb-...` (or a `token` parameter); gate.py
  checks it, the manifest's scopes and the rate limits before the method runs.
- `POST /response/<id>`: response_urls handed out with interactions.
- `GET /_workspace`: the whole workspace as JSON, for a page that renders it.
- With a `WorkspacePage`: the page people use to act in the workspace (see page.py).

Every call is logged with its answer; faults switched on in `workspace.faults` apply first.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.files import file_routes
from billbot.sandbox.slack.gate import refuse_before_running, scope_headers
from billbot.sandbox.slack.methods import METHODS, OWN_AUTH_METHODS
from billbot.sandbox.slack.model import ApiCall, JsonDict
from billbot.sandbox.slack.oauth import oauth_routes
from billbot.sandbox.slack.page import WorkspacePage, page_exception_handlers
from billbot.sandbox.slack.responses import METHOD as RESPONSE_URL_METHOD
from billbot.sandbox.slack.responses import deliver
from billbot.sandbox.slack.workspace import SlackWorkspace

_JSON_FIELDS = ("blocks", "view", "attachments", "metadata")
# How a response_url refusal maps to an HTTP status (Slack answers these with 404 or 400).
_RESPONSE_URL_GONE = frozenset({"invalid_url", "expired_url", "used_url"})


def create_slack_api_app(workspace: SlackWorkspace, page: WorkspacePage | None = None) -> Starlette:
    async def web_api(request: Request) -> JSONResponse:
        method = request.path_params["method"]
        try:
            params = await _read_params(request)
        except ValueError:
            return _answer(workspace, method, None, {}, 200,
                           {"ok": False, "error": "invalid_json"})
        token = _bearer_token(request) or _pop_str(params, "token")
        # Slack routes a call by its token: it acts in the workspace that issued it.
        ws = workspace.teams.for_token(token) or workspace
        if method in OWN_AUTH_METHODS:  # app-level tokens, client credentials
            status, answer, headers = _own_auth(ws, method, token, request, params)
        else:
            status, answer, headers = _dispatch(ws, method, token, params)
        return _answer(ws, method, token, params, status, answer, headers)

    async def response_url(request: Request) -> JSONResponse:
        url_id = request.path_params["url_id"]
        try:
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return _answer(workspace, RESPONSE_URL_METHOD, None, {}, 400,
                           {"ok": False, "error": "invalid_payload"})
        ws = workspace.teams.for_response_url(url_id) or workspace
        try:
            deliver(ws, url_id, body)
        except SlackApiRefusal as refusal:
            status = 404 if refusal.error in _RESPONSE_URL_GONE else 400
            return _answer(ws, RESPONSE_URL_METHOD, None, body, status, refusal.answer())
        return _answer(ws, RESPONSE_URL_METHOD, None, body, 200, {"ok": True})

    async def snapshot(request: Request) -> JSONResponse:
        return JSONResponse(workspace.snapshot())

    routes = [
        Route("/api/{method}", web_api, methods=["GET", "POST"]),
        Route("/response/{url_id}", response_url, methods=["POST"]),
        Route("/_workspace", snapshot, methods=["GET"]),
        *workspace.socket_mode.routes(),
        *file_routes(workspace),
        *oauth_routes(workspace, ",".join(workspace.credentials.scopes)),
    ]
    if page is None:
        return Starlette(routes=routes)
    return Starlette(routes=[*routes, *page.routes()],
                     exception_handlers=page_exception_handlers())


def _dispatch(ws: SlackWorkspace, method: str, token: str | None,
              params: JsonDict) -> tuple[int, JsonDict, dict[str, str]]:
    refusal = refuse_before_running(ws, method, token, params)
    if refusal is not None:
        return refusal
    faulted = _fault(ws, method)
    if faulted is not None:
        return faulted
    handler = METHODS.get(method)
    if handler is None:
        return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
    try:
        return 200, {"ok": True, **handler(ws, params)}, scope_headers(ws, method)
    except SlackApiRefusal as refused:
        return 200, refused.answer(), scope_headers(ws, method)


def _fault(ws: SlackWorkspace, method: str) -> tuple[int, JsonDict, dict[str, str]] | None:
    fault = ws.faults.take(method)
    if fault is None:
        return None
    if fault.retry_after is not None:
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)}
    return 200, {"ok": False, "error": fault.error}, {}


def _own_auth(ws: SlackWorkspace, method: str, token: str | None, request: Request,
              params: JsonDict) -> tuple[int, JsonDict, dict[str, str]]:
    """Methods that authenticate otherwise than with the bot token."""
    faulted = _fault(ws, method)
    if faulted is not None:
        return faulted
    try:
        answer = OWN_AUTH_METHODS[method](ws, token, request.headers.get("authorization"), params)
    except SlackApiRefusal as refusal:
        return 200, refusal.answer(), {}
    return 200, {"ok": True, **answer}, {}


def _answer(ws: SlackWorkspace, method: str, token: str | None, params: JsonDict, status: int,
            answer: JsonDict, headers: dict[str, str] | None = None) -> JSONResponse:
    ws.record_call(ApiCall(method, token, params, status, answer, ws.clock.now(),
                           ws.rate_limits.now()))
    return JSONResponse(answer, status_code=status, headers=headers)


async def _read_params(request: Request) -> JsonDict:
    """Query string, then form or JSON body; JSON-in-form fields decoded when they parse."""
    params: JsonDict = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()
        if raw.strip():
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("a JSON body must be an object")
            params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        params.update({k: v for k, v in form.multi_items() if isinstance(v, str)})
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str):
            # Bad JSON stays a string: the method then refuses it as Slack does.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _pop_str(params: JsonDict, key: str) -> str | None:
    value: Any = params.pop(key, None)
    return value if isinstance(value, str) else None
