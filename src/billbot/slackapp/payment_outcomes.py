"""A payment's outcome in Slack: the payer's modal, the bill's row and, on failure, a message;
and the recovery tick that finishes payments left open and shows outcomes Slack has not seen."""

from __future__ import annotations

import asyncio
import logging

from billbot import tenancy
from billbot.codat.errors import CodatError
from billbot.money import both_amounts, format_money
from billbot.runtime import Billbot
from billbot.services import intents
from billbot.services.bindings import Binding
from billbot.services.intents import PaymentOutcome, PaymentStatus
from billbot.slackapp.blocks import message_modal
from billbot.slackapp.interactions import ephemeral
from billbot.slackapp.rows import refresh_row

logger = logging.getLogger("billbot.payments")


def outcome_text(outcome: PaymentOutcome, account: str) -> tuple[str, str]:
    money = both_amounts(outcome.amount, outcome.currency, outcome.currency_rate,
                         outcome.base_currency)
    if outcome.status is PaymentStatus.SUCCEEDED:
        return "Paid", f":white_check_mark: Recorded a payment of *{money}* from *{account}*."
    if outcome.status is PaymentStatus.FAILED:
        # Told to the payer only (here and in a private message); the row just says it failed.
        return "Payment failed", (":x: The payment was not recorded: "
                                  f"{outcome.reason or outcome.message}\n"
                                  "Correct what is wrong and press Pay again.")
    return "Payment pending", (":hourglass_flowing_sand: Codat has not confirmed the payment yet. "
                               "billbot keeps trying with the same request, so it cannot be "
                               "recorded twice; the bill's row will show the outcome.")


async def _after_outcome(bot: Billbot, binding: Binding, outcome: PaymentOutcome) -> bool:
    """Show the outcome on the bill's row and tell the payer of a failure; False when the row
    could not be re-rendered (the bill could not be read), so it is tried again later."""
    if outcome.status is PaymentStatus.FAILED and outcome.channel_id:
        await ephemeral(bot, outcome.channel_id, outcome.payer_id,
                        f"The payment of {format_money(outcome.amount, outcome.currency)} was not "
                        f"recorded: {outcome.reason or outcome.message}")
    if not (outcome.channel_id and outcome.message_ts):
        return True
    try:
        bill = await bot.codat.get_bill(binding.company_id, binding.connection_id,
                                        outcome.bill.bill_id)
    except CodatError:
        return False
    await refresh_row(bot, channel_id=outcome.channel_id, ts=outcome.message_ts, bill=bill, binding=binding)
    return True


async def show_outcome(bot: Billbot, outcome: PaymentOutcome, *,
                       in_modal: bool = False) -> None:
    """Bring a final outcome to Slack, then record that it was shown.

    Recorded only after showing: a crash in between shows it again (a row re-rendered twice,
    at worst a repeated failure notice) rather than never. Pending outcomes are not final.
    `in_modal`: also put it in the payer's pay modal (recovery: the process that answered the
    submission may have died with the modal saying "Recording…").
    """
    if outcome.status is PaymentStatus.PENDING:
        return
    if in_modal and outcome.view_id:
        try:
            await bot.slack.views_update(view_id=outcome.view_id, view=message_modal(
                *outcome_text(outcome, outcome.account_name or "the chosen account")))
        except Exception:
            # Closed since (Slack: not_found): the row and, on failure, a message still tell.
            logger.info("the payer's pay modal could not be updated")
    binding = await bot.binding_for(outcome.channel_id, message_ts=outcome.message_ts) \
        if outcome.channel_id else None
    if binding is not None and not await _after_outcome(bot, binding, outcome):
        return
    await bot.db(lambda s: intents.mark_shown(s, outcome.intent_id, now=bot.clock.now()))


async def recover_payments(bot: Billbot) -> None:
    """The recovery tick: finish intents left open, and show every final outcome Slack has
    not seen (finished here, or recorded by a process that died before telling Slack)."""
    outcomes = await bot.payments.recover(bot.payment_codat, push=bot.payment_codat.push)
    grace = bot.clock.now() - bot.payments.settings.lease
    outcomes += await bot.db(lambda s: intents.unshown_outcomes(
        s, finished_before=grace, limit=bot.payments.settings.recover_batch), read_only=True)
    for outcome in outcomes:
        # Its own task: the workspace it enters (OAuth mode) ends with it.
        await asyncio.create_task(_show_recovered(bot, outcome))


async def _show_recovered(bot: Billbot, outcome: PaymentOutcome) -> None:
    """Shown in the workspace the payment was made in (the tick runs in none): its bot token
    and its binding of the channel."""
    if outcome.team_id and not await bot.enter_workspace(tenancy.Workspace(outcome.team_id)):
        logger.info("payment intent %s: its workspace uninstalled billbot; not shown",
                    outcome.intent_id)
        return
    try:
        await show_outcome(bot, outcome, in_modal=True)
    except Exception:
        # Slack or Codat refused for now; it stays unshown and the next tick tries again.
        logger.exception("could not show the outcome of payment intent %s", outcome.intent_id)
