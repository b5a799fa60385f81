"""Long Codat bill ids (issue 14, problem 9): a bill whose id is longer than Slack's button
value or block_id limits is carried as a short server-side handle; it can be approved and paid
like any other (exactly one payment each), and a tampered or unknown handle is refused."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from billbot.domain.bill_handles import HANDLE_PREFIX
from billbot.slackapp.blocks import ACTION_APPROVE, actions_block_id
from billbot.slackapp.interactions import NOT_IN_COMPANY
from tests.e2e.conftest import (
    ANN,
    PAT,
    Stack,
    all_blocks,
    approve,
    current,
    eventually,
    first_due,
    modal_account_ids,
    no_slack_violations,
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.security.forge import changed, click_payload, effects, post_interaction, quiet
from tests.support.pay_review import submit_pay

LONG = "L" * 290 + "-0000000300"  # 301 characters: over Slack's 255
LONGEST = "X" * 1990 + "0000002000"  # 2000 characters: Slack's button value limit


def add_long_bill(stack: Stack, bill_id: str, reference: str) -> dict[str, Any]:
    """A GBP bill due today in the sandbox's books, under `bill_id`."""
    bill = copy.deepcopy(first_due(stack))
    due = str(bill["dueDate"])
    bill.update(id=bill_id, reference=reference,
                dueDate=today().isoformat() + due[10:])
    stack.sandbox.main_ledger.bills[bill_id] = bill
    return bill


def button_values(blocks: list[dict[str, Any]], bill_id: str) -> list[str]:
    for block in blocks:
        if str(block.get("block_id", "")).startswith(actions_block_id(bill_id)):
            return [str(e["value"]) for e in block["elements"]]
    raise AssertionError("no buttons for the bill")


def paid_row(stack: Stack, ts: str, bill_id: str) -> Callable[[], bool]:
    return lambda: "Paid" in row_text(current(stack, ts), bill_id)


async def test_bills_with_long_ids_are_approved_and_paid_once_each(stack: Stack) -> None:
    bills = [add_long_bill(stack, LONG, "LONG-300"), add_long_bill(stack, LONGEST, "LONG-2000")]
    main = await post_digest(stack)
    await quiet(stack)
    blocks = all_blocks(stack, main)
    paid_before = len(stack.payments())
    for bill in bills:
        message = next(m for m in [main, *stack.workspace.thread(main.channel, main.ts)]
                       if any(str(b.get("block_id", "")).startswith(actions_block_id(bill["id"]))
                              for b in m.blocks))
        await approve(stack, message, bill["id"])
        view = await open_pay_modal(stack, message, bill["id"])
        assert len(view.to_slack("T", "A", "B")["private_metadata"]) <= 3000
        answer = await submit_pay(stack.driver, PAT, pay_values(
            modal_account_ids(view)[0], str(bill["amountDue"]), today().isoformat()))
        assert answer.status == 200
        await eventually(paid_row(stack, message.ts, bill["id"]))
    paid = stack.payments()[paid_before:]
    assert sorted(p.bill_id for p in paid) == sorted([LONG, LONGEST])
    for bill in bills:  # the buttons carried short handles
        values = button_values(blocks, bill["id"])
        assert values and all(v.startswith(HANDLE_PREFIX) and len(v) <= 64 for v in values)
    no_slack_violations(stack)


async def test_an_unknown_or_tampered_handle_is_refused(stack: Stack) -> None:
    add_long_bill(stack, LONG, "LONG-300")
    main = await post_digest(stack)
    await quiet(stack)
    real = button_values(all_blocks(stack, main), LONG)[0]
    before = effects(stack)
    for forged in (HANDLE_PREFIX + "A" * 26, real[:-1] + ("B" if real[-1] != "B" else "C")):
        answer = await post_interaction(stack, click_payload(
            stack, ANN, main.channel, main, ACTION_APPROVE, forged))
        assert answer.status == 200
    await quiet(stack)
    assert changed(effects(stack), before) == 0
    texts = [e.text for e in stack.workspace.ephemerals(main.channel, ANN)]
    assert texts.count(NOT_IN_COMPANY) == 2, texts
