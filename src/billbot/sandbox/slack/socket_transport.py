"""Lets SlackDriver deliver over Socket Mode without knowing it: an httpx transport that turns
each request the driver would POST to the app's request URL into the envelope Slack sends
over the app's WebSocket, and the app's ack back into the HTTP answer the driver reads.

    http = httpx.AsyncClient(transport=SocketModeTransport(workspace.socket_mode))
    driver = SlackDriver(workspace, "socket-mode://app", "", http)

The mapping is Slack's own: a slash command's form fields become the `slash_commands`
payload, an interaction's `payload=` JSON the `interactive` payload, an Events API body the
`events_api` payload (retry headers become `retry_attempt`/`retry_reason`). Signatures are
not sent: Socket Mode has none.

The ack comes back as `200` with the ack's payload as the JSON body (empty when it carried
none, as an empty HTTP 200). No ack within the deadline answers `504`, and no connection
`503`: the driver then shows the person Slack's failure, as it does for an HTTP app.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import httpx

from billbot.sandbox.slack.model import JsonDict
from billbot.sandbox.slack.socket_mode import NoSocketConnection, SocketModeHub

NO_ACK_STATUS = 504
NOT_CONNECTED_STATUS = 503


class SocketModeTransport(httpx.AsyncBaseTransport):
    def __init__(self, hub: SocketModeHub) -> None:
        self.hub = hub

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        envelope_type, payload = envelope_for(request.headers.get("content-type", ""),
                                              await request.aread())
        retry = request.headers.get("x-slack-retry-num")
        try:
            delivery = await self.hub.deliver(
                envelope_type, payload, retry_attempt=int(retry) if retry else 0,
                retry_reason=request.headers.get("x-slack-retry-reason", ""))
        except NoSocketConnection:
            return httpx.Response(NOT_CONNECTED_STATUS, request=request)
        if not delivery.acked:
            return httpx.Response(NO_ACK_STATUS, request=request)
        body = json.dumps(delivery.ack).encode() if delivery.ack else b""
        headers = {"content-type": "application/json"} if body else {}
        return httpx.Response(200, content=body, headers=headers, request=request)


def envelope_for(content_type: str, body: bytes) -> tuple[str, JsonDict]:
    """The envelope type and payload Slack sends for what it would have POSTed."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        event = json.loads(body)
        if not isinstance(event, dict):
            raise ValueError("an Events API body is a JSON object")
        return "events_api", event
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    if "payload" in fields:
        payload = json.loads(fields["payload"])
        if not isinstance(payload, dict):
            raise ValueError("an interaction payload is a JSON object")
        return "interactive", payload
    return "slash_commands", dict(fields)
