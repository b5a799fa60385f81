"""Approve and Reject: the click, the reason modal, and the row update.

Every decision is taken on the server from the database and a fresh read of the bill:
the click says only who clicked, where, and which bill id.
"""

from __future__ import annotations

import logging
from typing import Any

from billbot.context_token import ModalContext
from billbot.domain.bill_handles import carried
from billbot.domain.policy import Role
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import approvals, copies
from billbot.slackapp.blocks import row_label
from billbot.slackapp.interactions import (
    ephemeral,
    fresh_bill,
    read_reason_form,
    require_role,
    start_click,
)
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.rejection_blocks import reject_modal
from billbot.slackapp.rows import refresh_row
from billbot.slackapp.usergroups_flow import ensure_policy_groups

logger = logging.getLogger("billbot.approvals")


async def approve_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await start_click(bot, body, raw_body, "approve")
    if started is None:
        return
    click, binding = started
    await ensure_policy_groups(bot)  # members of the user groups the rules name, on first use
    if await require_role(bot, click, binding, Role.APPROVER, action="approve",
                          refusal="Only approvers can approve bills, so nothing was recorded.") is None:
        return
    bill = await fresh_bill(bot, click.channel_id, click.user_id, binding, click.bill_id,
                            action="approve", request_id=click.request_id)
    if bill is None:
        return
    # Judged against what the clicked copy showed: nobody approves figures they did not see.
    stale = await bot.db(lambda s: copies.stale_copy_refusal(
        s, channel_id=click.channel_id, ts=click.message_ts, bill=bill, binding=binding,
        user_id=click.user_id, request_id=click.request_id, at=bot.clock.now()))
    if stale is not None:
        event(logger, "approve", outcome="stale_copy")
        await ephemeral(bot, click.channel_id, click.user_id, stale)
        await refresh_row(bot, channel_id=click.channel_id, ts=click.message_ts, bill=bill,
                          binding=binding, clicked_blocks=click.blocks)
        return
    result = await bot.db(lambda s: approvals.approve(
        s, bill=bill, binding=binding, user_id=click.user_id, request_id=click.request_id,
        policy=bot.policy, at=bot.clock.now()))
    event(logger, "approve", outcome=result.outcome.value)
    if result.message and result.outcome != "recorded":
        await ephemeral(bot, click.channel_id, click.user_id, result.message)
    await refresh_row(bot, channel_id=click.channel_id, ts=click.message_ts, bill=bill,
                          binding=binding, clicked_blocks=click.blocks)


async def reject_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await start_click(bot, body, raw_body, "reject")
    if started is None:
        return
    click, binding = started
    await ensure_policy_groups(bot)
    if await require_role(bot, click, binding, Role.APPROVER, action="reject",
                          refusal="Only approvers can reject bills, so nothing was recorded.") is None:
        return
    if not click.trigger_id:
        return
    # Open the modal before anything slow: the trigger id expires 3 s after the click. The
    # bill is read (and its company checked) when the reason is submitted.
    ctx = ModalContext(bill_id=carried(click.bill_id), channel_id=click.channel_id,
                       message_ts=click.message_ts, user_id=click.user_id,
                       issued_at=bot.clock.now().isoformat())
    await open_modal(bot, trigger_id=click.trigger_id, channel_id=click.channel_id,
                     user_id=click.user_id, view=reject_modal(row_label(click.blocks, click.bill_id),
                                                              metadata=bot.signer.dump(ctx)))


async def reject_submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    submitted = await read_reason_form(bot, ack, body, raw_body, action="reject")
    if submitted is None:
        return
    form, binding, bill = submitted.form, submitted.binding, submitted.bill
    result = await bot.db(lambda s: approvals.reject(
        s, bill=bill, binding=binding, user_id=form.user, reason=submitted.reason,
        request_id=form.request_id, policy=bot.policy, at=bot.clock.now()))
    event(logger, "reject", outcome=result.outcome.value)
    if result.message and result.outcome != "recorded":
        await ephemeral(bot, form.ctx.channel_id, form.user, result.message)
    if form.ctx.message_ts:
        await refresh_row(bot, channel_id=form.ctx.channel_id, ts=form.ctx.message_ts, bill=bill,
                          binding=binding)
