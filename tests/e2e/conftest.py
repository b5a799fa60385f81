"""The whole product over loopback HTTP: the Codat sandbox (validated against the OpenAPI
spec), the local Slack (recording and checking every Web API call), and billbot's own web
app as `billbot run` serves it, on a real database (SQLite file, and PostgreSQL in CI).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from sqlmodel import col, select

from billbot.clock import Clock
from billbot.config import Settings
from billbot.runtime import Billbot
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import ServedApp, serve_in_thread
from billbot.sandbox.slack.driver import SlackDriver
from billbot.sandbox.slack.model import Message
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.socket_transport import SocketModeTransport
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.server import build_web_app
from billbot.slack_web.block_revisions import base_block_id
from billbot.slackapp.blocks import (
    ACTION_APPROVE,
    ACTION_PAY,
    actions_block_id,
    section_block_id,
)
from billbot.storage.db import session_scope
from billbot.storage.tables import AuditLog
from tests.support.openapi_contract import validated_sandbox_app

SIGNING_SECRET = "e2e-signing-secret-0123456789"
CODAT_KEY = "e2e-codat-key"
CHANNEL = "C0FINANCE"
OTHER_CHANNEL = "C0RANDOM"
ANN, BEN, PAT, OSCAR, ADA = "U0ANN", "U0BEN", "U0PAT", "U0OSCAR", "U0ADA"
# An override of this value leaves the setting out, so that its default applies.
UNSET: Any = object()

T = TypeVar("T")


@dataclass
class Stack:
    sandbox: SandboxState
    workspace: SlackWorkspace
    driver: SlackDriver
    bot: Billbot
    bot_server: ServedApp
    settings: Settings

    @property
    def company_id(self) -> str:
        return self.sandbox.main_company_id

    @property
    def connection_id(self) -> str:
        return self.sandbox.main_connection_id

    def payments(self) -> list[Any]:
        return list(self.sandbox.payments)

    def sandbox_bill(self, bill_id: str) -> dict[str, Any]:
        return self.sandbox.bill(bill_id, company_id=self.company_id,
                                 connection_id=self.connection_id)


async def eventually(check: Callable[[], T], *, within: float = 60.0) -> T:
    """Poll until `check` returns a truthy value (the bot works after acknowledging).

    The deadline only bounds a hang: CI runs four test workers on two shared cores, where
    work after an acknowledgement has been seen to take over 10 s, and twice over 30 s (a
    refused pay-run choice, a Delete modal) while the Docker test built its image."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s: {check}")
        await asyncio.sleep(0.02)


def build_stack(database_url: str, *, bills: int | None = None, clock: Clock | None = None,
                run_scheduler: bool = False, socket_mode: bool = False, **overrides: Any
                ) -> Iterator[tuple[SandboxState, SlackWorkspace, Settings, ServedApp, Billbot]]:
    state = SandboxState.seeded() if bills is None else SandboxState.seeded(bills=bills,
                                                                            due_soon=bills)
    codat = serve_in_thread(validated_sandbox_app(state, api_key=CODAT_KEY))
    # A test that names its own bot token gets a workspace that issued it.
    token = overrides.get("slack_bot_token")
    workspace = SlackWorkspace(bot_tokens=None if token is None else [token])
    for uid, name in ((ANN, "ann"), (BEN, "ben"), (PAT, "pat"), (OSCAR, "oscar"), (ADA, "ada")):
        workspace.add_user(uid, name)
    workspace.add_channel(CHANNEL, "finance")
    workspace.add_channel(OTHER_CHANNEL, "random")
    slack = serve_slack_standin(workspace)
    values: dict[str, Any] = {
        "slack_bot_token": workspace.bot_token, "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": workspace.api_url, "codat_api_key": CODAT_KEY,
        "codat_base_url": codat.base_url, "codat_company_id": state.main_company_id,
        "codat_connection_id": state.main_connection_id, "billbot_channel": CHANNEL,
        "billbot_approvers": frozenset({ANN, BEN}), "billbot_payers": frozenset({PAT, ANN}),
        "billbot_admins": frozenset({ADA}), "database_url": database_url,
    }
    if socket_mode:  # the bot connects with the app token the workspace issued
        values["slack_app_token"] = workspace.socket_mode.issue_app_token()
    values.update(overrides)
    values = {k: v for k, v in values.items() if v is not UNSET}
    settings = Settings(_env_file=None, **values)
    app, bot = build_web_app(settings, run_scheduler=run_scheduler, clock=clock)
    server = serve_in_thread(app)
    try:
        yield state, workspace, settings, server, bot
    finally:
        server.stop()
        slack.stop()
        codat.stop()


@pytest.fixture
async def stack_factory(database_url: str) -> AsyncIterator[Callable[..., Stack]]:
    made: list[Iterator[Any]] = []
    clients: list[httpx.AsyncClient] = []

    def make(**kwargs: Any) -> Stack:
        gen = build_stack(database_url, **kwargs)
        made.append(gen)
        state, workspace, settings, server, bot = next(gen)
        # Over Socket Mode the driver's deliveries travel the bot's WebSocket, not HTTP.
        transport = SocketModeTransport(workspace.socket_mode) if settings.slack_app_token \
            else None
        http = httpx.AsyncClient(timeout=30, transport=transport)
        clients.append(http)
        driver = SlackDriver(workspace, server.base_url + "/slack/events", SIGNING_SECRET, http)
        return Stack(sandbox=state, workspace=workspace, driver=driver, bot=bot,
                     bot_server=server, settings=settings)

    yield make
    for http in clients:
        await http.aclose()
    for gen in made:
        for _ in gen:
            pass


@pytest.fixture
def codat_api() -> str:
    """The Codat API of the default binding (CODAT_API). A module runs its tests through both
    APIs by importing `tests.support.backends.codat_api`, which overrides this one."""
    return "sync"


@pytest.fixture
async def stack(stack_factory: Callable[..., Stack], codat_api: str) -> Stack:
    return stack_factory(codat_api=codat_api)


async def socket_mode_connected(stack: Stack) -> Stack:
    """Wait until the bot has opened its Socket Mode connection (it connects in the
    background at start-up, as `billbot run` does)."""
    await eventually(lambda: stack.workspace.socket_mode.connected)
    return stack


def money(value: Any) -> Decimal:
    return Decimal(str(value))


# --- steps and readings the flow tests share ---------------------------------------------------


def today() -> date:
    return datetime.now(UTC).date()


def due_bills(stack: Stack, within: int = 7) -> list[dict[str, Any]]:
    """What the digest must list, computed from the sandbox's own books."""
    ledger = stack.sandbox.main_ledger
    last = today() + timedelta(days=within)
    return [b for b in ledger.bills.values()
            if b["status"] in ("Open", "PartiallyPaid")
            and date.fromisoformat(str(b["dueDate"])[:10]) <= last]


def bot_messages(stack: Stack) -> list[Message]:
    return [m for m in stack.workspace.messages(CHANNEL) if m.bot_id]


def all_blocks(stack: Stack, main: Message) -> list[dict[str, Any]]:
    blocks = list(main.blocks)
    for reply in stack.workspace.thread(CHANNEL, main.ts):
        if reply.ts != main.ts:
            blocks.extend(reply.blocks)
    return blocks


def row_text(message: Message, bill_id: str) -> str:
    return blocks_row_text(message.blocks, bill_id, where=f"message {message.ts}")


def blocks_row_text(blocks: list[dict[str, Any]], bill_id: str, *, where: str = "blocks") -> str:
    for block in blocks:
        if base_block_id(block.get("block_id")) == section_block_id(bill_id):
            return str(block["text"]["text"])
    raise AssertionError(f"bill {bill_id} not in {where}")


def buttons(message: Message, bill_id: str) -> list[str]:
    for block in message.blocks:
        if base_block_id(block.get("block_id")) == actions_block_id(bill_id):
            return [e["text"]["text"] for e in block["elements"]]
    return []


def current(stack: Stack, ts: str) -> Message:
    message = stack.workspace.message(CHANNEL, ts)
    assert message is not None
    return message


async def post_digest(stack: Stack, user: str = ANN) -> Message:
    before = len(bot_messages(stack))
    response = await stack.driver.slash_command(user, CHANNEL, "digest")
    assert response.status == 200
    await eventually(lambda: len(bot_messages(stack)) > before)
    return bot_messages(stack)[-1]


async def click(stack: Stack, user: str, message: Message, bill_id: str, action: str) -> None:
    response = await stack.driver.click(user, CHANNEL, message.ts, action,
                                        block_id=actions_block_id(bill_id))
    assert response.status == 200


def first_due(stack: Stack, *, currency: str = "GBP") -> dict[str, Any]:
    found = next(b for b in sorted(due_bills(stack), key=lambda b: b["dueDate"])
                 if b["currency"] == currency and b.get("amountDue") and b["status"] == "Open")
    return dict(found)  # a snapshot: the sandbox's own dict changes when the bill is paid


async def approve(stack: Stack, message: Message, bill_id: str, user: str = ANN) -> None:
    await click(stack, user, message, bill_id, ACTION_APPROVE)
    await eventually(lambda: f"<@{user}>" in row_text(current(stack, message.ts), bill_id))


async def open_pay_modal(stack: Stack, message: Message, bill_id: str, user: str = PAT) -> Any:
    # A modal still open from an earlier bill is not the one this click opens.
    earlier = stack.workspace.open_view(user)
    earlier_id = earlier.id if earlier is not None else None
    await click(stack, user, message, bill_id, ACTION_PAY)
    return await eventually(lambda: (v := stack.workspace.open_view(user)) is not None
                            and v.id != earlier_id
                            and v.definition.get("callback_id") == "pay_bill" and v)


def pay_values(account_id: str | None, amount: str | None, day: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if account_id is not None:
        values["account"] = {"account": {"type": "static_select", "selected_option": {
            "text": {"type": "plain_text", "text": "x"}, "value": account_id}}}
    values["amount"] = {"amount": {"type": "plain_text_input", "value": amount}}
    values["date"] = {"date": {"type": "datepicker", "selected_date": day}}
    return values


def modal_account_ids(view: Any) -> list[str]:
    for block in view.definition["blocks"]:
        if block.get("block_id") == "account":
            return [o["value"] for o in block["element"]["options"]]
    raise AssertionError("no account input")


def no_slack_violations(stack: Stack) -> None:
    assert stack.workspace.violations == [], stack.workspace.violations


def audit(stack: Stack, *actions: str) -> list[AuditLog]:
    """The audit entries with these actions, oldest first."""
    with session_scope(stack.bot.engine, read_only=True) as session:
        return list(session.exec(select(AuditLog).where(col(AuditLog.action).in_(actions))
                                 .order_by(col(AuditLog.id))).all())


def ephemeral_texts(stack: Stack, user: str, channel: str = CHANNEL) -> list[str]:
    """What `user` was shown only to them in `channel`: each ephemeral's text and blocks."""
    return [e.text + " " + " ".join(str(b) for b in e.blocks)
            for e in stack.workspace.ephemerals(channel, user)]
