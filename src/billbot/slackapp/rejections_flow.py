"""Withdraw rejection: the rejecter withdraws her own (the button asks to confirm); an admin
pressing it on someone else's rejection is asked for a reason (modal) and overrides it.

Who may lift the rejection is decided before Codat is read, from the database alone, so the
admin's modal opens within the click's 3-second trigger; the service decides again, in the
transaction that lifts it, against the bill read afresh.
"""

from __future__ import annotations

import logging
from typing import Any

from billbot.codat.models import Bill
from billbot.context_token import ModalContext
from billbot.domain.bill_handles import carried
from billbot.domain.policy import Role, can_lift_rejection
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import approvals, roles
from billbot.services.bindings import Binding
from billbot.slackapp.blocks import row_label
from billbot.slackapp.interactions import (
    ephemeral,
    fresh_bill,
    read_reason_form,
    refuse,
    start_click,
)
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.rejection_blocks import override_modal
from billbot.slackapp.rows import refresh_row

logger = logging.getLogger("billbot.approvals")

ACTION = "withdraw_rejection"


async def withdraw_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await start_click(bot, body, raw_body, ACTION)
    if started is None:
        return
    click, binding = started
    rejection, user_roles = await bot.db(lambda s: (
        approvals.rejection_of(s, binding=binding, bill_id=click.bill_id),
        roles.roles_of(s, bot.policy, click.user_id)), read_only=True)
    if rejection is not None:
        decision = can_lift_rejection(click.user_id, user_roles, rejection.by, None)
        if not decision and Role.ADMIN in user_roles:
            if click.trigger_id:
                ctx = ModalContext(bill_id=carried(click.bill_id), channel_id=click.channel_id,
                                   message_ts=click.message_ts, user_id=click.user_id,
                                   issued_at=bot.clock.now().isoformat())
                await open_modal(bot, trigger_id=click.trigger_id, channel_id=click.channel_id,
                                 user_id=click.user_id, view=override_modal(
                                     row_label(click.blocks, click.bill_id), rejection.by,
                                     rejection.reason, metadata=bot.signer.dump(ctx)))
            return
        if not decision:
            await refuse(bot, user=click.user_id, action=ACTION, request_id=click.request_id,
                         reason=decision.reason, binding=binding, bill_id=click.bill_id)
            await ephemeral(bot, click.channel_id, click.user_id, decision.reason)
            return
    bill = await fresh_bill(bot, click.channel_id, click.user_id, binding, click.bill_id,
                            action=ACTION, request_id=click.request_id)
    if bill is None:
        return
    await _lift(bot, binding=binding, bill=bill, user=click.user_id, reason=None,
                request_id=click.request_id, channel_id=click.channel_id, ts=click.message_ts)


async def override_submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    submitted = await read_reason_form(bot, ack, body, raw_body, action=ACTION)
    if submitted is None:
        return
    form = submitted.form
    await _lift(bot, binding=submitted.binding, bill=submitted.bill, user=form.user,
                reason=submitted.reason, request_id=form.request_id,
                channel_id=form.ctx.channel_id, ts=form.ctx.message_ts)


async def _lift(bot: Billbot, *, binding: Binding, bill: Bill, user: str, reason: str | None,
                request_id: str, channel_id: str, ts: str | None) -> None:
    result = await bot.db(lambda s: approvals.lift_rejection(
        s, bill=bill, binding=binding, user_id=user, reason=reason, request_id=request_id,
        policy=bot.policy, at=bot.clock.now()))
    event(logger, ACTION, outcome=result.outcome.value)
    if result.message and result.outcome != "recorded":
        await ephemeral(bot, channel_id, user, result.message)
    if ts:
        await refresh_row(bot, channel_id=channel_id, ts=ts, bill=bill, binding=binding)
