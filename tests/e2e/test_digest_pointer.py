"""The digest stays at most three messages whatever the ledger size: the header with the
totals of every due bill and a link to App Home, the most urgent rows up to
BILLBOT_DIGEST_MAX_ROWS, and "N more in App Home or `/bills due`"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billbot.slackapp.digest_blocks import HOME_LINK_BLOCK, POINTER_BLOCK
from tests.e2e.conftest import (
    ANN,
    CHANNEL,
    all_blocks,
    due_bills,
    eventually,
    no_slack_violations,
    post_digest,
)


async def test_500_bills_make_at_most_three_messages(stack_factory: Any) -> None:
    stack = stack_factory(bills=500)
    main = await post_digest(stack)
    due = due_bills(stack)
    assert len(due) == 500

    def rows() -> int:
        return sum(1 for b in all_blocks(stack, main) if str(b.get("block_id", "")).startswith("bill:"))

    await eventually(lambda: rows() == 40)
    messages = [main, *[m for m in stack.workspace.thread(CHANNEL, main.ts) if m.ts != main.ts]]
    assert len(messages) <= 3
    assert all(len(m.blocks) <= 50 for m in messages)
    link = next(b for b in main.blocks if b.get("block_id", "").startswith(HOME_LINK_BLOCK))
    assert "slack://app?team=T0SANDBOX&id=A0BILLBOT&tab=home" in str(link)
    pointer = [b for m in messages for b in m.blocks
               if b.get("block_id", "").startswith(POINTER_BLOCK)]
    assert len(pointer) == 1 and "460 more in" in str(pointer[0]) and "/bills due" in str(pointer[0])
    # The header counts every due bill, not just the rows shown.
    summary = str(main.blocks[1]["text"]["text"])
    assert "*500 bills*" in summary
    gbp = sum((Decimal(str(b["amountDue"])) for b in due
               if b["currency"] == "GBP" and b.get("amountDue") is not None), Decimal(0))
    assert f"{gbp:,.2f}" in summary
    no_slack_violations(stack)


async def test_the_row_cap_is_a_setting(stack_factory: Any) -> None:
    stack = stack_factory(bills=30, billbot_digest_max_rows=5)
    main = await post_digest(stack)
    assert stack.workspace.thread(CHANNEL, main.ts) in ([], [main])
    assert sum(1 for b in main.blocks if str(b.get("block_id", "")).startswith("bill:")) == 5
    assert "25 more in" in str(main.blocks[-1])


async def test_bills_due_pages_a_long_list(stack_factory: Any) -> None:
    stack = stack_factory(bills=250)
    await stack.driver.slash_command(ANN, CHANNEL, "due")

    def listed() -> Any:
        found = [e for e in stack.workspace.ephemerals(CHANNEL, ANN) if "page 1 of 3" in str(e.blocks)]
        return found[-1] if found else None

    first = await eventually(listed)
    assert "Bills 1–100 of 250" in str(first.blocks)
    assert all(len(str(b.get("text", {}).get("text", ""))) <= 3000 for b in first.blocks)
    await stack.driver.click(ANN, CHANNEL, first.ts, text="Next")

    def turned() -> Any:
        now = stack.workspace.ephemeral(CHANNEL, ANN, first.ts)
        return now if now is not None and "page 2 of 3" in str(now.blocks) else None

    second = await eventually(turned)
    assert "Bills 101–200 of 250" in str(second.blocks)
    assert [e["text"]["text"] for b in second.blocks if b["type"] == "actions"
            for e in b["elements"]] == ["Previous", "Next"]
    no_slack_violations(stack)
