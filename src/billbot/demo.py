"""`billbot demo`: the whole product offline, with no credentials.

Three servers on loopback, each in its own thread, wired exactly as in production:
the seeded Codat sandbox, a local Slack workspace (its Web API and the page people use),
and billbot itself serving `POST /slack/events` with its scheduler running. Tokens, the
signing secret and the Codat key are made up per run; the database is a SQLite file under
the data directory, started afresh each run because the sandbox is seeded afresh.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from billbot.config import ConfigError, Settings, load_settings
from billbot.logs import configure_logging
from billbot.runtime import Billbot
from billbot.sandbox.codat.app import create_app
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import ServedApp, serve_in_thread
from billbot.sandbox.slack.page import WorkspacePage
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.server import build_web_app
from billbot.slackapp.digests import scheduled_digest

DEFAULT_DATA_DIR = Path(".billbot-demo")
FINANCE_CHANNEL = "C0FINANCE"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    real_name: str
    title: str


ANN = Person("U0ANN", "ann", "Ann Archer", "Approver")
BEN = Person("U0BEN", "ben", "Ben Brooks", "Approver")
PAT = Person("U0PAT", "pat", "Pat Price", "Payer")
ADA = Person("U0ADA", "ada", "Ada Adams", "Admin")
OSCAR = Person("U0OSCAR", "oscar", "Oscar Ortiz", "No finance role")
PEOPLE = (ANN, BEN, PAT, ADA, OSCAR)


@dataclass
class Demo:
    """A running demo; `url` is the page to open. `stop()` ends every server."""

    url: str
    sandbox: SandboxState
    workspace: SlackWorkspace
    bot: Billbot
    settings: Settings
    codat_url: str
    bot_url: str
    data_dir: Path
    digest_ts: list[str]
    _stack: ExitStack = field(repr=False)

    @property
    def channel_id(self) -> str:
        return FINANCE_CHANNEL

    def stop(self) -> None:
        self._stack.close()


def demo_settings(*, slack_api_url: str, slack_bot_token: str, codat_url: str, codat_key: str,
                  signing_secret: str, company_id: str, connection_id: str, database_url: str,
                  app_token: str | None = None) -> Settings:
    """The demo's wiring and roles; BILLBOT_* policy variables from the environment still
    apply (e.g. BILLBOT_DUAL_APPROVAL_OVER), a `.env` file does not."""
    values: dict[str, Any] = {
        "slack_bot_token": slack_bot_token,
        "slack_signing_secret": signing_secret, "slack_app_token": app_token,
        "slack_api_url": slack_api_url, "codat_api_key": codat_key, "codat_base_url": codat_url,
        "codat_company_id": company_id, "codat_connection_id": connection_id,
        "billbot_channel": FINANCE_CHANNEL,
        "billbot_approvers": frozenset({ANN.user_id, BEN.user_id}),
        "billbot_payers": frozenset({PAT.user_id}),
        "billbot_admins": frozenset({ADA.user_id}),
        # The demo shows the DM cards too (BILLBOT_NOTIFY in the environment still decides).
        "billbot_notify": os.environ.get("BILLBOT_NOTIFY", "both"),
        "database_url": database_url,
    }
    return load_settings("demo", _env_file=None, **values)


class DemoBusy(Exception):
    """Another demo holds the data directory, or the port is taken; nothing was touched."""


LOCK_NAME = "demo.lock"


def claim_data_dir(data_dir: Path) -> IO[str]:
    """An exclusive lock on the data directory, held (by the open file) while the demo runs;
    taken before anything in it is deleted, so a second demo never touches a running one's
    database or log. The operating system releases it when the process ends, even killed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_NAME).open("a", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise DemoBusy(f"another billbot demo is running with the data directory "
                           f"{data_dir}; stop it first, or pass another --data-dir") from None
        raise
    return handle


def check_port_free(host: str, port: int) -> None:
    """Fail before anything is deleted when the page's port is taken (0 picks a free one)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a stopped demo is free, a listening
        # one is not (Linux refuses SO_REUSEADDR binds onto a listener).
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise DemoBusy(f"port {port} on {host} is in use (another billbot demo?); "
                           f"stop it, or pass another --port") from None


def fresh_database(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    db = (data_dir / "billbot.db").resolve()
    for leftover in (db, db.with_name("billbot.db-wal"), db.with_name("billbot.db-shm")):
        leftover.unlink(missing_ok=True)
    return f"sqlite:///{db}"


def start_demo(*, host: str = "127.0.0.1", port: int = 0,
               data_dir: Path = DEFAULT_DATA_DIR, socket_mode: bool = False,
               claimed: IO[str] | None = None) -> Demo:
    """Start the sandbox, the workspace and billbot; post the digest; return once ready.
    With `socket_mode`, people's actions reach billbot over its Socket Mode connection.
    `claimed`: the data directory's lock, when the caller took it (DemoBusy otherwise)."""
    stack = ExitStack()
    try:
        stack.enter_context(claimed or claim_data_dir(data_dir))
        check_port_free(host, port)
        return _start(stack, host, port, data_dir, socket_mode)
    except BaseException:
        stack.close()
        raise


def _start(stack: ExitStack, host: str, port: int, data_dir: Path, socket_mode: bool) -> Demo:
    database_url = fresh_database(data_dir)
    codat_key = secrets.token_urlsafe(18)
    signing_secret = secrets.token_hex(16)

    sandbox = SandboxState.seeded()
    codat = _served(stack, serve_in_thread(create_app(sandbox, api_key=codat_key), host=host))

    workspace = SlackWorkspace(team_name="Acme Ltd (local Slack)")
    for person in PEOPLE:
        workspace.add_user(person.user_id, person.name, person.real_name)
    workspace.add_channel(FINANCE_CHANNEL, "finance")
    page = WorkspacePage(workspace, titles={p.user_id: p.title for p in PEOPLE},
                         books_url=codat.base_url)
    slack = _served(stack, serve_slack_standin(workspace, host=host, port=port, page=page))

    settings = demo_settings(slack_api_url=workspace.api_url, slack_bot_token=workspace.bot_token,
                             codat_url=codat.base_url,
                             codat_key=codat_key, signing_secret=signing_secret,
                             company_id=sandbox.main_company_id,
                             connection_id=sandbox.main_connection_id, database_url=database_url,
                             app_token=workspace.socket_mode.issue_app_token() if socket_mode
                             else None)
    app, bot = build_web_app(settings, run_scheduler=True)
    served_bot = _served(stack, serve_in_thread(app, host=host))
    page.connect(served_bot.base_url + "/slack/events", signing_secret, socket_mode=socket_mode)
    if socket_mode:
        _await_socket_mode(workspace)

    # Today's digest, claimed as the scheduler claims it, so its tick does not post it again.
    binding = served_bot.run(bot.binding_for(FINANCE_CHANNEL))
    assert binding is not None, "the default binding is made at startup"
    served_bot.run(scheduled_digest(bot, binding, bot.today()))
    digest = [m.ts for m in workspace.messages(FINANCE_CHANNEL) if m.bot_id]
    return Demo(url=slack.base_url + "/", sandbox=sandbox, workspace=workspace, bot=bot,
                settings=settings, codat_url=codat.base_url, bot_url=served_bot.base_url,
                data_dir=data_dir, digest_ts=digest, _stack=stack)


def _await_socket_mode(workspace: SlackWorkspace, within: float = 15.0) -> None:
    """billbot connects in the background at start-up; the page needs the connection."""
    deadline = time.monotonic() + within
    while not workspace.socket_mode.connected:
        if time.monotonic() > deadline:
            raise RuntimeError("billbot did not open its Socket Mode connection")
        time.sleep(0.05)


def _served(stack: ExitStack, served: ServedApp) -> ServedApp:
    stack.callback(served.stop)
    return served


def run_demo(*, host: str, port: int, data_dir: Path, out: IO[str] = sys.stdout,
             socket_mode: bool = False) -> int:
    """The command: start, print the one URL, serve until Ctrl-C, stop everything."""
    try:
        claimed = claim_data_dir(data_dir)
    except DemoBusy as exc:
        sys.stderr.write(f"billbot demo: {exc}\n")
        return 1
    try:
        check_port_free(host, port)
    except DemoBusy as exc:
        claimed.close()
        sys.stderr.write(f"billbot demo: {exc}\n")
        return 1
    log_path = data_dir / "billbot.log"
    with claimed, log_path.open("a", encoding="utf-8") as log:
        configure_logging([], level=logging.INFO, stream=log)
        try:
            demo = start_demo(host=host, port=port, data_dir=data_dir, socket_mode=socket_mode,
                              claimed=claimed)
        except ConfigError as exc:
            sys.stderr.write(f"{exc}\n")
            return 2
        except (OSError, RuntimeError) as exc:
            sys.stderr.write(f"billbot demo could not start ({exc}); is port {port} free?\n")
            return 1
        out.write(
            f"billbot demo is running. Open {demo.url}\n"
            f"  Pick who you are at the top left, then Approve as Ann and Pay as Pat.\n"
            f"  Codat sandbox {demo.codat_url} · billbot {demo.bot_url} · "
            f"logs {log_path} · Ctrl-C stops it.\n")
        out.flush()
        stop = threading.Event()
        # `kill` (SIGTERM) stops it as cleanly as Ctrl-C (SIGINT, KeyboardInterrupt) does.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            out.write("Stopping…\n")
            out.flush()
            demo.stop()
        out.write("billbot demo stopped.\n")
    return 0
