"""Hold and Release: the click, the question modal, the row update and the thread post.

Who may act is checked from the database before Codat is read (an outsider's click costs
nothing); `services/holds.py` decides again in the transaction that holds or releases.
"""

from __future__ import annotations

import logging
from typing import Any

from billbot.context_token import ModalContext
from billbot.domain.bill_handles import carried
from billbot.domain.policy import Role
from billbot.logs import bind, event
from billbot.runtime import Billbot
from billbot.services import holds, roles
from billbot.services.bindings import NOT_BOUND
from billbot.slackapp.blocks import row_label
from billbot.slackapp.hold_blocks import hold_modal
from billbot.slackapp.interactions import (
    ephemeral,
    fresh_bill,
    read_signed_form,
    refuse,
    start_click,
)
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.payload import view_value
from billbot.slackapp.rows import refresh_row

logger = logging.getLogger("billbot.holds")


async def hold_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await start_click(bot, body, raw_body, "hold")
    if started is None:
        return
    click, binding = started
    user_roles = await bot.db(lambda s: roles.roles_of(s, bot.policy, click.user_id),
                              read_only=True)
    if not holds.may_hold(user_roles):
        await refuse(bot, user=click.user_id, action="hold", request_id=click.request_id,
                     reason=holds.NOT_ALLOWED, binding=binding, bill_id=click.bill_id)
        await ephemeral(bot, click.channel_id, click.user_id, holds.NOT_ALLOWED)
        return
    if not click.trigger_id:
        return
    # The modal opens at once (the trigger lives 3 s); the bill is read when it is submitted.
    ctx = ModalContext(bill_id=carried(click.bill_id), channel_id=click.channel_id,
                       message_ts=click.message_ts, user_id=click.user_id,
                       issued_at=bot.clock.now().isoformat())
    await open_modal(bot, trigger_id=click.trigger_id, channel_id=click.channel_id,
                     user_id=click.user_id, view=hold_modal(
                         row_label(click.blocks, click.bill_id), metadata=bot.signer.dump(ctx),
                         min_chars=holds.QUESTION_MIN_CHARS, max_chars=holds.QUESTION_MAX_CHARS))


async def hold_submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, ack, body, raw_body, action="hold", error_field="question")
    if form is None:
        return
    value = (view_value(form.view, "question", "question") or {}).get("value")
    question = value if isinstance(value, str) else ""
    problem = holds.question_problem(question)
    if problem:
        await ack(response_action="errors", errors={"question": problem})
        return
    await ack()
    ctx = form.ctx
    bind(bill_id=ctx.bill_id, user_id=form.user, channel_id=ctx.channel_id)
    binding = await bot.binding_for(ctx.channel_id, message_ts=ctx.message_ts)
    if binding is None:
        await refuse(bot, user=form.user, action="hold", request_id=form.request_id,
                     reason=NOT_BOUND, bill_id=ctx.bill_id)
        await ephemeral(bot, ctx.channel_id, form.user, NOT_BOUND)
        return
    bill = await fresh_bill(bot, ctx.channel_id, form.user, binding, ctx.bill_id,
                            action="hold", request_id=form.request_id)
    if bill is None:
        return
    result = await bot.db(lambda s: holds.hold(
        s, bill=bill, binding=binding, user_id=form.user, question=question,
        request_id=form.request_id, policy=bot.policy, at=bot.clock.now()))
    event(logger, "hold", outcome=result.outcome.value)
    if result.outcome != "recorded":
        await ephemeral(bot, ctx.channel_id, form.user, result.message)
    if ctx.message_ts:
        await refresh_row(bot, channel_id=ctx.channel_id, ts=ctx.message_ts, bill=bill,
                          binding=binding)


async def release_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await start_click(bot, body, raw_body, "release")
    if started is None:
        return
    click, binding = started
    standing, user_roles = await bot.db(lambda s: (
        holds.hold_standing(s, binding=binding, bill_id=click.bill_id),
        roles.roles_of(s, bot.policy, click.user_id)), read_only=True)
    if standing is not None and standing[0] != click.user_id and Role.ADMIN not in user_roles:
        reason = (f"Only <@{standing[0]}>, who put it on hold, or a billbot admin can release "
                  "this bill; nothing changed.")
        await refuse(bot, user=click.user_id, action="release", request_id=click.request_id,
                     reason=reason, binding=binding, bill_id=click.bill_id)
        await ephemeral(bot, click.channel_id, click.user_id, reason)
        return
    bill = await fresh_bill(bot, click.channel_id, click.user_id, binding, click.bill_id,
                            action="release", request_id=click.request_id)
    if bill is None:
        return
    result = await bot.db(lambda s: holds.release(
        s, bill=bill, binding=binding, user_id=click.user_id, request_id=click.request_id,
        policy=bot.policy, at=bot.clock.now()))
    event(logger, "release", outcome=result.outcome.value)
    if result.outcome != "recorded":
        await ephemeral(bot, click.channel_id, click.user_id, result.message)
    await refresh_row(bot, channel_id=click.channel_id, ts=click.message_ts, bill=bill,
                      binding=binding, clicked_blocks=click.blocks)
