"""Rejections that stand (issue 14, problem 3): only the person who rejected a bill withdraws
the rejection (asked to confirm), or an admin overrides it with a reason; anyone else's Approve
is refused with who rejected it and why; a reason must say something."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billbot.sandbox.slack.model import Message
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_REJECT, actions_block_id
from billbot.storage import bill_copies
from billbot.storage.db import session_scope
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
    CHANNEL,
    Stack,
    approve,
    audit,
    buttons,
    click,
    current,
    eventually,
    first_due,
    post_digest,
    row_text,
)
from tests.support.books import bookkeeper_adds

WITHDRAW = "Withdraw rejection"
REASON = "Duplicate of last month's invoice"


def reason_values(reason: str) -> dict[str, Any]:
    return {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}


async def reject(stack: Stack, main: Message, bill_id: str, user: str, reason: str) -> Any:
    await click(stack, user, main, bill_id, ACTION_REJECT)
    await eventually(lambda: (v := stack.workspace.open_view(user)) is not None
                     and v.definition.get("callback_id") == "reject_bill")
    return await stack.driver.submit_view(user, reason_values(reason))


async def press_withdraw(stack: Stack, user: str, main: Message, bill_id: str) -> None:
    response = await stack.driver.click(user, CHANNEL, main.ts, text=WITHDRAW,
                                        block_id=actions_block_id(bill_id))
    assert response.status == 200


def withdraw_button(message: Message, bill_id: str) -> dict[str, Any]:
    for block in message.blocks:
        if str(block.get("block_id", "")).startswith(actions_block_id(bill_id)):
            for element in block["elements"]:
                if element["text"]["text"] == WITHDRAW:
                    return dict(element)
    raise AssertionError("no Withdraw rejection button")


async def test_a_rejection_stands_against_another_approvers_approve(stack_factory: Any) -> None:
    stack = stack_factory(billbot_dual_approval_over=Decimal("0"))
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], BEN)
    await reject(stack, main, bill["id"], ANN, REASON)
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), bill["id"]))
    assert WITHDRAW in buttons(current(stack, main.ts), bill["id"])

    await click(stack, BEN, main, bill["id"], ACTION_APPROVE)
    told = await eventually(lambda: [e.text for e in stack.workspace.ephemerals(CHANNEL, BEN)
                                     if "rejected" in e.text])
    assert f"<@{ANN}>" in told[-1] and REASON in told[-1]
    assert "already approved" not in " ".join(told)
    assert audit(stack, "approval.recorded")[-1].actor == BEN  # only the one before the rejection
    assert len(audit(stack, "approval.recorded")) == 1
    assert audit(stack, "rejection.lifted") == []
    text = row_text(current(stack, main.ts), bill["id"])
    assert "Rejected" in text and "Pay" not in buttons(current(stack, main.ts), bill["id"])


async def test_the_rejecter_withdraws_with_confirmation_and_it_is_audited(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await reject(stack, main, bill["id"], BEN, REASON)
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), bill["id"]))
    assert "confirm" in withdraw_button(current(stack, main.ts), bill["id"])

    # Her own Approve does not flip it: she is pointed at the withdraw button.
    await click(stack, BEN, main, bill["id"], ACTION_APPROVE)
    await eventually(lambda: any(WITHDRAW in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, BEN)))
    assert "Rejected" in row_text(current(stack, main.ts), bill["id"])

    await press_withdraw(stack, BEN, main, bill["id"])
    await eventually(lambda: "Rejected" not in row_text(current(stack, main.ts), bill["id"]))
    [entry] = audit(stack, "rejection.withdrawn")
    assert entry.actor == BEN and entry.detail["rejected_by"] == BEN
    await approve(stack, main, bill["id"], ANN)
    assert "Pay" in buttons(current(stack, main.ts), bill["id"])


async def test_someone_else_cannot_withdraw_a_rejection(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await reject(stack, main, bill["id"], BEN, REASON)
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), bill["id"]))
    await press_withdraw(stack, ANN, main, bill["id"])
    told = await eventually(lambda: [e.text for e in stack.workspace.ephemerals(CHANNEL, ANN)
                                     if "admin" in e.text])
    assert f"<@{BEN}>" in told[-1]
    assert audit(stack, "rejection.withdrawn", "rejection.overridden") == []
    assert "Rejected" in row_text(current(stack, main.ts), bill["id"])


async def test_an_admin_overrides_with_a_reason_and_it_is_audited(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await reject(stack, main, bill["id"], BEN, REASON)
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), bill["id"]))
    await press_withdraw(stack, ADA, main, bill["id"])
    await eventually(lambda: (v := stack.workspace.open_view(ADA)) is not None
                     and v.definition.get("callback_id") == "override_rejection")
    short = await stack.driver.submit_view(ADA, reason_values("ok"))
    assert short.outcome == "errors"
    assert "Rejected" in row_text(current(stack, main.ts), bill["id"])
    await stack.driver.submit_view(ADA, reason_values("Confirmed with the supplier by phone"))
    await eventually(lambda: "Rejected" not in row_text(current(stack, main.ts), bill["id"]))
    [entry] = audit(stack, "rejection.overridden")
    assert entry.actor == ADA and entry.detail["rejected_by"] == BEN
    assert "supplier by phone" in entry.detail["reason"]
    await approve(stack, main, bill["id"], ANN)
    assert "Pay" in buttons(current(stack, main.ts), bill["id"])


async def test_a_two_character_reason_is_refused_inline(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    answer = await reject(stack, main, bill["id"], BEN, "  no  ")
    assert answer.outcome == "errors" and "10 characters" in answer.text
    assert audit(stack, "rejection.recorded") == []
    assert "Rejected" not in row_text(current(stack, main.ts), bill["id"])



def copy_token(stack: Stack, ts: str, bill_id: str) -> str | None:
    """The figures the message's copy of the bill shows, as billbot recorded them."""
    with session_scope(stack.bot.engine, read_only=True) as session:
        return bill_copies.shown_token(session, channel_id=CHANNEL, ts=ts, bill_id=bill_id)


async def test_a_rejection_stands_when_the_bill_changes_in_the_books(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await reject(stack, main, bill["id"], BEN, REASON)
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), bill["id"]))
    # A bookkeeper edits the bill: approvals of the old version lapse, the rejection does not.
    stored = stack.sandbox.main_ledger.bills[bill["id"]]
    shown = copy_token(stack, main.ts, bill["id"])
    bookkeeper_adds(stack.sandbox, stored, Decimal("10.00"))
    # The row showed the old figures: that click is refused with the new ones, rows refreshed.
    await click(stack, ANN, main, bill["id"], ACTION_APPROVE)
    await eventually(lambda: stack.workspace.ephemerals(CHANNEL, ANN))
    # The refusal is sent before the row is redrawn: Ann clicks again once the row shows the
    # new figures (a click before would rightly be refused as stale once more).
    await eventually(lambda: copy_token(stack, main.ts, bill["id"]) != shown)
    await click(stack, ANN, main, bill["id"], ACTION_APPROVE)
    told = await eventually(lambda: [e.text for e in stack.workspace.ephemerals(CHANNEL, ANN)
                                     if "rejected" in e.text])
    assert f"<@{BEN}>" in told[-1] and REASON in told[-1]
    assert audit(stack, "approval.recorded") == []
    [lapsed] = audit(stack, "approval.lapsed")
    assert lapsed.detail["rejection_kept"] == BEN
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), bill["id"]))
    assert "Pay" not in buttons(current(stack, main.ts), bill["id"])
