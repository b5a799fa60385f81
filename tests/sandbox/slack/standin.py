"""A workspace served on loopback for one test (the new stand-in tests share no server)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from billbot.clock import FixedClock
from billbot.sandbox.slack import SlackWorkspace, serve_slack_standin
from tests.e2e.conftest import eventually

__all__ = ["ALICE", "BOB", "BOT_TOKEN", "FINANCE", "OUTSIDER", "eventually", "served_workspace"]

BOT_TOKEN = "xoxb-standin-test"
ALICE, BOB, OUTSIDER = "U0ALICE", "U0BOB", "U0OUTSIDER"
FINANCE = "C0FINANCE"
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
# These tests exercise methods the product does not call yet, so the bot holds their scopes
# besides the manifest's (the strict-scope tests use the manifest's alone).
SCOPES = ("chat:write", "commands", "files:read", "files:write", "users:read", "im:write",
          "channels:read", "groups:read", "usergroups:read")


def served_workspace() -> Iterator[SlackWorkspace]:
    """Alice and Bob in #finance, Olga outside it, on a fixed clock; served until the test ends."""
    ws = SlackWorkspace(clock=FixedClock(START), bot_tokens=[BOT_TOKEN], scopes=SCOPES)
    ws.add_user(ALICE, "alice", "Alice Approver")
    ws.add_user(BOB, "bob", "Bob Payer")
    ws.add_user(OUTSIDER, "olga", "Olga Outsider")
    ws.add_channel(FINANCE, "finance", members=[ALICE, BOB, ws.bot_user_id])
    served = serve_slack_standin(ws)
    try:
        yield ws
    finally:
        served.stop()
