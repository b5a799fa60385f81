"""Real `billbot run` processes against the Codat sandbox and the Slack stand-in, both served
from the test process, on a SQLite file or a PostgreSQL database.

Each bot runs as `python -m billbot.cli run` with its own environment (a short payment lease
and recovery interval, optionally `BILLBOT_CRASH_AT`) in the test's temporary directory, so no
developer `.env` is read. Its output goes to a log file that a failing test prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import Engine
from sqlmodel import select

from billbot.sandbox.codat.app import create_app
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import ServedApp, free_port, serve_in_thread
from billbot.sandbox.slack.driver import SlackDriver
from billbot.sandbox.slack.model import Message
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.slack_web.block_revisions import base_block_id
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY, actions_block_id, section_block_id
from billbot.storage.db import make_engine, session_scope
from billbot.storage.tables import PaymentIntent
from tests.support.pay_review import submit_pay

SECRET = "process-signing-secret-0123456789"
CODAT_KEY = "process-codat-key"
CHANNEL = "C0FINANCE"
ANN, BEN, PAT = "U0ANN", "U0BEN", "U0PAT"
LEASE_SECONDS = "2"
RECOVERY_SECONDS = "0.5"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

T = TypeVar("T")


async def eventually(check: Callable[[], T], *, within: float = 30.0, what: str = "") -> T:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within}s: {what or check}")
        await asyncio.sleep(0.05)


@dataclass
class BotProcess:
    name: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def events_url(self) -> str:
        return self.url + "/slack/events"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL if it does not go."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def _spawn(port: int, *, cwd: Path, env: dict[str, str], log: Path,
           args: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    """Start `billbot run` (Popen returns at once; the caller polls /healthz)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "billbot.cli", "run", "--host", "127.0.0.1",
             "--port", str(port), *args],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


@dataclass
class ProcessWorld:
    """The stand-ins, one database, and the bot processes started on them."""

    tmp: Path
    database_url: str
    sandbox: SandboxState
    workspace: SlackWorkspace
    http: httpx.AsyncClient
    served: list[ServedApp] = field(default_factory=list)
    bots: list[BotProcess] = field(default_factory=list)

    def env(self, crash_at: str | None,
            extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "CODAT_", "BILLBOT_", "DATABASE_URL"))}
        # No scheduled digest today: the test posts its own with /bills digest.
        tomorrow = DAY_NAMES[(datetime.now(UTC).weekday() + 1) % 7]
        env.update({
            "SLACK_BOT_TOKEN": self.workspace.bot_token, "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.workspace.api_url, "CODAT_API_KEY": CODAT_KEY,
            "CODAT_BASE_URL": self.served[0].base_url,
            "CODAT_COMPANY_ID": self.sandbox.main_company_id,
            "CODAT_CONNECTION_ID": self.sandbox.main_connection_id,
            "BILLBOT_CHANNEL": CHANNEL, "BILLBOT_APPROVERS": f"{ANN},{BEN}",
            "BILLBOT_PAYERS": f"{PAT},{ANN}", "BILLBOT_DIGEST_DAYS": tomorrow,
            "DATABASE_URL": self.database_url,
            "BILLBOT_PAYMENT_LEASE_SECONDS": LEASE_SECONDS,
            "BILLBOT_RECOVERY_INTERVAL_SECONDS": RECOVERY_SECONDS,
        })
        if crash_at:
            env["BILLBOT_CRASH_AT"] = crash_at
        env.update(extra or {})
        return env

    async def start_bot(self, name: str, *, crash_at: str | None = None,
                        env: dict[str, str] | None = None, args: tuple[str, ...] = (),
                        healthy: bool = True, within: float = 60) -> BotProcess:
        """`env`: variables set on top of the usual ones (or replacing them); `args`: more
        `billbot run` arguments; `healthy=False`: return at once (it may die before it
        ever answers)."""
        for attempt in range(3):
            port = free_port()
            log = self.tmp / f"{name}-{len(self.bots)}.log"
            proc = _spawn(port, cwd=self.tmp, env=self.env(crash_at, env), log=log, args=args)
            bot = BotProcess(name, proc, f"http://127.0.0.1:{port}", log)
            self.bots.append(bot)
            if not healthy:
                return bot
            started = await self._healthy(bot, within=within)
            # The free port was taken by another test's process before ours bound it: that
            # is the machine's race, not the bot's, so the bot starts again on another port.
            if started or "address already in use" not in bot.output() or attempt == 2:
                break
        if not started:
            raise AssertionError(f"{name} exited {bot.proc.returncode}:\n{bot.output()}")
        return bot

    async def _healthy(self, bot: BotProcess, *, within: float) -> bool:
        """True once /healthz answers; False if the process exits first."""
        proc, name = bot.proc, bot.name
        deadline = time.monotonic() + within
        while True:
            if proc.poll() is not None:
                return False
            with contextlib.suppress(httpx.TransportError):
                if (await self.http.get(bot.url + "/healthz", timeout=2)).status_code == 200:
                    return True
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not become healthy:\n{bot.output()}")
            await asyncio.sleep(0.1)

    def driver(self, bot: BotProcess) -> SlackDriver:
        driver = SlackDriver(self.workspace, bot.events_url, SECRET, self.http)
        # Several bot processes start and crash on a shared 2-core machine: these tests
        # assert outcomes across processes, not acknowledgement time.
        driver.widen_ack_deadline(30.0, reason="real processes on purpose; outcomes only")
        return driver

    async def killed(self, bot: BotProcess, *, within: float = 30.0) -> None:
        """Wait for `bot` to have SIGKILLed itself (and fail with its log otherwise)."""
        with contextlib.suppress(AssertionError):
            await eventually(lambda: bot.proc.poll() is not None, within=within)
        # The log is read after the wait, so a failure shows what the process did meanwhile.
        assert bot.proc.poll() is not None, f"{bot.name} did not die:\n{bot.output()}"
        assert bot.proc.returncode == -signal.SIGKILL, bot.output()

    # --- Slack as people use it ---------------------------------------------------------------

    def bot_messages(self) -> list[Message]:
        return [m for m in self.workspace.messages(CHANNEL) if m.bot_id]

    def message(self, ts: str) -> Message:
        message = self.workspace.message(CHANNEL, ts)
        assert message is not None
        return message

    def row_text(self, ts: str, bill_id: str) -> str:
        for block in self.message(ts).blocks:
            if base_block_id(block.get("block_id")) == section_block_id(bill_id):
                return str(block["text"]["text"])
        raise AssertionError(f"bill {bill_id} is not in message {ts}")

    def buttons(self, ts: str, bill_id: str) -> list[str]:
        for block in self.message(ts).blocks:
            if base_block_id(block.get("block_id")) == actions_block_id(bill_id):
                return [e["text"]["text"] for e in block["elements"]]
        return []

    def due_gbp_bills(self, message: Message) -> list[dict[str, Any]]:
        """Open GBP bills shown in `message`, as snapshots of the sandbox's books."""
        shown = {base_block_id(b.get("block_id")) for b in message.blocks}
        bills = [dict(b) for b in self.sandbox.main_ledger.bills.values()
                 if b["status"] == "Open" and b["currency"] == "GBP" and b.get("amountDue")
                 and section_block_id(b["id"]) in shown]
        return sorted(bills, key=lambda b: str(b["id"]))

    async def post_digest(self, bot: BotProcess) -> Message:
        before = len(self.bot_messages())
        response = await self.driver(bot).slash_command(ANN, CHANNEL, "digest")
        assert response.status == 200
        await eventually(lambda: len(self.bot_messages()) > before, what="the digest")
        return self.bot_messages()[-1]

    async def approve(self, bot: BotProcess, ts: str, bill_id: str, user: str = ANN) -> None:
        response = await self.driver(bot).click(user, CHANNEL, ts, ACTION_APPROVE,
                                                block_id=actions_block_id(bill_id))
        assert response.status == 200
        await eventually(lambda: "Pay" in self.buttons(ts, bill_id), what="the approval")

    async def open_pay_modal(self, bot: BotProcess, ts: str, bill_id: str, user: str) -> str:
        """Open `user`'s pay modal through `bot`; returns the first account it offers.

        A modal the user still has open from an earlier bill is not the one this click opens:
        wait for a view with a new id, or the submission would go to the old bill's modal.
        """
        earlier = self.workspace.open_view(user)
        earlier_id = earlier.id if earlier is not None else None
        response = await self.driver(bot).click(user, CHANNEL, ts, ACTION_PAY,
                                                block_id=actions_block_id(bill_id))
        assert response.status == 200

        def accounts() -> list[str]:
            view = self.workspace.open_view(user)
            if (view is None or view.id == earlier_id
                    or view.definition.get("callback_id") != "pay_bill"):
                return []
            return [o["value"] for b in view.definition["blocks"] if b.get("block_id") == "account"
                    for o in b["element"]["options"]]

        return (await eventually(accounts, what=f"{user}'s pay modal"))[0]

    async def submit_payment(self, bot: BotProcess, user: str, account: str, amount: Decimal,
                             paid_on: date | None = None) -> int:
        day = (paid_on or self.sandbox.today).isoformat()
        values: dict[str, dict[str, dict[str, Any]]] = {
            "account": {"account": {"type": "static_select", "selected_option": {
                "text": {"type": "plain_text", "text": "x"}, "value": account}}},
            "amount": {"amount": {"type": "plain_text_input", "value": str(amount)}},
            "date": {"date": {"type": "datepicker", "selected_date": day}},
        }
        return (await submit_pay(self.driver(bot), user, values)).status

    # --- what happened ---------------------------------------------------------------------

    def payments_of(self, bill_id: str) -> list[Any]:
        with self.sandbox.lock:
            return [p for p in self.sandbox.payments if p.bill_id == bill_id]

    def intents(self) -> list[PaymentIntent]:
        engine: Engine = make_engine(self.database_url)
        try:
            with session_scope(engine, read_only=True) as session:
                return list(session.exec(select(PaymentIntent)).all())
        finally:
            engine.dispose()


@contextlib.asynccontextmanager
async def process_world(tmp: Path, database_url: str) -> AsyncIterator[ProcessWorld]:
    sandbox = SandboxState.seeded()
    workspace = SlackWorkspace()
    for uid, name in ((ANN, "ann"), (BEN, "ben"), (PAT, "pat")):
        workspace.add_user(uid, name)
    workspace.add_channel(CHANNEL, "finance")
    codat = serve_in_thread(create_app(sandbox, api_key=CODAT_KEY))
    slack = serve_slack_standin(workspace)
    async with httpx.AsyncClient(timeout=30) as http:
        world = ProcessWorld(tmp, database_url, sandbox, workspace, http, [codat, slack])
        try:
            yield world
        finally:
            for bot in world.bots:
                bot.stop()
            for served in world.served:
                served.stop()


def figures_line(title: str, world: ProcessWorld, bill_ids: list[str]) -> str:
    intents = world.intents()
    payments = sum(len(world.payments_of(b)) for b in bill_ids)
    keys = [p.idempotency_key or p.reference for b in bill_ids for p in world.payments_of(b)]
    duplicates = max(0, payments - len(bill_ids)) + len(keys) - len(set(keys))
    still_open = sum(i.state in ("created", "calling", "unknown") for i in intents)
    return (f"{title}: trials={len(bill_ids)} payments made={payments} duplicates={duplicates} "
            f"intents={len(intents)} intents left open={still_open}")


__all__ = ["ANN", "BEN", "PAT", "BotProcess", "ProcessWorld", "eventually", "figures_line",
           "process_world"]
