"""The local Slack workspace as a web page: what each person sees, and what they do.

    GET  /                            the page (static/index.html); /static/* its script, style
    GET  /_ui/state?user=U&known=V    what U sees: channels with messages and threads, U's own
                                      ephemerals and top modal; `version` changes with any of it
                                      (answers only {"version", "unchanged": true} when V is it)
    POST /_ui/command  {"user", "channel", "text": "/bills digest"}
    POST /_ui/click    {"user", "channel", "ts", "block_id", "action_id"}, or {"user", "home":
                                      true, "block_id", "action_id"} for a button in U's Home tab
    POST /_ui/home     {"user"}: U opens the app's Home tab (app_home_opened)
    POST /_ui/submit   {"user", "view_id", "values": {block_id: {action_id: element state}}}
    POST /_ui/close    {"user"}: U closes the top modal; {"user", "every": true}: all of U's
                                      (the page is going away: reloading Slack closes them)
    POST /_ui/upload, /_ui/shortcut   a file posted, a message shortcut run (page_files.py)
    GET  /_ui/books    the Codat sandbox's own view of bills and payments (its /_sandbox/ API)

The page never talks to the app itself: each action goes through SlackDriver, which builds
the payload and signs it exactly as Slack does, then applies the app's answer (a command's
reply, a modal's errors, update or close). So the app cannot tell the page from Slack.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from billbot.sandbox.slack.driver import BotResponse, RejectedBySlackClient, SlackDriver
from billbot.sandbox.slack.element_states import SubmissionError
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.model import JsonDict, Message
from billbot.sandbox.slack.page_files import UploadRefused, post_upload
from billbot.sandbox.slack.shortcuts import manifest_message_shortcuts
from billbot.sandbox.slack.socket_transport import SocketModeTransport
from billbot.sandbox.slack.workspace import SLACKBOT, SlackWorkspace

STATIC_DIR = Path(__file__).parent / "static"
# The driver gives the app Slack's 3 seconds (driver.ACK_DEADLINE); this only bounds the
# transport underneath it.
APP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass
class AppLink:
    """Where people's actions go: the app's request URL and the secret Slack signs with,
    or (`socket_mode`) the app's Socket Mode connection."""

    events_url: str
    signing_secret: str
    commands: tuple[str, ...] = ("/bills",)
    socket_mode: bool = False


class WorkspacePage:
    """The page's routes over one workspace. `connect()` once the app is served."""

    def __init__(self, workspace: SlackWorkspace, *, titles: dict[str, str] | None = None,
                 books_url: str | None = None) -> None:
        self.workspace = workspace
        # Shown next to each person in the picker ("Approver", "Payer", ...).
        self.titles = dict(titles or {})
        # The Codat sandbox's base URL, for the books panel (its /_sandbox/ API); None: no panel.
        self.books_url = books_url
        self.link: AppLink | None = None
        # The "More actions" menu: what the manifest declares, read once.
        self.shortcuts = [{"callback_id": c, "name": n}
                          for c, n in manifest_message_shortcuts().items()]

    def connect(self, events_url: str, signing_secret: str, *, socket_mode: bool = False) -> None:
        self.link = AppLink(events_url, signing_secret, socket_mode=socket_mode)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self._index, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
            Route("/_ui/state", self._state, methods=["GET"]),
            Route("/_ui/command", self._command, methods=["POST"]),
            Route("/_ui/click", self._click, methods=["POST"]),
            Route("/_ui/home", self._home, methods=["POST"]),
            Route("/_ui/submit", self._submit, methods=["POST"]),
            Route("/_ui/close", self._close, methods=["POST"]),
            Route("/_ui/upload", self._upload, methods=["POST"]),
            Route("/_ui/shortcut", self._shortcut, methods=["POST"]),
            Route("/_ui/click_view", self._click_view, methods=["POST"]),
            Route("/_ui/file/{file_id}", self._file, methods=["GET"]),
            Route("/_ui/books", self._books, methods=["GET"]),
        ]

    # -- what a person sees --------------------------------------------------------------------

    def seen_by(self, user_id: str) -> JsonDict:
        """Everything `user_id` sees, as JSON data, with a version that changes with it."""
        ws = self.workspace
        with ws.lock:  # one consistent picture (the lock is re-entrant)
            channels = [c for c in ws.channels() if c.has_member(user_id)]
            seen: JsonDict = {
                "viewer": user_id,  # the page marks whose picture it drew (tests wait on it)
                "team": {"id": ws.team_id, "name": ws.team_name},
                "bot_user_id": ws.bot_user_id,
                "users": [{**u.to_dict(), "title": self.titles.get(u.id, "")}
                          for u in ws.users()],
                "channels": [{
                    "id": c.id, "name": c.name, "is_im": c.is_im,
                    "messages": [self._with_replies(m) for m in ws.messages(c.id)],
                    "ephemerals": [e.to_dict() for e in ws.ephemerals(c.id, user_id)],
                } for c in channels],
                "modal": _top_modal(ws, user_id),
                "home": _home(ws, user_id),
                "connected": self.link is not None,
                "shortcuts": self.shortcuts,
            }
        encoded = json.dumps(seen, sort_keys=True, default=str).encode()
        seen["version"] = hashlib.sha256(encoded).hexdigest()[:16]
        return seen

    def _with_replies(self, message: Message) -> JsonDict:
        replies = self.workspace.thread(message.channel, message.ts) if message.reply_count else []
        return {**self._with_files(message),
                "replies": [self._with_files(r) for r in replies]}

    def _with_files(self, message: Message) -> JsonDict:
        """The message with the files shared in it (as Slack's client shows them)."""
        files = [{"id": f.id, "name": f.name, "title": f.title, "size": f.length,
                  "mimetype": mimetypes.guess_type(f.name)[0] or "application/octet-stream",
                  "url": f"/_ui/file/{f.id}"}
                 for f in self.workspace.files.all()
                 if message.ts in f.shares.get(message.channel, [])]
        return {**message.to_dict(), "files": files}

    async def _index(self, request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def _state(self, request: Request) -> Response:
        user = request.query_params.get("user", "")
        if self.workspace.user(user) is None:
            return _error(404, f"no person {user!r} in this workspace")
        seen = self.seen_by(user)
        if request.query_params.get("known") == seen["version"]:
            return JSONResponse({"version": seen["version"], "unchanged": True})
        return JSONResponse(seen)

    # -- what a person does --------------------------------------------------------------------

    async def _command(self, request: Request) -> Response:
        body = await _json_body(request)
        user, channel = _field(body, "user"), _field(body, "channel")
        command, _, text = _field(body, "text").strip().partition(" ")
        link = self._require_link()
        if not command.startswith("/"):
            return _error(400, "type a slash command, e.g. /bills help")
        if command not in link.commands:
            # What Slack answers for a command no installed app registered.
            self.workspace.post_ephemeral(method="slackbot", channel=channel, user=user,
                                          text=f"`{command}` is not a valid command.",
                                          blocks=None, sender=SLACKBOT)
            return JSONResponse({"ok": True, "outcome": "unknown command"})
        async with self._http() as http:
            response = await self._driver(http).slash_command(user, channel, text.strip(),
                                                              command=command)
        return _answered(response)

    async def _click(self, request: Request) -> Response:
        body = await _json_body(request)
        async with self._http() as http:
            try:
                if body.get("home") is True:
                    response = await self._driver(http).click_home(
                        _field(body, "user"), _field(body, "action_id"),
                        block_id=_field(body, "block_id"))
                    return _answered(response)
                response = await self._driver(http).click(
                    _field(body, "user"), _field(body, "channel"), _field(body, "ts"),
                    _field(body, "action_id"), block_id=_field(body, "block_id"))
            except LookupError as exc:
                return _error(404, str(exc))
        return _answered(response)

    async def _home(self, request: Request) -> Response:
        body = await _json_body(request)
        async with self._http() as http:
            try:
                response = await self._driver(http).open_home(_field(body, "user"))
            except LookupError as exc:
                return _error(404, str(exc))
        if response is None:  # the manifest has no Home tab or no app_home_opened
            return JSONResponse({"ok": False, "error": "this app has no Home tab"})
        return _answered(response)

    async def _submit(self, request: Request) -> Response:
        body = await _json_body(request)
        values = body.get("values")
        if not isinstance(values, dict):
            return _error(400, "values must be an object of block_id -> action_id -> state")
        async with self._http() as http:
            try:
                response = await self._driver(http).submit_view(
                    _field(body, "user"), values, view_id=_field(body, "view_id"))
            except RejectedBySlackClient as rejected:
                # Slack's own client shows these next to the inputs and sends nothing.
                return JSONResponse({"ok": False, "client_errors": rejected.errors})
            except (LookupError, SubmissionError) as exc:
                return _error(409, str(exc))
        return _answered(response)

    async def _click_view(self, request: Request) -> Response:
        body = await _json_body(request)
        async with self._http() as http:
            try:
                response = await self._driver(http).click_in_view(
                    _field(body, "user"), _field(body, "action_id"),
                    block_id=_field(body, "block_id"), view_id=_field(body, "view_id"))
            except LookupError as exc:
                return _error(409, str(exc))
        return _answered(response)

    async def _file(self, request: Request) -> Response:
        """A shared file's bytes, for a person in a channel it was shared in (the client
        shows previews and downloads to those who can see the message)."""
        user = request.query_params.get("user", "")
        stored = self.workspace.files.get(request.path_params["file_id"])
        visible = stored is not None and stored.content is not None and any(
            (c := self.workspace.channel(channel)) is not None and c.has_member(user)
            for channel in stored.shares)
        if not visible or stored is None or stored.content is None:
            return _error(404, "no such file here")
        mimetype = mimetypes.guess_type(stored.name)[0] or "application/octet-stream"
        return Response(stored.content, media_type=mimetype, headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(stored.name)}"})

    async def _upload(self, request: Request) -> Response:
        body = await _json_body(request)
        user, channel = _field(body, "user"), _field(body, "channel")
        async with self._http() as http:
            try:
                posted = post_upload(self._driver(http), body, user, channel,
                                     self.workspace.clock.now().date())
            except UploadRefused as exc:
                return _error(400, str(exc))
            except LookupError as exc:
                return _error(404, str(exc))
        return JSONResponse(posted)

    async def _shortcut(self, request: Request) -> Response:
        body = await _json_body(request)
        async with self._http() as http:
            try:
                response = await self._driver(http).message_shortcut(
                    _field(body, "user"), _field(body, "channel"), _field(body, "ts"),
                    _field(body, "callback_id"))
            except LookupError as exc:
                return _error(404, str(exc))
        return _answered(response)

    async def _close(self, request: Request) -> Response:
        body = await _json_body(request)
        async with self._http() as http:
            try:
                response = await self._driver(http).close_view(_field(body, "user"),
                                                               every=body.get("every") is True)
            except LookupError as exc:
                return _error(409, str(exc))
        return JSONResponse({"ok": True, "notified": response is not None})

    def _http(self) -> httpx.AsyncClient:
        link = self._require_link()
        transport = SocketModeTransport(self.workspace.socket_mode) if link.socket_mode else None
        return httpx.AsyncClient(timeout=APP_TIMEOUT, transport=transport)

    def _driver(self, http: httpx.AsyncClient) -> SlackDriver:
        link = self._require_link()
        return SlackDriver(self.workspace, link.events_url, link.signing_secret, http)

    def _require_link(self) -> AppLink:
        if self.link is None:
            raise _Refused(503, "no app is connected to this workspace yet")
        return self.link

    # -- the accounting side -------------------------------------------------------------------

    async def _books(self, request: Request) -> Response:
        if self.books_url is None:
            return _error(404, "no Codat sandbox is connected to this page")
        async with httpx.AsyncClient(base_url=self.books_url, timeout=10) as http:
            bills = (await http.get("/_sandbox/bills")).raise_for_status().json()
            payments = (await http.get("/_sandbox/payments")).raise_for_status().json()
        return JSONResponse({"bills": [_bill_line(b) for b in bills],
                             "payments": [_payment_line(p) for p in payments]})


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def page_exception_handlers() -> dict[Any, Any]:
    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, _Refused)
        return _error(exc.status, str(exc))

    async def slack_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SlackApiRefusal)
        return _error(400, exc.error)

    return {_Refused: refused, SlackApiRefusal: slack_refused}


def _top_modal(ws: SlackWorkspace, user_id: str) -> JsonDict | None:
    stack = ws.views.stack(user_id)
    if not stack:
        return None
    return {**stack[-1].to_dict(), "depth": len(stack)}


def _home(ws: SlackWorkspace, user_id: str) -> JsonDict | None:
    view = ws.views.home(user_id)
    return None if view is None else view.to_dict()


def _answered(response: BotResponse) -> Response:
    body: JsonDict = {"ok": response.status == 200, "status": response.status,
                      "outcome": response.outcome}
    if response.outcome == "timeout":
        # What Slack's client shows when an app misses the 3-second deadline.
        body["error"] = "billbot did not respond in time (operation_timeout). Try again?"
    return JSONResponse(body)


async def _json_body(request: Request) -> JsonDict:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise _Refused(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise _Refused(400, "the body must be a JSON object")
    return body


def _field(body: JsonDict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _Refused(400, f"{name} is required")
    return value


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


def _amount(value: Any) -> str | None:
    return None if value is None else str(Decimal(str(value)))


def _bill_line(bill: JsonDict) -> JsonDict:
    supplier = bill.get("supplierRef") or {}
    return {"id": bill.get("id"), "reference": bill.get("reference"),
            "supplier": supplier.get("supplierName") or supplier.get("id"),
            "currency": bill.get("currency"), "status": bill.get("status"),
            "amountDue": _amount(bill.get("amountDue")),
            "totalAmount": _amount(bill.get("totalAmount")),
            "dueDate": str(bill.get("dueDate") or "")[:10]}


def _payment_line(payment: JsonDict) -> JsonDict:
    return {"billId": payment.get("billId"), "paymentId": payment.get("paymentId"),
            "amount": _amount(payment.get("amount")), "currency": payment.get("currency"),
            "accountId": payment.get("accountId"), "date": str(payment.get("date") or "")[:10]}
