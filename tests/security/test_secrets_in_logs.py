"""No secret in any log line or error message, with every logger at DEBUG.

Distinctive secret values (so a hit cannot be a coincidence) go through a full flow: the
digest, approve, reject, a payment, a Codat 400, a Slack 429, a bad and a stale signature,
configuration errors. Two captures are scanned:
- in process: every record of every logger at DEBUG, as billbot's JSON formatter writes it
  (the scrubbed line an operator sees) and, for the figure, as raw text before scrubbing;
- a real `billbot run` subprocess with BILLBOT_LOG_LEVEL=debug: its whole stderr, plus the
  stderr of runs that fail on start (bad configuration, Socket Mode refused, database down).
Also scanned: everything billbot sent to Slack (message texts, modals, ephemerals) and its
HTTP answers, where an error message could carry a secret to a person.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

import tests.e2e.conftest as e2e
from billbot.logs import JsonFormatter
from billbot.sandbox.codat.faults import FaultKind
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import free_port, serve_in_thread
from billbot.sandbox.slack.driver import SlackDriver
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.slackapp.blocks import ACTION_REJECT, actions_block_id
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    PAT,
    Stack,
    approve,
    click,
    current,
    eventually,
    first_due,
    modal_account_ids,
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.security.forge import audit_rows, quiet
from tests.support.openapi_contract import validated_sandbox_app
from tests.support.pay_review import submit_pay

BOT_TOKEN = "xoxb-LEAKCHECK-bot-7f3a9c2e"
SIGNING_SECRET = "LEAKCHECK-signing-51e2d0b4"
APP_TOKEN = "xapp-LEAKCHECK-app-0c9d44e1"
CODAT_KEY = "LEAKCHECK-codat-e6a1f3"
CODAT_BASIC = base64.b64encode(CODAT_KEY.encode()).decode()
DB_PASSWORD = "LEAKCHECK-dbpw-93b7"

SECRETS = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_APP_TOKEN": APP_TOKEN, "CODAT_API_KEY": CODAT_KEY,
           "CODAT_API_KEY as Basic": CODAT_BASIC, "DATABASE_URL password": DB_PASSWORD}
LOGGERS = ("billbot", "slack_bolt", "slack_sdk", "httpx", "httpcore", "uvicorn", "sqlalchemy",
           "apscheduler", "aiohttp", "asyncio")


def occurrences(text: str) -> dict[str, int]:
    return {name: text.count(value) for name, value in SECRETS.items() if value in text}


class Capture(logging.Handler):
    """Every record, as billbot's formatter writes it and as raw text."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.formatter_ = JsonFormatter(secrets)
        self.lines: list[str] = []
        self.raw: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = self.formatter_.format(record)
        self.lines.append(line)
        raw = record.getMessage() + (self.formatter_.formatException(record.exc_info)
                                     if record.exc_info else "")
        self.raw.append((record.name, raw))


@pytest.fixture
def debug_capture() -> Iterator[Capture]:
    secrets = [BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, CODAT_KEY, CODAT_BASIC, DB_PASSWORD]
    handler = Capture(secrets)
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in LOGGERS}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in saved[1].items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def database_url(database_url: str) -> str:
    """The test database's URL with a password (PostgreSQL here trusts, so it is ignored;
    SQLite has none)."""
    parsed = make_url(database_url)
    if parsed.drivername.startswith("sqlite"):
        return database_url
    return parsed.set(password=DB_PASSWORD).render_as_string(hide_password=False)


async def full_flow(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    stack.workspace.faults.rate_limit("chat.update", times=1)  # Slack 429 on the row update
    await approve(stack, main, bill["id"], ANN)
    await click(stack, BEN, main, bill["id"], ACTION_REJECT)
    await eventually(lambda: stack.workspace.open_view(BEN) is not None)
    await stack.driver.submit_view(BEN, {"reason": {"reason": {
        "type": "plain_text_input", "value": "Wrong amount on it"}}})
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), bill["id"]))
    await stack.driver.click(BEN, main.channel, main.ts, text="Withdraw rejection",
                             block_id=actions_block_id(bill["id"]))
    await eventually(lambda: "Rejected" not in row_text(current(stack, main.ts), bill["id"]))
    await approve(stack, main, bill["id"], ANN)
    part = (Decimal(str(bill["amountDue"])) / 4).quantize(Decimal("0.01"))
    view = await open_pay_modal(stack, main, bill["id"], user=PAT)
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0], str(part),
                                                   today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    await eventually(lambda: "remains" in row_text(current(stack, main.ts), bill["id"]))
    stack.sandbox.faults.next(FaultKind.REFUSE, 1, path="/payment$", method="POST")
    view = await open_pay_modal(stack, main, bill["id"], user=PAT)
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0], str(part),
                                                   today().isoformat()))  # Codat answers 400
    await eventually(lambda: any(r.action == "payment.failed" for r in audit_rows(stack)))
    body = "command=%2Fbills&text=digest&user_id=U0ANN&channel_id=C0FINANCE"
    forged = await stack.driver.post_signed(body, "application/x-www-form-urlencoded",
                                            signature="v0=" + "0" * 64)
    stale = await stack.driver.post_signed(body, "application/x-www-form-urlencoded",
                                           timestamp=int(time.time()) - 600)
    assert forged.status == stale.status == 401
    await quiet(stack)


def sent_to_people(workspace: SlackWorkspace) -> str:
    """What billbot sent to Slack (the token travels in the Authorization header only)."""
    return json.dumps([[c.method, c.params] for c in workspace.calls()], default=str)


async def test_a_full_flow_logs_no_secret_at_debug(
        stack_factory: Any, database_url: str, debug_capture: Capture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e2e, "CODAT_KEY", CODAT_KEY)
    monkeypatch.setattr(e2e, "SIGNING_SECRET", SIGNING_SECRET)
    stack = stack_factory(slack_bot_token=BOT_TOKEN)
    assert DB_PASSWORD in stack.settings.database_url or database_url.startswith("sqlite")
    assert stack.settings.slack_signing_secret is not None
    assert stack.settings.slack_signing_secret.get_secret_value() == SIGNING_SECRET
    await full_flow(stack)

    # A configuration error with every secret set: the message names variables, not values.
    for name, value in {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                        "SLACK_APP_TOKEN": APP_TOKEN, "CODAT_API_KEY": CODAT_KEY,
                        "BILLBOT_TIMEZONE": "Mars/Olympus", "BILLBOT_APPROVERS": "nobody",
                        "DATABASE_URL": f"postgresql://u:{DB_PASSWORD}@db:notaport/x"}.items():
        monkeypatch.setenv(name, value)
    from billbot.config import ConfigError, load_settings

    with pytest.raises(ConfigError) as config_error:
        load_settings("run")
    assert "BILLBOT_TIMEZONE" in str(config_error.value)

    logged = "\n".join(debug_capture.lines)
    raw_hits = [(name, occurrences(text)) for name, text in debug_capture.raw if occurrences(text)]
    shown = sent_to_people(stack.workspace) + str(config_error.value)
    print(f"\nsecrets in logs: {sum(occurrences(logged).values())} in {len(debug_capture.lines)} "
          f"log lines at DEBUG (before scrubbing: {len(raw_hits)} records, from "
          f"{sorted({name for name, _ in raw_hits}) or 'none'}); in what people were shown: "
          f"{sum(occurrences(shown).values())} in {len(stack.workspace.calls())} Slack calls")
    assert len(debug_capture.lines) > 500  # DEBUG really was on for the libraries
    assert {"billbot", "slack_sdk", "httpx", "httpcore", "sqlalchemy"} <= {
        json.loads(line)["logger"].split(".")[0] for line in debug_capture.lines}
    assert occurrences(logged) == {}
    assert occurrences(shown) == {}

    # Structured: a click's lines carry its request, user, channel and bill ids.
    entries = [json.loads(line) for line in debug_capture.lines]
    outcomes = [e for e in entries if e["msg"] in ("approve", "reject", "pay")]
    assert {e["msg"] for e in outcomes} == {"approve", "reject", "pay"}
    for outcome in outcomes:
        assert {"request_id", "user_id", "channel_id", "bill_id", "outcome"} <= set(outcome)
        same_click = [e for e in entries if e.get("request_id") == outcome["request_id"]]
        assert len(same_click) > 1 and all(e["user_id"] == outcome["user_id"] for e in same_click)
    # Nothing billbot itself logs needs the scrubber: raw hits may only come from the
    # stand-ins, which play Slack and Codat and so hold the secrets.
    assert all(name.startswith("billbot.sandbox") for name, _ in raw_hits), raw_hits


# --- `billbot run` as a process ------------------------------------------------------------


def run_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "CODAT_", "BILLBOT_")) and k != "DATABASE_URL"}
    env.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "CODAT_API_KEY": CODAT_KEY, "BILLBOT_LOG_LEVEL": "debug",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}", **extra})
    return env


def start(tmp_path: Path, port: int, **extra: str) -> subprocess.Popen[str]:
    """`billbot run`; stderr goes to a file (a pipe left unread would fill up and stall it)."""
    log = tmp_path / f"stderr-{port}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "billbot.cli", "run", "--host", "127.0.0.1", "--port",
             str(port)], cwd=tmp_path, env=run_env(tmp_path, **extra),
            stdout=subprocess.DEVNULL, stderr=sink, text=True)
    process.args = str(log)  # where finish() reads it back
    return process


def finish(process: subprocess.Popen[str], *, sig: int = signal.SIGTERM) -> str:
    if process.poll() is None:
        process.send_signal(sig)
    process.wait(timeout=30)
    return logged(process)


def logged(process: subprocess.Popen[str]) -> str:
    return Path(str(process.args)).read_text()


async def test_billbot_run_stderr_holds_no_secret(tmp_path: Path, database_url: str) -> None:
    state = SandboxState.seeded()
    codat = serve_in_thread(validated_sandbox_app(state, api_key=CODAT_KEY))
    workspace = SlackWorkspace(bot_tokens=[BOT_TOKEN])
    for uid, name in ((ANN, "ann"), (PAT, "pat"), (BEN, "ben")):
        workspace.add_user(uid, name)
    workspace.add_channel(CHANNEL, "finance")
    slack = serve_slack_standin(workspace)
    port = free_port()
    common = {"SLACK_API_URL": workspace.api_url, "CODAT_BASE_URL": codat.base_url,
              "CODAT_COMPANY_ID": state.main_company_id,
              "CODAT_CONNECTION_ID": state.main_connection_id, "BILLBOT_CHANNEL": CHANNEL,
              "BILLBOT_APPROVERS": f"{ANN},{BEN}", "BILLBOT_PAYERS": PAT,
              "DATABASE_URL": database_url}
    outputs: dict[str, str] = {}
    try:
        process = start(tmp_path, port, **common)
        async with httpx.AsyncClient(timeout=30) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, finish(process)
                await asyncio.sleep(0.1)
            driver = SlackDriver(workspace, f"http://127.0.0.1:{port}/slack/events",
                                 SIGNING_SECRET, http)
            wrong = SlackDriver(workspace, driver.bot_events_url, "not-the-secret", http)
            stack = Stack(sandbox=state, workspace=workspace, driver=driver, bot=None,  # type: ignore[arg-type]
                          bot_server=None, settings=None)  # type: ignore[arg-type]
            main = await post_digest(stack)
            bill = first_due(stack)
            workspace.faults.rate_limit("chat.update", times=1)
            await approve(stack, main, bill["id"], ANN)
            view = await open_pay_modal(stack, main, bill["id"], user=PAT)
            state.faults.next(FaultKind.REFUSE, 1, path="/payment$", method="POST")
            await submit_pay(driver, PAT, pay_values(modal_account_ids(view)[0],
                                                     str(bill["amountDue"]), today().isoformat()))
            await eventually(lambda: any("not recorded" in e.text
                                         for e in workspace.ephemerals(CHANNEL, PAT)))
            assert (await wrong.slash_command(ANN, CHANNEL, "digest")).status == 401
        outputs["full flow"] = finish(process)
        # The stand-in refuses app tokens (it has no websocket): billbot asks
        # apps.connections.open at start and stops with its own message naming the token,
        # rather than retrying for ever; the message holds no secret either.
        socket_port = free_port()
        process = start(tmp_path, socket_port, **common, SLACK_APP_TOKEN=APP_TOKEN)
        process.wait(timeout=60)
        outputs["Socket Mode refused"] = logged(process)
        assert process.returncode == 3, outputs["Socket Mode refused"]
        assert "SLACK_APP_TOKEN: Slack refused the token (invalid_auth)" in outputs[
            "Socket Mode refused"]
        assert "Traceback" not in outputs["Socket Mode refused"]
    finally:
        if process.poll() is None:
            finish(process)
        slack.stop()
        codat.stop()

    failing = {
        "bad configuration": {**common, "BILLBOT_TIMEZONE": "Mars/Olympus",
                              "BILLBOT_DIGEST_AT": "25:99"},
        "database unreachable": {**common, "DATABASE_URL":
                                 f"postgresql://billbot:{DB_PASSWORD}@127.0.0.1:{free_port()}/x"},
    }
    for name, extra in failing.items():
        process = start(tmp_path, free_port(), **extra)
        try:
            process.wait(timeout=60)
        finally:
            outputs[name] = finish(process)
        assert process.returncode != 0, (name, outputs[name][-2000:])
    lines = sum(len(text.splitlines()) for text in outputs.values())
    found = {name: occurrences(text) for name, text in outputs.items() if occurrences(text)}
    print(f"\nsecrets in `billbot run` stderr: {sum(sum(f.values()) for f in found.values())} "
          f"in {lines} lines ({', '.join(f'{k}: {len(v.splitlines())}' for k, v in outputs.items())})")
    assert len(outputs["full flow"].splitlines()) > 200
    assert "BILLBOT_TIMEZONE" in outputs["bad configuration"]
    assert found == {}
