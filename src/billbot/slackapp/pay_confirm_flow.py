"""Confirming the pay form's review step: this alone records the payment.

The review's signed context carries the payer's checked choice. On confirmation the bill and
the account are re-read and checked again, then the payment intent with its Idempotency-Key is
committed before Codat is called (services.payments: exactly once under double submits and
Slack's retries), and the modal and the bill's row end up showing the true outcome. A refusal
from Codat is told to the payer in the modal in plain words; the public row only says the
payment failed.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from billbot.logs import bind, event
from billbot.runtime import Billbot
from billbot.services import controls, payments
from billbot.slackapp import control_blocks
from billbot.slackapp.blocks import loading_modal, message_modal
from billbot.slackapp.interactions import read_signed_form, review_ack
from billbot.slackapp.pay_form import PayChoice
from billbot.slackapp.payer_limits import limits_for
from billbot.slackapp.payload import dig
from billbot.slackapp.payment_outcomes import outcome_text, show_outcome
from billbot.slackapp.payments_flow import check_again, update_modal
from billbot.slackapp.rows import refresh_row
from billbot.storage.audit import BillRef

logger = logging.getLogger("billbot.payments")


async def review_confirmed(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, review_ack(ack, "Cannot pay"), body, raw_body, action="pay",
                                  error_field="review")
    if form is None:
        return
    user, view, ctx, rid = form.user, form.view, form.ctx, form.request_id
    if not (ctx.account_id and ctx.amount and ctx.paid_on):
        await ack(response_action="update", view=message_modal(
            "Cannot pay", "This review is incomplete; nothing was recorded. Press Pay again."))
        return
    shown = control_blocks.carried(ctx.controls)
    not_duplicate = control_blocks.ticked_not_duplicate(view)
    if controls.needs_confirmation(shown) and not not_duplicate:
        await ack(response_action="errors",
                  errors={control_blocks.BLOCK_NOT_DUPLICATE: control_blocks.TICK_FIRST})
        return
    choice = PayChoice(account_id=ctx.account_id, amount=Decimal(ctx.amount),
                       paid_on=date.fromisoformat(ctx.paid_on),
                       currency_rate=Decimal(ctx.currency_rate) if ctx.currency_rate else None)
    await ack(response_action="update", view=loading_modal(
        "Pay bill", ":hourglass_flowing_sand: Recording the payment in Codat…"))
    view_id = str(dig(view, "id") or "")
    bind(bill_id=ctx.bill_id, user_id=user, channel_id=ctx.channel_id)
    checked = await check_again(bot, ctx, choice, user=user, request_id=rid, view_id=view_id)
    if checked is None:
        return
    binding, bill, account = checked.binding, checked.bill, checked.account
    bill_ref = BillRef(binding.company_id, binding.connection_id, bill.id)
    # The controls again, on the bill as it is now: a duplicate that appeared since the form
    # opened was never confirmed, so it is refused and the payer reviews again.
    met = (await controls.check_and_remember(
        bot.codat, bot.engine, company_id=binding.company_id,
        connection_id=binding.connection_id, bills=[bill], today=bot.today(),
        at=bot.clock.now()))[bill.id]
    started = await bot.db(lambda s: payments.start_payment(
        s, bill_ref=bill_ref, fresh_bill=bill, user_id=user, amount=choice.amount,
        account_id=account.id, account_name=account.name, payment_date=choice.paid_on,
        channel_id=ctx.channel_id, message_ts=ctx.message_ts, request_id=rid,
        policy=bot.policy, at=bot.clock.now(), view_id=view_id if 0 < len(view_id) <= 64 else None,
        currency_rate=choice.currency_rate, base_currency=ctx.base_currency,
        controls=met, not_duplicate=not_duplicate, payer_limits=limits_for(bot, user)))
    event(logger, "pay", outcome=started.outcome.value)
    if started.intent_id is None:
        await update_modal(bot, view_id, message_modal("Cannot pay", started.message))
        if ctx.message_ts:
            await refresh_row(bot, channel_id=ctx.channel_id, ts=ctx.message_ts, bill=bill,
                              binding=binding)
        return
    if ctx.message_ts:
        await refresh_row(bot, channel_id=ctx.channel_id, ts=ctx.message_ts, bill=bill,
                          binding=binding)
    outcome = await bot.payments.execute(started.intent_id, bot.payment_codat,
                                        bot.payment_codat.push)
    await update_modal(bot, view_id, message_modal(*outcome_text(outcome,
                                                                 account.name or account.id)))
    await show_outcome(bot, outcome)
