"""`/bills show <reference>`, and the same signed click or command delivered twice.

Slack retries a request it thinks went unanswered (with X-Slack-Retry-Num), and anyone who
captured a signed request could replay it within the signature's five minutes. Clicks and
commands are acknowledged first and the repeat is dropped right after, before any effect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from billbot.sandbox.codat.seed import BILL_ID_BASE
from billbot.slackapp.blocks import ACTION_APPROVE, actions_block_id
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    OTHER_CHANNEL,
    Stack,
    blocks_row_text,
    bot_messages,
    current,
    ephemeral_texts,
    eventually,
    post_digest,
    row_text,
)

FORM = "application/x-www-form-urlencoded"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def record_bodies(stack: Stack) -> list[bytes]:
    sent: list[bytes] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request.content)

    stack.driver.http.event_hooks["request"].append(keep)
    return sent


async def test_show_lists_line_items_and_attachment_names(stack: Stack) -> None:
    bill = stack.sandbox_bill(str(BILL_ID_BASE + 8))
    reference = str(bill["reference"])
    response = await stack.driver.slash_command(ANN, CHANNEL, f"show {reference.lower()}")
    assert response.status == 200

    def shown() -> list[str]:
        return [t for t in ephemeral_texts(stack, ANN) if "Line items" in t]

    text = (await eventually(shown))[0]
    assert reference in text
    for item in bill["lineItems"]:
        assert item["description"] in text
    assert "invoice-INV-00008.pdf" in text and "timesheet.csv" in text
    assert bot_messages(stack) == []  # only the caller saw it
    assert not stack.workspace.violations


async def test_show_unknown_reference_and_unbound_channel_explain(stack: Stack) -> None:
    await stack.driver.slash_command(ANN, CHANNEL, "show NO-SUCH-REF")
    await eventually(lambda: any("No bill matches" in t for t in ephemeral_texts(stack, ANN)))
    await stack.driver.slash_command(ANN, OTHER_CHANNEL, "show NO-SUCH-REF")
    await eventually(lambda: any("not connected" in t
                                 for t in ephemeral_texts(stack, ANN, OTHER_CHANNEL)))


async def quiet_count(count: Callable[[], int], *, quiet: float = 1.0,
                      within: float = 30.0) -> int:
    """`count()` once it has not changed for `quiet` seconds (at most `within`)."""
    deadline = time.monotonic() + within
    last, since = count(), time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        if (now := count()) != last:
            last, since = now, time.monotonic()
    return last


async def test_a_repeated_approve_click_is_acknowledged_and_does_nothing(
        stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="billbot")
    main = await post_digest(stack)
    bill_id = str(BILL_ID_BASE + 1)
    sent = record_bodies(stack)
    response = await stack.driver.click(ANN, CHANNEL, main.ts, ACTION_APPROVE,
                                        block_id=actions_block_id(bill_id))
    assert response.status == 200
    await eventually(lambda: f"<@{ANN}>" in row_text(current(stack, main.ts), bill_id))
    # The approval may re-render the message more than once (its row, then the header's
    # totals): the count is taken once those are done, or a late one would look like a repeat's.
    await eventually(lambda: stack.bot.later.pending() == 0)
    updates = await quiet_count(lambda: len(stack.workspace.calls("chat.update")))
    notes = len(stack.workspace.ephemerals(CHANNEL, ANN))

    for extra in ({}, RETRY, RETRY):
        again = await stack.driver.post_signed(sent[-1], FORM, extra_headers=extra)
        assert again.status == 200
    # Each repeat is dropped as such, after its acknowledgement and before any effect.
    await eventually(lambda: sum(r.getMessage() == "repeated slack request ignored"
                                 for r in caplog.records) == 3)
    # A processed repeat would answer with a note ("already approved") and refresh the row.
    # Another approver's click after them, seen through, shows the repeats had their turn.
    other = str(BILL_ID_BASE + 2)
    await stack.driver.click(BEN, CHANNEL, main.ts, ACTION_APPROVE,
                             block_id=actions_block_id(other))
    await eventually(lambda: f"<@{BEN}>" in row_text(current(stack, main.ts), other))
    assert len(stack.workspace.ephemerals(CHANNEL, ANN)) == notes
    assert row_text(current(stack, main.ts), bill_id).count(f"<@{ANN}>") == 1
    # Every re-render since is Ben's: none was drawn for a repeat before his approval. (Their
    # count is not pinned: a call the client re-sends after a dropped connection is harmless.)
    def since() -> list[str]:
        return [blocks_row_text(c.params["blocks"], other)
                for c in stack.workspace.calls("chat.update")[updates:]
                if c.params["ts"] == main.ts]
    # The stand-in records a call once it has answered it, a moment after the message changed.
    renders = await eventually(since)
    assert all(f"<@{BEN}>" in text for text in renders), renders


async def test_a_repeated_digest_command_posts_one_digest(stack: Stack) -> None:
    sent = record_bodies(stack)
    await post_digest(stack)
    body: Any = sent[-1]
    for extra in ({}, RETRY):
        again = await stack.driver.post_signed(body, FORM, extra_headers=extra)
        assert again.status == 200
    # Another, fresh /bills digest does post: the repeats had their chance to as well.
    await post_digest(stack)
    top = [m for m in bot_messages(stack) if m.thread_ts is None]
    assert len(top) == 2
