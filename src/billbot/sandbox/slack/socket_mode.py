"""Socket Mode as Slack runs it, served by the stand-in itself.

An app calls `apps.connections.open` with an app-level token (`xapp-...`) the workspace
issued and gets a one-time WebSocket URL (`ws://<stand-in>/link/?ticket=...&app_id=...`,
shaped like Slack's `wss://wss-primary.slack.com/link/?ticket=...`). On connecting it receives

    {"type": "hello", "num_connections": 1, "debug_info": {...}, "connection_info": {...}}

and from then on Slack's deliveries arrive as envelopes instead of HTTP requests:

    {"envelope_id": "...", "type": "slash_commands" | "interactive" | "events_api",
     "payload": {...}, "accepts_response_payload": true | false}

(events_api envelopes also carry `retry_attempt` and `retry_reason`). The app acknowledges
each with `{"envelope_id": "...", "payload": {...}}` within 3 seconds; the payload is what an
HTTP app would have answered (a command's reply, `response_action` for a submission) and
is only read where `accepts_response_payload` is true. `disconnect` asks the app to reconnect
(`refresh_requested`, `warning`, `link_disabled`).

The hub lives on the event loop that serves the stand-in; `deliver()` may be awaited from any
loop (tests run their own).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from billbot.clock import Clock
from billbot.sandbox.slack.errors import SlackApiRefusal
from billbot.sandbox.slack.model import JsonDict

# Scopes each method here needs: app-level tokens carry `connections:write`, not a bot scope.
SCOPES: dict[str, tuple[str, ...]] = {"apps.connections.open": ("connections:write",)}

ACK_DEADLINE_SECONDS = 3.0  # Slack's: an envelope not acknowledged by then has failed
TICKET_LIFETIME = timedelta(seconds=30)  # a connection URL is to be used at once
MAX_CONNECTIONS = 10  # Slack's limit of open connections per app
DISCONNECT_REASONS = frozenset({"refresh_requested", "warning", "link_disabled"})
# Where Slack answers with a payload the app's ack may carry (the rest ignore it).
_RESPONSE_PAYLOAD_TYPES = frozenset({"view_submission", "block_suggestion"})


@dataclass
class Delivery:
    """One envelope sent to the app and what came back."""

    envelope: JsonDict
    ack: JsonDict | None = None  # the ack's payload ({} when the ack carried none)
    acked: bool = False
    late_ack: bool = False  # acknowledged after the deadline: Slack had given up already


@dataclass
class _Connection:
    number: int
    socket: WebSocket
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    draining: bool = False  # told to reconnect: nothing new goes here


class NoSocketConnection(Exception):
    """The app has no open Socket Mode connection, so Slack cannot deliver anything."""


class SocketModeHub:
    """The workspace's Socket Mode side: app tokens, connection URLs, live connections."""

    def __init__(self, clock: Clock, app_id: str, base_url: Callable[[], str | None],
                 app_tokens: set[str], *, ack_deadline: float = ACK_DEADLINE_SECONDS) -> None:
        """`app_tokens`: the workspace's issued app-level tokens (shared, so the Web API's
        token checks and this hub agree on them)."""
        self._clock, self._app_id, self._base_url = clock, app_id, base_url
        self.ack_deadline = ack_deadline
        self._lock = threading.Lock()
        self._app_tokens = app_tokens
        self._tickets: dict[str, datetime] = {}
        self._connections: list[_Connection] = []
        self._pending: dict[str, asyncio.Future[JsonDict]] = {}
        self._deliveries: list[Delivery] = []
        self._serial = 0
        self._turn = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- tokens and connection URLs ----------------------------------------------------------

    def issue_app_token(self) -> str:
        """An app-level token with `connections:write`, as an admin creates one for the app."""
        with self._lock:
            self._serial += 1
            token = f"xapp-1-{self._app_id}-{self._serial}-{secrets.token_hex(32)}"
            self._app_tokens.add(token)
            return token

    def revoke_app_token(self, token: str) -> None:
        with self._lock:
            self._app_tokens.discard(token)

    def open_connection(self, token: str | None) -> JsonDict:
        """apps.connections.open: only an app token this workspace issued gets a URL."""
        if not token:
            raise SlackApiRefusal("not_authed")
        if not token.startswith("xapp-"):
            raise SlackApiRefusal("not_allowed_token_type")
        with self._lock:
            if token not in self._app_tokens:
                raise SlackApiRefusal("invalid_auth")
            ticket = secrets.token_hex(16)
            self._tickets[ticket] = self._clock.now()
        base = self._base_url() or "http://slack-standin.invalid"
        ws_base = "ws://" + base.removeprefix("http://") if base.startswith("http://") \
            else "wss://" + base.removeprefix("https://")
        return {"url": f"{ws_base}/link/?ticket={ticket}&app_id={self._app_id}"}

    def _redeem(self, ticket: str | None) -> bool:
        with self._lock:
            issued = self._tickets.pop(ticket, None) if ticket else None
            return issued is not None and self._clock.now() - issued <= TICKET_LIFETIME

    # -- what tests read ---------------------------------------------------------------------

    @property
    def connected(self) -> int:
        """Open connections that still take deliveries."""
        with self._lock:
            return sum(1 for c in self._connections if not c.draining)

    def deliveries(self, envelope_type: str | None = None) -> list[Delivery]:
        with self._lock:
            return [d for d in self._deliveries
                    if envelope_type is None or d.envelope["type"] == envelope_type]

    # -- the WebSocket endpoint --------------------------------------------------------------

    def routes(self) -> list[WebSocketRoute]:
        return [WebSocketRoute("/link/", self._serve), WebSocketRoute("/link", self._serve)]

    async def _serve(self, websocket: WebSocket) -> None:
        if not self._redeem(websocket.query_params.get("ticket")):
            await websocket.close(code=1008)  # the handshake is refused (HTTP 403)
            return
        with self._lock:
            too_many = len(self._connections) >= MAX_CONNECTIONS
        if too_many:
            await websocket.close(code=1008)
            return
        await websocket.accept()
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._serial += 1
            connection = _Connection(self._serial, websocket)
            self._connections.append(connection)
            count = len(self._connections)
        try:
            await self._send(connection, {
                "type": "hello", "num_connections": count,
                "debug_info": {"host": "applink-standin", "build_number": 1,
                               "approximate_connection_time": 18060},
                "connection_info": {"app_id": self._app_id}})
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None and message.get("bytes") is not None:
                    text = message["bytes"].decode("utf-8", errors="replace")
                if text:
                    self._on_ack(text)
        except WebSocketDisconnect:
            pass
        finally:
            with self._lock:
                self._connections.remove(connection)

    def _on_ack(self, text: str) -> None:
        try:
            ack = json.loads(text)
        except ValueError:
            return  # Slack ignores what is not an ack
        if not isinstance(ack, dict) or not isinstance(ack.get("envelope_id"), str):
            return
        payload = ack.get("payload")
        with self._lock:
            future = self._pending.pop(ack["envelope_id"], None)
            if future is None:
                for delivery in self._deliveries:
                    if delivery.envelope["envelope_id"] == ack["envelope_id"]:
                        delivery.late_ack = True
                return
        if not future.done():
            future.set_result(payload if isinstance(payload, dict) else {})

    async def _send(self, connection: _Connection, message: JsonDict) -> None:
        async with connection.send_lock:
            await connection.socket.send_text(json.dumps(message, separators=(",", ":")))

    # -- deliveries ----------------------------------------------------------------------------

    async def deliver(self, envelope_type: str, payload: JsonDict, *,
                      retry_attempt: int = 0, retry_reason: str = "") -> Delivery:
        """Send one envelope and wait (up to the ack deadline) for its ack; awaitable from any
        event loop. Raises NoSocketConnection when the app is not connected."""
        loop = self._loop
        if loop is None or not self.connected:
            raise NoSocketConnection("the app has no open Socket Mode connection")
        work = self._deliver(envelope_type, payload, retry_attempt, retry_reason)
        if asyncio.get_running_loop() is loop:
            return await work
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))

    async def _deliver(self, envelope_type: str, payload: JsonDict, retry_attempt: int,
                       retry_reason: str) -> Delivery:
        envelope: JsonDict = {"envelope_id": secrets.token_hex(18), "payload": payload,
                              "type": envelope_type,
                              "accepts_response_payload": _accepts_response(envelope_type,
                                                                            payload)}
        if envelope_type == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        future: asyncio.Future[JsonDict] = asyncio.get_running_loop().create_future()
        delivery = Delivery(envelope)
        with self._lock:
            live = [c for c in self._connections if not c.draining]
            if not live:
                raise NoSocketConnection("the app has no open Socket Mode connection")
            # Slack spreads deliveries over the app's connections.
            self._turn += 1
            connection = live[self._turn % len(live)]
            self._pending[envelope["envelope_id"]] = future
            self._deliveries.append(delivery)
        try:
            await self._send(connection, envelope)
            ack = await asyncio.wait_for(future, self.ack_deadline)
        except (TimeoutError, WebSocketDisconnect, RuntimeError):
            with self._lock:
                self._pending.pop(envelope["envelope_id"], None)
            return delivery
        delivery.acked = True
        delivery.ack = ack if envelope["accepts_response_payload"] else {}
        return delivery

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Tell every connection to reconnect; awaitable from any loop. Slack closes the old
        connection itself soon after (here: once the app has opened a new one, or 10 s)."""
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"Slack sends no disconnect reason {reason!r}")
        loop = self._loop
        if loop is None:
            return
        work = self._disconnect(reason)
        if asyncio.get_running_loop() is loop:
            await work
        else:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))

    async def _disconnect(self, reason: str) -> None:
        with self._lock:
            old = [c for c in self._connections if not c.draining]
            for connection in old:
                connection.draining = True
        for connection in old:
            with contextlib.suppress(Exception):
                await self._send(connection, {"type": "disconnect", "reason": reason,
                                              "debug_info": {"host": "applink-standin"}})
        asyncio.get_running_loop().create_task(self._close_later(old))

    async def _close_later(self, old: Iterable[_Connection]) -> None:
        for _ in range(100):
            if self.connected or _all_closed(old):
                break
            await asyncio.sleep(0.1)
        for connection in old:
            with contextlib.suppress(Exception):
                await connection.socket.close(code=1000)


def _all_closed(connections: Iterable[_Connection]) -> bool:
    """True once none of these connections is open any more (the app closed them itself)."""
    return all(c.socket.client_state.name == "DISCONNECTED" for c in connections)


def _accepts_response(envelope_type: str, payload: Any) -> bool:
    if envelope_type == "slash_commands":
        return True
    if envelope_type == "interactive" and isinstance(payload, dict):
        return payload.get("type") in _RESPONSE_PAYLOAD_TYPES
    return False
