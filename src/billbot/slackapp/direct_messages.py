"""Direct messages: opening a person's DM with the bot and posting into it, and the bill cards
sent there (BILLBOT_NOTIFY=dm|both) to the people a bill waits on, with the channel row's
buttons. A card is claimed in the database before it is posted, so each person gets one card
per bill and state of waiting (approve, pay) whatever the retries and replicas; it is then
indexed like every copy of the bill, so rows.refresh_row keeps it in step."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from billbot.codat.models import Bill
from billbot.domain.bill_handles import handles_of
from billbot.domain.copies import shown_of
from billbot.domain.policy import Role
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import approvals, roles
from billbot.services.bill_status import BillApprovalState
from billbot.services.bindings import Binding
from billbot.services.waiting import Wait, waits_on
from billbot.slackapp.blocks import Block, bill_row
from billbot.slackapp.mrkdwn import clip_mrkdwn
from billbot.slackapp.row_states import row_state_from
from billbot.storage import bill_copies, bill_handles, personal, slack_messages
from billbot.storage.personal import CardKey

logger = logging.getLogger("billbot.direct_messages")

CARD_CONTEXT_BLOCK = "dm-card"
_ASKS = {Wait.APPROVE: "your approval", Wait.PAY: "a payment by you"}


async def dm_channel(bot: Billbot, user_id: str) -> str:
    """The id of the bot's DM with this person (conversations.open, remembered)."""
    known = bot.dm_channels.get(user_id)
    if known is not None:
        return known
    answer = await bot.slack.conversations_open(users=user_id)
    channel = str(answer["channel"]["id"])
    bot.dm_channels[user_id] = channel
    return channel


async def send_dm(bot: Billbot, user_id: str, *, text: str,
                  blocks: list[Block] | None = None) -> tuple[str, str]:
    """Post into the person's DM; (channel, ts). Reminders and notices use this one sender."""
    channel = await dm_channel(bot, user_id)
    answer = await bot.slack.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                              unfurl_links=False, unfurl_media=False)
    return channel, str(answer["ts"])


def card_blocks(bill: Bill, state: BillApprovalState, *, binding_channel: str, wait: Wait,
                today: Any) -> list[Block]:
    """A context line saying where the bill is from and why it came, then the bill's row."""
    intro = {"type": "context", "block_id": CARD_CONTEXT_BLOCK, "elements": [{
        "type": "mrkdwn", "text": clip_mrkdwn(
            f"A bill from <#{binding_channel}> that waits on {_ASKS[wait]}", 3000)}]}
    return [intro, *bill_row(bill, row_state_from(state), today=today)]


async def send_card(bot: Billbot, binding: Binding, bill: Bill, state: BillApprovalState,
                    user_id: str, wait: Wait) -> bool:
    """Send the card unless it was sent already (by anyone, ever); True when this call sent it."""
    key = CardKey(user_id=user_id, company_id=binding.company_id,
                  connection_id=binding.connection_id, bill_id=bill.id, kind=wait.value)
    claimed = await bot.db(lambda s: personal.claim_card(
        s, key, binding_channel=binding.channel_id, at=bot.clock.now()))
    if not claimed:
        return False
    blocks = card_blocks(bill, state, binding_channel=binding.channel_id, wait=wait,
                         today=bot.today())
    handles = handles_of([bill.id])
    try:
        if handles:  # a long id travels as its handle: resolvable before anyone can click
            await bot.db(lambda s: bill_handles.remember(
                s, company_id=binding.company_id, connection_id=binding.connection_id,
                handles=handles, at=bot.clock.now()))
        channel, ts = await send_dm(bot, user_id, text=_fallback(bill, wait), blocks=blocks)
    except Exception:
        # Nothing reached the person (or we cannot tell): a later occasion may send it.
        await bot.db(lambda s: personal.release_card(s, key))
        logger.warning("a DM card could not be sent")
        return False

    def record(session: Session) -> None:
        now = bot.clock.now()
        personal.card_posted(session, key, channel_id=channel, ts=ts)
        slack_messages.save_message(session, channel_id=channel, ts=ts, blocks=blocks,
                                    bill_ids=[bill.id], at=now)
        bill_copies.remember(session, channel_id=channel, ts=ts, company_id=binding.company_id,
                             connection_id=binding.connection_id, digest_ts=None,
                             shown=[shown_of(bill)], at=now)

    await bot.db(record)
    event(logger, "dm card sent", kind=wait.value)
    return True


def _fallback(bill: Bill, wait: Wait) -> str:
    name = bill.supplier_ref.supplier_name or bill.supplier_ref.id
    return f"{bill.reference or bill.id} · {name} waits on {_ASKS[wait]}"[:300]


async def notify_waiting(bot: Billbot, binding: Binding, bills: Sequence[Bill]) -> int:
    """In dm/both mode, send each bill to the people it waits on; the number of cards sent."""
    if bot.settings.billbot_notify == "channel" or not bills:
        return 0

    def read(session: Session) -> tuple[dict[str, BillApprovalState], frozenset[str],
                                         frozenset[str]]:
        return (approvals.states_of(session, bills=bills, binding=binding, policy=bot.policy),
                roles.members(session, bot.policy, Role.APPROVER),
                roles.members(session, bot.policy, Role.PAYER))

    states, approvers, payers = await bot.db(read, read_only=True)
    sent = 0
    for bill in bills:
        state = states.get(bill.id)
        if state is None:
            continue
        for user, wait in waits_on(bill, state, approvers=approvers, payers=payers,
                                   policy=bot.policy).items():
            sent += await send_card(bot, binding, bill, state, user, wait)
    return sent


__all__ = ["CARD_CONTEXT_BLOCK", "card_blocks", "dm_channel", "notify_waiting", "send_card",
           "send_dm"]
