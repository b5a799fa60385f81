"""Direct messages end to end (BILLBOT_NOTIFY): the bills shown in the digest go, as cards with
the row's buttons, to the people they wait on, once each; acting on a card or on the channel
row brings every copy into step; in channel mode nobody gets a DM."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from billbot.sandbox.slack.model import Message
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY, actions_block_id
from billbot.slackapp.direct_messages import CARD_CONTEXT_BLOCK
from tests.e2e.conftest import (
    ANN,
    BEN,
    PAT,
    Stack,
    approve,
    buttons,
    current,
    eventually,
    first_due,
    modal_account_ids,
    no_slack_violations,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.e2e.conftest import eventually as eventually_within
from tests.support.pay_review import submit_pay


def shows_paid(stack: Stack, card: Message, bill_id: str) -> bool:
    now = stack.workspace.message(card.channel, card.ts)
    return now is not None and "Paid" in row_text(now, bill_id)


async def settled(stack: Stack) -> None:
    """The bot's background work (DM cards, Home views) is done; it runs on the bot's own
    loop, in the served app's thread, so this polls rather than awaits it."""
    await asyncio.sleep(0.5)
    await eventually(lambda: stack.bot.later.pending() == 0)


def cards(stack: Stack, user: str) -> list[Message]:
    return [m for m in stack.workspace.messages(f"D{user}")
            if any(b.get("block_id") == CARD_CONTEXT_BLOCK for b in m.blocks)]


def card_for(stack: Stack, user: str, bill_id: str, kind: str = "approval") -> Message | None:
    for message in cards(stack, user):
        try:
            row_text(message, bill_id)
        except AssertionError:
            continue
        if kind in str(message.blocks[0]):
            return message
    return None


async def test_the_digest_sends_each_waiting_bill_to_its_approvers_once(
        stack_factory: Any) -> None:
    stack = stack_factory(bills=4, billbot_notify="both")
    await post_digest(stack)
    await eventually(lambda: len(cards(stack, ANN)) == 4 and len(cards(stack, BEN)) == 4)
    assert cards(stack, PAT) == []  # nothing is approved yet: nothing waits on the payer
    card = cards(stack, BEN)[0]
    assert [e["text"]["text"] for b in card.blocks if b["type"] == "actions"
            for e in b["elements"]] == ["Approve", "Reject", "Hold", "Details"]
    # Asked again (a second digest, a retry): nobody gets a second card.
    await post_digest(stack)
    await settled(stack)
    assert len(cards(stack, ANN)) == 4 and len(cards(stack, BEN)) == 4
    assert len(stack.workspace.calls("conversations.open")) >= 1
    no_slack_violations(stack)


async def test_acting_anywhere_keeps_every_copy_in_step(stack_factory: Any) -> None:
    # Many steps, each waiting on the bot's work after its acknowledgement: on a loaded
    # machine 30 s was once not enough for the Pay form (Codat read twice, then views.update).
    eventually = partial(eventually_within, within=60.0)
    stack = stack_factory(bills=3, billbot_notify="dm")
    main = await post_digest(stack)
    bill = first_due(stack)
    await eventually(lambda: card_for(stack, BEN, bill["id"]) is not None)
    ben_card = card_for(stack, BEN, bill["id"])
    assert ben_card is not None
    # Ann approves in the channel: Ben's card says so and offers no primary Approve any more.
    await approve(stack, main, bill["id"], user=ANN)
    await eventually(lambda: f"<@{ANN}>" in row_text(
        stack.workspace.message(ben_card.channel, ben_card.ts), bill["id"]))
    # The bill now waits on the payers who did not approve it: Pat gets a card to pay.
    await eventually(lambda: card_for(stack, PAT, bill["id"], "payment") is not None)
    assert card_for(stack, ANN, bill["id"], "payment") is None  # Ann approved it
    pat_card = card_for(stack, PAT, bill["id"], "payment")
    assert pat_card is not None and "Pay" in buttons(pat_card, bill["id"])

    # Pat pays from the DM card: the channel row and every card show the payment.
    earlier = stack.workspace.open_view(PAT)
    await stack.driver.click(PAT, pat_card.channel, pat_card.ts, ACTION_PAY,
                             block_id=actions_block_id(bill["id"]))
    view = await eventually(lambda: (v := stack.workspace.open_view(PAT)) is not None
                            and v is not earlier and v.definition.get("callback_id") == "pay_bill"
                            and v)
    accounts = modal_account_ids(view)
    await submit_pay(stack.driver, PAT, pay_values(accounts[0], str(bill["amountDue"]),
                                                   today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    await eventually(lambda: "Paid" in row_text(current(stack, main.ts), bill["id"]))
    for message in (ben_card, pat_card):
        await eventually(partial(shows_paid, stack, message, bill["id"]))
    no_slack_violations(stack)


async def test_approve_on_a_dm_card_updates_the_channel_row(stack_factory: Any) -> None:
    stack = stack_factory(bills=2, billbot_notify="dm")
    main = await post_digest(stack)
    bill = first_due(stack)
    await eventually(lambda: card_for(stack, BEN, bill["id"]) is not None)
    card = card_for(stack, BEN, bill["id"])
    assert card is not None
    await stack.driver.click(BEN, card.channel, card.ts, ACTION_APPROVE,
                             block_id=actions_block_id(bill["id"]))
    await eventually(lambda: f"<@{BEN}>" in row_text(current(stack, main.ts), bill["id"]))
    await eventually(lambda: f"<@{BEN}>" in row_text(
        stack.workspace.message(card.channel, card.ts), bill["id"]))
    no_slack_violations(stack)


async def test_channel_mode_sends_no_direct_messages(stack_factory: Any) -> None:
    stack = stack_factory(bills=3)
    main = await post_digest(stack)
    await approve(stack, main, first_due(stack)["id"], user=ANN)
    await settled(stack)
    assert stack.workspace.calls("conversations.open") == []
    assert all(cards(stack, u) == [] for u in (ANN, BEN, PAT))
