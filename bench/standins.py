"""The Codat sandbox and the local Slack, in a process of their own, for benchmarks.

    python bench/standins.py --bills 120 --approvers 10 --codat-latency-ms 100

Prints one JSON line (the URLs and ids billbot needs) and serves until its standard input
closes. Keeping the stand-ins out of the benchmark's process means the work billbot does
after acknowledging (Codat reads, chat.update) never competes with the load generator.

Besides the two stand-ins it serves a small control app:
- `POST /prepare` {"clicks": n, "commands": m, "round": r}: the bodies Slack would POST for
  n Approve clicks (approver number r, one bill each) and m slash commands, built by the
  stand-in's own SlackDriver but not sent; the benchmark signs and sends them itself.
- `GET /counts`: Slack Web API calls and Codat requests so far (to wait until billbot is idle).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from billbot.sandbox.codat.app import create_app
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import serve_in_thread
from billbot.sandbox.slack.driver import BotResponse, SlackDriver
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.slackapp.blocks import ACTION_APPROVE

CHANNEL = "C0FINANCE"
API_KEY = "bench-codat-key"
SIGNING_SECRET = "bench-signing-secret"
COMMANDS = ("help", "due 7")


def approver(number: int) -> str:
    return f"U0APPR{number:03d}"


@dataclass
class CapturingDriver(SlackDriver):
    """Builds each request exactly as SlackDriver would, and keeps it instead of sending."""

    captured: list[tuple[bytes, str]] = field(default_factory=list)

    async def post_signed(self, raw_body: bytes | str, content_type: str, *,
                          timestamp: int | str | None = None, signature: str | None = None,
                          extra_headers: Any = None) -> BotResponse:
        body = raw_body.encode() if isinstance(raw_body, str) else raw_body
        self.captured.append((body, content_type))
        return BotResponse(200, {}, b"")


def approve_rows(workspace: SlackWorkspace) -> list[tuple[str, str]]:
    """(message ts, actions block_id) of every bill row with an Approve button, in order."""
    rows: list[tuple[str, str]] = []
    top = [m for m in workspace.messages(CHANNEL) if m.bot_id]
    for message in top:
        for m in workspace.thread(CHANNEL, message.ts) or [message]:
            for block in m.blocks:
                if block.get("type") != "actions":
                    continue
                if any(e.get("action_id") == ACTION_APPROVE for e in block.get("elements", [])):
                    rows.append((m.ts, str(block["block_id"])))
    return rows


def control_app(workspace: SlackWorkspace, state: SandboxState) -> Starlette:
    async def prepare(request: Request) -> JSONResponse:
        spec = await request.json()
        async with httpx.AsyncClient() as http:
            driver = CapturingDriver(workspace, "http://unused", SIGNING_SECRET, http)
            rows = approve_rows(workspace)
            user = approver(int(spec.get("round", 0)))
            for ts, block_id in rows[: int(spec.get("clicks", 0))]:
                await driver.click(user, CHANNEL, ts, ACTION_APPROVE, block_id=block_id)
            for i in range(int(spec.get("commands", 0))):
                await driver.slash_command(user, CHANNEL, COMMANDS[i % len(COMMANDS)])
            if spec.get("digest"):
                await driver.slash_command(user, CHANNEL, "digest")
        return JSONResponse({"requests": [{"body": b.decode(), "content_type": ct}
                                          for b, ct in driver.captured],
                             "rows": len(rows)})

    async def counts(_: Request) -> JSONResponse:
        return JSONResponse({"slack_calls": len(workspace.calls()),
                             "codat_requests": len(state.requests),
                             "chat_update": len(workspace.calls("chat.update")),
                             "response_url": len(workspace.calls("response_url")),
                             "violations": len(workspace.violations)})

    return Starlette(routes=[Route("/prepare", prepare, methods=["POST"]),
                             Route("/counts", counts, methods=["GET"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=120)
    parser.add_argument("--approvers", type=int, default=10)
    parser.add_argument("--codat-latency-ms", type=int, default=100)
    args = parser.parse_args(argv)

    state = SandboxState.seeded(bills=args.bills, due_soon=args.bills)
    state.faults.latency_ms = args.codat_latency_ms
    codat = serve_in_thread(create_app(state, api_key=API_KEY))
    workspace = SlackWorkspace(bot_tokens=["xoxb-bench"])  # the token ack_latency.py uses
    for n in range(args.approvers):
        workspace.add_user(approver(n), f"approver{n}")
    workspace.add_channel(CHANNEL, "finance")
    slack = serve_slack_standin(workspace)
    control = serve_in_thread(control_app(workspace, state))
    print(json.dumps({"codat_base_url": codat.base_url, "slack_api_url": workspace.api_url,
                      "control_url": control.base_url, "company_id": state.main_company_id,
                      "connection_id": state.main_connection_id, "channel": CHANNEL,
                      "approvers": [approver(n) for n in range(args.approvers)],
                      "codat_api_key": API_KEY, "signing_secret": SIGNING_SECRET}), flush=True)
    try:
        sys.stdin.read()  # until the benchmark closes our stdin (or dies)
    finally:
        control.stop()
        slack.stop()
        codat.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
