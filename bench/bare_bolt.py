"""A Bolt app that only acknowledges: the floor billbot's acknowledgement times are held to.

    SLACK_SIGNING_SECRET=... python bench/bare_bolt.py --port 3001

Served exactly as `billbot run` serves billbot (Bolt's Starlette adapter under uvicorn, one
process, signature verification on), so the difference measured is billbot's own work
before `ack()`: the repeat check in the database and the listener's routing.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from typing import Any

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def build(signing_secret: str) -> Starlette:
    async def authorize(**_: Any) -> AuthorizeResult:
        # A fixed installation: no auth.test call (billbot's is made once and cached).
        return AuthorizeResult(enterprise_id=None, team_id="T0BENCH", bot_user_id="U0BOT",
                               bot_id="B0BOT", bot_token="xoxb-bare")

    bolt = AsyncApp(signing_secret=signing_secret, authorize=authorize,
                    raise_error_for_unhandled_request=False, logger=logging.getLogger("bare"))

    @bolt.command(re.compile(".*"))
    async def command(ack: Any) -> None:
        await ack()

    @bolt.action(re.compile(".*"))
    async def action(ack: Any) -> None:
        await ack()

    @bolt.view(re.compile(".*"))
    async def view(ack: Any) -> None:
        await ack()

    handler = AsyncSlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"]),
                             Route("/healthz", healthz, methods=["GET"])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    args = parser.parse_args(argv)
    uvicorn.run(build(os.environ["SLACK_SIGNING_SECRET"]), host=args.host, port=args.port,
                log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
