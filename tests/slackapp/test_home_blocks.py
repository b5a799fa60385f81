"""App Home's blocks: full sections stay under Slack's 100 blocks a Home view, each section
shows one page, most urgent first, and a Home row's actions block names the bound channel."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from billbot.slackapp.home_blocks import (
    HELD,
    PAGE_SIZE,
    REJECTED,
    WAITING,
    HomeContent,
    HomeRow,
    PaidLine,
    channel_of_home_block,
    home_actions_block_id,
    home_view,
    rows_sorted,
)
from billbot.slackapp.row_model import RowState
from tests.slackapp.test_blocks import TODAY, bill


def rows(n: int, state: RowState | None = None, *, first: int = 0) -> list[HomeRow]:
    """Bills first..first+n-1 (a bill is in one section only, so sections take other ids)."""
    return [HomeRow(bill=bill(i, due=i % 40 - 20), state=state or RowState(),
                    channel_id="C0FIN") for i in range(first, first + n)]


def test_full_sections_fit_one_home_view() -> None:
    paid = [PaidLine(reference=f"INV-{i}", supplier="S", amount=Decimal("10"), currency="GBP",
                     payer_id="U0PAT", at=datetime(2026, 11, 20, tzinfo=UTC)) for i in range(300)]
    extra = [{"type": "actions", "block_id": "home-actions", "elements": []}]
    content = HomeContent(roles=["approver", "payer"], paid=paid, extra_actions=extra,
                          sections={WAITING: rows_sorted(rows(500)),
                                    HELD: rows(300, RowState(held_by="U0ANN", hold_question="why?"),
                                                first=1000),
                                    REJECTED: rows(300, RowState(rejected_by="U0BEN",
                                                                 reject_reason="duplicate bill"),
                                                   first=2000)})
    view = home_view(content, today=TODAY)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(ids) == len(set(ids))
    shown = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("bill:")]
    assert len(shown) == PAGE_SIZE[WAITING] + PAGE_SIZE[HELD] + PAGE_SIZE[REJECTED]
    text = str(view["blocks"])
    assert "Page 1 of 42" in text and "Waiting for you (500)" in text


def test_most_urgent_first_and_the_page_asked_for() -> None:
    ordered = rows_sorted(rows(30))
    assert [r.bill.due_date for r in ordered] == sorted(r.bill.due_date for r in ordered)
    content = HomeContent(roles=["approver"], sections={WAITING: ordered}, pages={WAITING: 2})
    view = home_view(content, today=TODAY)
    shown = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("bill:")]
    assert len(shown) == 30 - 2 * PAGE_SIZE[WAITING]
    assert "Page 3 of 3" in str(view["blocks"])


def test_a_home_row_names_its_bound_channel() -> None:
    block_id = home_actions_block_id("C0FIN", "b1")
    assert channel_of_home_block(block_id) == "C0FIN"
    assert channel_of_home_block(block_id + "~r1a2b") == "C0FIN"  # a re-rendered block id
    assert channel_of_home_block("bill-actions:abc") is None
    assert channel_of_home_block("home-actions|" + "C" * 65 + "|k") is None
