"""A bill's row: what it shows (read from the services' approval state) and its re-render in
place in the message that shows it (chat.update), moving forward only."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings
from billbot.runtime import Billbot
from billbot.services import approvals
from billbot.services.bill_status import BillApprovalState, PaymentView
from billbot.services.bindings import Binding
from billbot.slackapp.blocks import replace_bill_row
from billbot.slackapp.row_model import PaymentState, PaymentSummary, RowState
from billbot.storage import slack_messages

logger = logging.getLogger("billbot.rows")

_STATES = {"succeeded": PaymentState.SUCCEEDED, "failed": PaymentState.FAILED}


def _payment(view: PaymentView) -> PaymentSummary:
    return PaymentSummary(state=_STATES.get(view.state, PaymentState.IN_PROGRESS),
                          amount=view.amount, currency=view.currency, payer_id=view.payer_id,
                          at=view.at, reason=view.reason, currency_rate=view.currency_rate,
                          base_currency=view.base_currency)


def row_state_from(state: BillApprovalState) -> RowState:
    payments = tuple(_payment(p) for p in state.payments)
    return RowState(approvers=state.approvers, needed=state.needed,
                    rejected_by=state.rejected.by if state.rejected else None,
                    reject_reason=state.rejected.reason if state.rejected else None,
                    paid_in_round=state.paid_in_round,
                    last_payment=payments[-1] if payments else None, payments=payments)


def row_state_for(session: Session, binding: Binding, bill: Bill,
                  policy: PolicySettings) -> RowState:
    return row_state_from(approvals.state_of(session, bill=bill, binding=binding, policy=policy))


def row_states_for(session: Session, binding: Binding, bills: Sequence[Bill],
                   policy: PolicySettings) -> dict[str, RowState]:
    states = approvals.states_of(session, bills=bills, binding=binding, policy=policy)
    return {bill_id: row_state_from(state) for bill_id, state in states.items()}


async def row_states(bot: Billbot, binding: Binding, bills: Sequence[Bill]) -> dict[str, RowState]:
    return await bot.db(lambda s: row_states_for(s, binding, bills, bot.policy), read_only=True)


async def refresh_row(bot: Billbot, *, channel_id: str, ts: str, bill: Bill, binding: Binding,
                      clicked_blocks: list[dict[str, Any]] | None = None) -> None:
    """Re-render one bill's row in place in the message that shows it (chat.update).

    The approval and payment state is read in the same transaction that stores the new
    blocks (compare-and-set on the message's version), so a render made from a state read
    earlier can never overwrite one made from a later state: the stored row only moves
    forward. The stored blocks are the source of truth (a concurrent update to another bill
    of the same message is not lost); the clicked message's blocks serve for messages
    billbot did not store. One lock per message keeps this process's updates in order.
    """
    today = bot.today()

    def render(session: Session) -> tuple[list[dict[str, Any]] | None, int | None, bool]:
        """(blocks to show, their stored version, written); (None, ..) when the row is
        not in this message."""
        stored = slack_messages.get_message(session, channel_id=channel_id, ts=ts)
        blocks = list(stored.blocks) if stored else list(clicked_blocks or [])
        state = row_state_for(session, binding, bill, bot.policy)
        new = replace_bill_row(blocks, bill, state, today=today)
        if new is None or stored is None:
            return new, None, True
        expected = stored.version  # read first: the ORM update refreshes `stored`
        written = slack_messages.update_message_blocks(
            session, channel_id=channel_id, ts=ts, expected_version=expected,
            blocks=new, at=bot.clock.now())
        return new, expected + 1, written

    lock = bot.row_locks.setdefault((channel_id, ts), asyncio.Lock())
    async with lock:
        for _ in range(5):
            new, version, written = await bot.db(render)
            if new is None:
                return
            if not written:
                continue  # another replica re-rendered this message first: redo on top
            await bot.slack.chat_update(channel=channel_id, ts=ts, text=fallback_text(new),
                                         blocks=new)
            if version is not None:
                await _resend_if_overtaken(bot, channel_id, ts, version)
            return
        logger.warning("row refresh gave up after repeated conflicts")


async def _resend_if_overtaken(bot: Billbot, channel_id: str, ts: str, version: int) -> None:
    """Another replica may have stored a newer render whose chat.update reached Slack
    before ours: then the newest stored blocks are sent again, so they land last."""
    for _ in range(3):
        latest = await bot.db(lambda s: slack_messages.get_message(s, channel_id=channel_id,
                                                                 ts=ts), read_only=True)
        if latest is None or latest.version == version:
            return
        version = latest.version
        blocks = list(latest.blocks)
        await bot.slack.chat_update(channel=channel_id, ts=ts, text=fallback_text(blocks),
                                     blocks=blocks)


def fallback_text(blocks: list[dict[str, Any]]) -> str:
    for block in blocks:
        if block.get("type") in ("header", "section") and isinstance(block.get("text"), dict):
            return str(block["text"]["text"])[:300]
    return "billbot"


