"""`billbot run`: the Bolt app served over HTTP by uvicorn, plus the scheduler and Socket Mode.

    POST /slack/events   slash commands, interactivity and Events API callbacks (signed)
    GET  /slack/install, /slack/oauth_redirect   OAuth mode: Slack's install flow
    GET  /healthz        200 while the process is alive (liveness)
    GET  /readyz         200 when the database, Slack (auth.test) and Codat all answer;
                         503 naming what is not ready (readiness; probes cached briefly)
    GET  /metrics        Prometheus' text format (billbot.metrics; README "Metrics")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from billbot import metrics
from billbot.clock import Clock
from billbot.collector import settle_after_startup
from billbot.config import ConfigError, Settings, load_settings
from billbot.jobs.catalog import recovery_tick as recovery_tick  # tests and tools call it here
from billbot.jobs.drivers import JobDriver, build_job_driver
from billbot.logs import configure_logging
from billbot.malloc import cap_malloc_arenas
from billbot.readiness import CachedProbe, Probe, Readiness, probe_codat, probe_codat_client, probe_slack
from billbot.runtime import Billbot, build_billbot
from billbot.services import intents
from billbot.slackapp import request_gate
from billbot.slackapp.app import build_bolt_app
from billbot.startup_checks import (
    check_credentials,
    refusal_message,
    slack_client,
    stored_tokens_problem,
)
from billbot.storage.db import parse_database_url

logger = logging.getLogger("billbot.server")

# Slack's payloads are a few KB; a large body is refused before it is parsed or verified.
MAX_BODY_BYTES = 256 * 1024


def create_web_app(bot: Billbot, bolt: AsyncApp, *, run_scheduler: bool = True,
                   own_process: bool = False) -> Starlette:
    """`own_process`: the app is the process's only tenant (`billbot run`), so it may tune the
    interpreter (freeze what start-up loaded); tests and the demo share their process."""
    secret = bot.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None

    async def slack_events(request: Request) -> Response:
        with bot.ack_first.awaiting_answer():
            return await _slack_events(request, time.perf_counter())

    async def _slack_events(request: Request, arrived: float) -> Response:
        if verifier is None:
            # Socket Mode only: there is no secret to verify HTTP requests with, so none is taken.
            return JSONResponse({"error": "invalid request"}, status_code=401)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            return JSONResponse({"error": "request too large"}, status_code=413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return JSONResponse({"error": "request too large"}, status_code=413)
        if _is_ssl_check(body, request.headers.get("content-type", "")):
            # Slack's certificate check is unsigned; Bolt answers it 200 before verifying.
            return Response(status_code=200, content=b"")
        # Checked here as well as by Bolt, so that the shape check below only ever answers
        # signed requests (an unsigned one gets 401 whatever its body).
        if not request_gate.signed(verifier, body, request.headers):
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            bolt_request = request_gate.bolt_request(body, request.headers, request.url.query)
        except request_gate.Malformed as exc:
            logger.warning("malformed signed request refused: %s", exc)
            return JSONResponse({"error": "malformed request"}, status_code=400)
        answer = await bolt.async_dispatch(bolt_request)
        metrics.ack_seconds(_request_kind(bolt_request.body), time.perf_counter() - arrived)
        # Only the install pages (below) set cookies.
        return Response(status_code=answer.status, content=answer.body,
                        headers=answer.first_headers_without_set_cookie())

    async def oauth_page(request: Request) -> Response:
        """OAuth mode: `/slack/install` (a fresh state, its cookie, Slack's authorize page)
        and `/slack/oauth_redirect` (the code exchanged and the installation stored)."""
        flow = bolt.oauth_flow
        if flow is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        bolt_request = AsyncBoltRequest(body="", query=request.url.query,
                                        headers=dict(request.headers))
        if request.url.path == flow.install_path:
            answer = await flow.handle_installation(bolt_request)
        else:
            answer = await flow.handle_callback(bolt_request)
        response = Response(status_code=answer.status, content=answer.body,
                            headers=answer.first_headers_without_set_cookie())
        for cookie in answer.headers.get("set-cookie", []):
            response.headers.append("set-cookie", cookie)
        return response

    readiness = build_readiness(bot)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(_: Request) -> Response:
        results = await readiness.check()
        waiting = {name: probe.reason for name, probe in results.items() if not probe.ok}
        return JSONResponse({"ok": not waiting, "not_ready": waiting},
                            status_code=503 if waiting else 200)

    async def metrics_page(_: Request) -> Response:
        open_intents = await bot.db(intents.open_count, read_only=True)
        return Response(metrics.render(metrics.ScrapeFigures(open_payment_intents=open_intents)),
                        media_type=metrics.CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await bot.startup()
        # What is loaded now lives as long as the process: frozen out of the collector's
        # reach, and full collections (every thread paused) made rare (billbot/collector.py).
        if own_process:
            settle_after_startup()
        jobs: JobDriver | None = None
        socket_handler: Any = None
        connecting: asyncio.Task[None] | None = None
        if run_scheduler:
            # Digests, reminders and recovery: PostgreSQL's shared job queue, or in process.
            jobs = build_job_driver(bot)
            await jobs.start()
        if bot.settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            socket_handler = AsyncSocketModeHandler(
                bolt, bot.settings.slack_app_token.get_secret_value())
            # Connecting in the background: slack_sdk retries a refused or unreachable
            # connection for ever, which must neither block start-up nor a shutdown signal.
            connecting = asyncio.create_task(_connect_socket_mode(socket_handler, bot.settings))
        try:
            yield
        finally:
            if connecting is not None:
                connecting.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await connecting
            if socket_handler is not None:
                with contextlib.suppress(Exception):
                    await socket_handler.close_async()
            if jobs is not None:
                await jobs.stop()
            await bot.shutdown()

    return Starlette(routes=[Route("/slack/events", _timed("/slack/events", slack_events),
                                   methods=["POST"]),
                             Route("/slack/install", _timed("/slack/install", oauth_page),
                                   methods=["GET"]),
                             Route("/slack/oauth_redirect",
                                   _timed("/slack/oauth_redirect", oauth_page), methods=["GET"]),
                             Route("/healthz", _timed("/healthz", healthz), methods=["GET"]),
                             Route("/readyz", _timed("/readyz", readyz), methods=["GET"]),
                             Route("/metrics", _timed("/metrics", metrics_page), methods=["GET"])],
                     lifespan=lifespan)


def _timed(route: str, handler: Callable[[Request], Awaitable[Response]]
           ) -> Callable[[Request], Awaitable[Response]]:
    async def timed(request: Request) -> Response:
        started = time.perf_counter()
        response = await handler(request)
        metrics.request_seconds(route, response.status_code, time.perf_counter() - started)
        return response
    return timed


def _request_kind(body: dict[str, Any]) -> str:
    """A bounded label for the ack histogram: Slack's payload type, or `command`."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return kind if isinstance(kind, str) and kind in _KINDS else "other"


_KINDS = frozenset({"block_actions", "view_submission", "view_closed", "block_suggestion",
                    "shortcut", "message_action", "event_callback", "url_verification"})


def _is_ssl_check(body: bytes, content_type: str) -> bool:
    if not content_type.lower().startswith("application/x-www-form-urlencoded"):
        return False
    return parse_qs(body.decode("utf-8", "replace")).get("ssl_check") == ["1"]


def build_readiness(bot: Billbot) -> Readiness:
    async def database() -> Probe:
        return Probe(ok=True) if await bot.database_ready() else Probe(
            ok=False, reason="the database does not answer")

    probes = [CachedProbe("database", database, ttl=2.0)]
    token = bot.settings.slack_bot_token
    if token:
        client = slack_client(bot.settings, token.get_secret_value())
        probes.append(CachedProbe("slack", lambda: probe_slack(client)))
    codat = probe_codat_client(bot.codat.sync)
    probes.append(CachedProbe("codat", lambda: probe_codat(codat)))
    return Readiness(probes)


async def _connect_socket_mode(handler: Any, settings: Settings) -> None:
    """Wait until Slack answers for the app token, then connect. slack_sdk alone retries a
    refused token every 10 s for ever: a refusal is billbot's own error, and it stops trying
    (`billbot run` already stopped at start on a refusal; this covers one revoked since)."""
    assert settings.slack_app_token is not None
    probe_client = slack_client(settings, settings.slack_app_token.get_secret_value())
    wait = 1.0
    while True:
        probe = await probe_slack(probe_client, method="apps.connections.open")
        if probe.ok:
            break
        if probe.refused:
            logger.error("socket mode could not connect: SLACK_APP_TOKEN refused (%s)",
                         probe.reason)
            return
        logger.warning("socket mode waiting for Slack: %s", probe.reason)
        await asyncio.sleep(wait)
        wait = min(wait * 2, 30.0)
    try:
        await handler.connect_async()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        logger.error("socket mode could not connect: %s", exc.__class__.__name__)
        return
    logger.info("socket mode connected")


def build_web_app(settings: Settings, *, run_scheduler: bool = True, own_process: bool = False,
                  clock: Clock | None = None) -> tuple[Starlette, Billbot]:
    bot = build_billbot(settings, clock=clock)
    return create_web_app(bot, build_bolt_app(bot), run_scheduler=run_scheduler,
                          own_process=own_process), bot


def serve_bot(*, host: str, port: int, workers: int = 1) -> int:
    cap_malloc_arenas()  # before the threads that would each take an arena
    try:
        settings = load_settings("run")
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    postgres = parse_database_url(settings.database_url).get_backend_name() == "postgresql"
    if workers > 1 and not postgres:
        # SQLite's jobs run in the one process (billbot.jobs.local): a second process would
        # run a second scheduler on the same file, and its writers would queue on one lock.
        sys.stderr.write("billbot run --workers needs PostgreSQL (DATABASE_URL=postgresql://"
                         "...): with SQLite billbot runs as one process; run it without "
                         "--workers.\n")
        return 2
    if not settings.billbot_run_jobs and not postgres:
        sys.stderr.write("BILLBOT_RUN_JOBS=false needs PostgreSQL (DATABASE_URL=postgresql://"
                         "...): with SQLite the one process runs the digests, reminders and "
                         "payment recovery, so nothing else would.\n")
        return 2
    configure_logging(settings.secret_values(),
                      level=logging.getLevelName(settings.billbot_log_level.upper()))
    unreadable = stored_tokens_problem(settings)
    if unreadable:
        sys.stderr.write(f"{unreadable}\n")
        return 3
    results = asyncio.run(check_credentials(settings))
    refused = refusal_message(results)
    if refused:
        sys.stderr.write(f"{refused}\n")
        return 3
    for name, probe in sorted(results.items()):
        if not probe.ok:
            logger.warning("%s not checked yet: %s; /readyz answers 503 until it answers",
                           name, probe.reason)
    logger.info("billbot listening", extra={"fields": {
        "host": host, "port": port, "workers": workers, "jobs": settings.billbot_run_jobs}})
    if workers > 1:
        # uvicorn binds the port once and starts `workers` processes on it, each building
        # its own app (and job worker) through worker_app; a worker that dies is replaced.
        # /metrics sums every process's figures through the directory they share.
        shared, made_here = metrics.prepare_multiprocess_dir()
        try:
            uvicorn.run("billbot.server:worker_app", factory=True, workers=workers, host=host,
                        port=port, log_config=None, access_log=False,
                        timeout_graceful_shutdown=10)
        finally:
            if made_here:
                shutil.rmtree(shared, ignore_errors=True)
        return 0
    app, _ = build_web_app(settings, own_process=True, run_scheduler=settings.billbot_run_jobs)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                timeout_graceful_shutdown=10)
    return 0


def worker_app() -> Starlette:
    """One process of `billbot run --workers N` (uvicorn calls this in each of them); the
    parent checked the settings and credentials already (and passed the arena cap)."""
    cap_malloc_arenas()
    settings = load_settings("run")
    configure_logging(settings.secret_values(),
                      level=logging.getLevelName(settings.billbot_log_level.upper()))
    app, _ = build_web_app(settings, own_process=True, run_scheduler=settings.billbot_run_jobs)
    return app
