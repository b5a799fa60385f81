"""Pay: the click opens the pay form; good input is answered with the review step.

The modal opens at once (trigger ids live 3 s) and fills in once Codat has answered. On
submission the input is checked inline (`response_action: errors`); good input is answered
with the review step ("you are about to pay X to Y from Z") in the same acknowledgement, so
no later views.update can race it. Nothing is recorded before the review is confirmed
(slackapp.pay_confirm_flow), which re-reads the bill and the account from Codat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from billbot.codat.errors import CodatError
from billbot.codat.models import BankAccountOption, Bill
from billbot.context_token import ModalContext
from billbot.domain.bill_controls import payer_limit_problem
from billbot.domain.bill_handles import carried
from billbot.domain.policy import Role
from billbot.runtime import Billbot
from billbot.services import approvals, controls
from billbot.services.bindings import NOT_BOUND, Binding
from billbot.services.payability import (
    date_problem,
    payment_accounts,
    why_not_payable,
)
from billbot.slackapp import control_blocks
from billbot.slackapp.account_choices import find_account
from billbot.slackapp.account_search import form_key, offered_accounts
from billbot.slackapp.blocks import loading_modal, message_modal
from billbot.slackapp.interactions import (
    fresh_bill,
    read_signed_form,
    refuse,
    require_role,
    start_click,
)
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.pay_form import (
    PayChoice,
    check_pay_input,
    chosen_account_label,
    pay_modal,
    review_modal,
)
from billbot.slackapp.payer_limits import limits_for
from billbot.slackapp.payload import dig
from billbot.slackapp.rows import refresh_row

logger = logging.getLogger("billbot.payments")


@dataclass(frozen=True)
class Accounts:
    """The accounts a bill may be paid from, and the company's base currency."""

    offered: list[BankAccountOption]
    base_currency: str | None

    def find(self, account_id: str) -> BankAccountOption | None:
        return find_account(self.offered, account_id)


@dataclass(frozen=True)
class Checked:
    """A pay choice checked again against Codat right before it is recorded."""

    binding: Binding
    bill: Bill
    account: BankAccountOption


async def accounts_for(bot: Billbot, binding: Binding, bill: Bill) -> Accounts:
    info = await bot.codat.get_company_info(binding.company_id, binding.connection_id)
    options = await bot.codat.get_payment_mapping_options(binding.company_id, binding.connection_id)
    base = info.base_currency.upper() if info.base_currency else None
    return Accounts(payment_accounts(options.bank_accounts, bill, base), base)


async def pay_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await start_click(bot, body, raw_body, "pay")
    if started is None:
        return
    click, binding = started
    user_roles = await require_role(
        bot, click, binding, Role.PAYER, action="pay",
        refusal="Only payers can pay bills, so nothing was opened or recorded.")
    if user_roles is None:
        return
    if not click.trigger_id:
        return
    opened = await open_modal(bot, trigger_id=click.trigger_id, channel_id=click.channel_id,
                              user_id=click.user_id, view=loading_modal(
        "Pay bill", ":hourglass_flowing_sand: Reading the bill and accounts from Codat…"))
    if opened is None:
        return
    view_id = str(dig(opened.data, "view", "id") or "")

    async def show(title: str, text: str) -> None:
        await bot.slack.views_update(view_id=view_id, view=message_modal(title, text))

    bill = await fresh_bill(bot, click.channel_id, click.user_id, binding, click.bill_id,
                            action="pay", request_id=click.request_id)
    if bill is None:
        await show("Pay bill", "The bill could not be read; nothing was recorded.")
        return
    state = await bot.db(lambda s: approvals.state_of(s, bill=bill, binding=binding,
                                                      policy=bot.policy), read_only=True)
    refusal = why_not_payable(bill, state, user_id=click.user_id, policy=bot.policy,
                              roles=user_roles)
    if refusal:
        await show("Cannot pay", refusal)
        await refresh_row(bot, channel_id=click.channel_id, ts=click.message_ts, bill=bill,
                              binding=binding, clicked_blocks=click.blocks)
        return
    try:
        accounts = await accounts_for(bot, binding, bill)
    except CodatError:
        await show("Pay bill", "Codat did not answer with the payment accounts. Try again shortly.")
        return
    if not accounts.offered:
        await show("Cannot pay", f"There is no active bank account in {bill.currency} or the "
                                 "company's base currency to pay this bill from.")
        return
    # A payer limited to some currencies is told before filling the form in.
    limits = limits_for(bot, click.user_id)
    if limits and bill.currency.upper() not in limits:
        await show("Cannot pay", payer_limit_problem(limits, currency=bill.currency,
                                                     amount=bill.amount_due or Decimal(0)) or "")
        return
    met = (await controls.check_and_remember(
        bot.codat, bot.engine, company_id=binding.company_id,
        connection_id=binding.connection_id, bills=[bill], today=bot.today(),
        at=bot.clock.now()))[bill.id]
    ctx = ModalContext(bill_id=carried(bill.id), channel_id=click.channel_id, message_ts=click.message_ts,
                       user_id=click.user_id, issued_at=bot.clock.now().isoformat(),
                       amount_due=str(bill.amount_due), currency=bill.currency,
                       issue_date=bill.issue_date.isoformat(),
                       base_currency=accounts.base_currency,
                       payee=(bill.supplier_ref.supplier_name or bill.supplier_ref.id)[:150],
                       reference=(bill.reference or bill.id)[:150],
                       controls=control_blocks.carry(met))
    metadata = bot.signer.dump(ctx)
    offered_accounts(bot).remember(form_key(metadata), accounts.offered)
    await bot.slack.views_update(view_id=view_id, view=pay_modal(
        bill, accounts.offered, today=bot.today(), metadata=metadata,
        base_currency=accounts.base_currency, controls=met))


async def pay_submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    """The form: bad input answered inline; good input answered with the review step."""
    form = await read_signed_form(bot, ack, body, raw_body, action="pay", error_field="account")
    if form is None:
        return
    errors, choice = check_pay_input(form.view, form.ctx, today=bot.today())
    if choice is not None:  # the payer's limit, named, on the amount
        over = payer_limit_problem(limits_for(bot, form.user), currency=form.ctx.currency or "",
                                   amount=choice.amount)
        if over:
            errors, choice = {"amount": over.removesuffix(" Nothing was recorded.")}, None
    if errors or choice is None:
        await ack(response_action="errors", errors=errors)
        return
    review_ctx = replace(form.ctx, bill_id=carried(form.ctx.bill_id), issued_at=bot.clock.now().isoformat(),
                         account_id=choice.account_id, amount=str(choice.amount),
                         paid_on=choice.paid_on.isoformat(),
                         currency_rate=str(choice.currency_rate) if choice.currency_rate else None)
    await ack(response_action="update", view=review_modal(
        form.ctx, choice, account_label=chosen_account_label(form.view),
        metadata=bot.signer.dump(review_ctx),
        controls=control_blocks.carried(form.ctx.controls)))


async def update_modal(bot: Billbot, view_id: str, view: dict[str, Any]) -> None:
    if view_id:
        try:
            await bot.slack.views_update(view_id=view_id, view=view)
        except Exception:
            logger.warning("could not update the pay modal")  # the row still shows the outcome


async def check_again(bot: Billbot, ctx: ModalContext, choice: PayChoice, *, user: str,
                      request_id: str, view_id: str) -> Checked | None:
    """The bill re-read from Codat and the chosen account among those it may be paid from;
    None when either fails (the payer is told in the modal, nothing is recorded)."""
    async def show(text: str) -> None:
        await update_modal(bot, view_id, message_modal("Cannot pay", text))

    binding = await bot.binding_for(ctx.channel_id, message_ts=ctx.message_ts)
    if binding is None:
        await refuse(bot, user=user, action="pay", request_id=request_id, reason=NOT_BOUND,
                     bill_id=ctx.bill_id)
        await show(NOT_BOUND)
        return None
    # The bill is re-read right before paying: a bill changed since its approval, or no
    # longer payable, is refused with the reason (services.payments checks it again).
    bill = await fresh_bill(bot, ctx.channel_id, user, binding, ctx.bill_id, action="pay",
                            request_id=request_id)
    if bill is None:
        await show("The bill could not be read from Codat; nothing was recorded.")
        return None
    try:
        accounts = await accounts_for(bot, binding, bill)
    except CodatError:
        await show("Codat did not answer with the payment accounts; nothing was recorded. "
                   "Try again shortly.")
        return None
    account = accounts.find(choice.account_id)
    if account is None:
        await refuse(bot, user=user, action="pay", request_id=request_id, binding=binding,
                     bill_id=bill.id, reason=f"account {choice.account_id[:64]} not offered")
        await show("That account is not an active account in the bill's or the company's base "
                   "currency; nothing was recorded.")
        return None
    problem = date_problem(choice.paid_on, issued_on=bill.issue_date, today=bot.today())
    if problem:
        await show(f"{problem} Nothing was recorded.")
        return None
    return Checked(binding, bill, account)


