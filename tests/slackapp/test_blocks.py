"""Digest selection and its Block Kit: order, totals, words, 50-block pages, buttons."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from billbot.codat.models import Bill, BillStatus
from billbot.domain.digest import due_in_words, select_due_bills, summarise
from billbot.slackapp.blocks import (
    ACTION_PAY,
    digest_messages,
    replace_bill_row,
)
from billbot.slackapp.row_model import RowState

TODAY = date(2026, 11, 22)


def bill(i: int, *, due: int, status: BillStatus = BillStatus.OPEN, currency: str = "GBP",
         amount: str | None = "100.00") -> Bill:
    return Bill.model_validate({
        "id": f"b{i}", "reference": f"INV-{i}",
        "supplierRef": {"id": f"s{i % 3}", "supplierName": f"Supplier <{i % 3}>"},
        "issueDate": TODAY - timedelta(days=30), "dueDate": TODAY + timedelta(days=due),
        "currency": currency, "status": status,
        "totalAmount": Decimal(amount) if amount else None,
        "amountDue": Decimal(amount) if amount else None})


def test_selection_window_status_and_order() -> None:
    bills = [bill(1, due=3), bill(2, due=-5), bill(3, due=7), bill(4, due=8),
             bill(5, due=0, status=BillStatus.PAID), bill(6, due=1, status=BillStatus.VOID),
             bill(7, due=1, status=BillStatus.DRAFT), bill(8, due=-1, status=BillStatus.PARTIALLY_PAID)]
    chosen = select_due_bills(bills, today=TODAY, within_days=7)
    assert [b.id for b in chosen] == ["b2", "b8", "b1", "b3"]


def test_totals_per_currency_and_unknown_amounts() -> None:
    bills = [bill(1, due=1), bill(2, due=1, currency="USD", amount="0.10"),
             bill(3, due=1, currency="USD", amount="0.20"), bill(4, due=1, amount=None)]
    s = summarise(bills, today=TODAY)
    assert s.totals == {"GBP": Decimal("100.00"), "USD": Decimal("0.30")}
    assert s.unknown_amounts == 1


def test_due_words() -> None:
    assert due_in_words(TODAY - timedelta(days=3), TODAY) == "3 days overdue"
    assert due_in_words(TODAY - timedelta(days=1), TODAY) == "1 day overdue"
    assert due_in_words(TODAY, TODAY) == "due today"
    assert due_in_words(TODAY + timedelta(days=1), TODAY) == "due tomorrow"
    assert due_in_words(TODAY + timedelta(days=5), TODAY) == "due in 5 days"


def _all_blocks_ok(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(ids) == len(set(ids))


def test_120_bills_split_into_main_message_and_thread_replies() -> None:
    bills = select_due_bills([bill(i, due=(i % 14) - 7) for i in range(120)], today=TODAY,
                             within_days=7)
    messages = digest_messages(bills, {}, summarise(bills, today=TODAY), today=TODAY,
                               within_days=7)
    listed = [bid for m in messages for bid in m.bill_ids]
    assert sorted(listed) == sorted(b.id for b in bills)
    for m in messages:
        _all_blocks_ok(m.blocks)
    assert messages[0].blocks[0]["type"] == "header"
    assert "GBP" in messages[0].blocks[1]["text"]["text"]


def test_pay_button_only_once_approved_and_supplier_text_escaped() -> None:
    b = bill(1, due=1)
    msgs = digest_messages([b], {}, summarise([b], today=TODAY), today=TODAY, within_days=7)
    texts = [e["text"]["text"] for blk in msgs[0].blocks if blk["type"] == "actions"
             for e in blk["elements"]]
    # The header's actions block first, then the bill's own buttons.
    assert msgs[0].blocks[2]["block_id"] == "digest-actions"
    assert texts == ["Pay approved bills", "Approve all", "Approve", "Reject", "Hold", "Details"]
    assert "&lt;1&gt;" in msgs[0].blocks[4]["text"]["text"]
    approved = RowState(approvers=("U1",), needed=1)
    new = replace_bill_row(msgs[0].blocks, b, approved, today=TODAY)
    assert new is not None and len(new) == len(msgs[0].blocks)
    actions = [e["action_id"] for blk in new if blk["type"] == "actions" for e in blk["elements"]]
    assert ACTION_PAY in actions
    assert "<@U1>" in new[4]["text"]["text"]


def test_the_digest_header_carries_approve_all() -> None:
    b = bill(1, due=1)
    msgs = digest_messages([b], {}, summarise([b], today=TODAY), today=TODAY, within_days=7)
    header = [blk for blk in msgs[0].blocks if blk["block_id"] == "digest-actions"]
    assert [e["text"]["text"] for e in header[0]["elements"]] == ["Pay approved bills",
                                                                  "Approve all"]


def test_empty_digest_is_one_short_line() -> None:
    msgs = digest_messages([], {}, summarise([], today=TODAY), today=TODAY, within_days=7)
    assert len(msgs) == 1 and len(msgs[0].blocks) == 1
