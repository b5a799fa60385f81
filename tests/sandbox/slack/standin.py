"""A workspace served on loopback for one test (the new stand-in tests share no server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TypeVar

from billbot.clock import FixedClock
from billbot.sandbox.slack import SlackWorkspace, serve_slack_standin

BOT_TOKEN = "xoxb-standin-test"
ALICE, BOB, OUTSIDER = "U0ALICE", "U0BOB", "U0OUTSIDER"
FINANCE = "C0FINANCE"
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

T = TypeVar("T")


def served_workspace() -> Iterator[SlackWorkspace]:
    """Alice and Bob in #finance, Olga outside it, on a fixed clock; served until the test ends."""
    ws = SlackWorkspace(clock=FixedClock(START), bot_tokens=[BOT_TOKEN])
    ws.add_user(ALICE, "alice", "Alice Approver")
    ws.add_user(BOB, "bob", "Bob Payer")
    ws.add_user(OUTSIDER, "olga", "Olga Outsider")
    ws.add_channel(FINANCE, "finance", members=[ALICE, BOB, ws.bot_user_id])
    served = serve_slack_standin(ws)
    try:
        yield ws
    finally:
        served.stop()


async def eventually(check: Callable[[], T], *, within: float = 10.0) -> T:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.02)
