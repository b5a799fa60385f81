"""Pay: the click opens the account modal; the submission records exactly one bill payment.

The modal opens at once (trigger ids live 3 s) and fills in once Codat has answered. On
submission the input is checked inline (`response_action: errors`), then the payment intent
with its Idempotency-Key is committed before Codat is called (services.payments), and the
modal and the bill's row end up showing the true outcome.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from billbot.codat.errors import CodatError
from billbot.codat.models import BankAccountOption, Bill
from billbot.context_token import ModalContext
from billbot.domain.policy import Role
from billbot.logs import bind, event
from billbot.money import parse_amount
from billbot.runtime import Billbot
from billbot.services import approvals, payments
from billbot.services.bindings import NOT_BOUND, Binding
from billbot.services.payability import amount_problem, payment_accounts, why_not_payable
from billbot.slackapp.blocks import loading_modal, message_modal, pay_modal
from billbot.slackapp.interactions import (
    fresh_bill,
    read_signed_form,
    refuse,
    require_role,
    start_click,
)
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.payload import dig, text_at, view_value
from billbot.slackapp.payment_outcomes import outcome_text, show_outcome
from billbot.slackapp.rows import refresh_row
from billbot.storage.audit import BillRef

logger = logging.getLogger("billbot.payments")


async def _accounts_for(bot: Billbot, binding: Binding, bill: Bill) -> list[BankAccountOption]:
    info = await bot.codat.get_company_info(binding.company_id, binding.connection_id)
    options = await bot.codat.get_payment_mapping_options(binding.company_id, binding.connection_id)
    return payment_accounts(options.bank_accounts, bill, info.base_currency)


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
        accounts = await _accounts_for(bot, binding, bill)
    except CodatError:
        await show("Pay bill", "Codat did not answer with the payment accounts. Try again shortly.")
        return
    if not accounts:
        await show("Cannot pay", f"There is no active bank account in {bill.currency} or the "
                                 "company's base currency to pay this bill from.")
        return
    ctx = ModalContext(bill_id=bill.id, channel_id=click.channel_id, message_ts=click.message_ts,
                       user_id=click.user_id, issued_at=bot.clock.now().isoformat(),
                       amount_due=str(bill.amount_due), currency=bill.currency)
    await bot.slack.views_update(view_id=view_id, view=pay_modal(
        bill, accounts, today=bot.today(), metadata=bot.signer.dump(ctx)))


def check_pay_input(view: Any, ctx: ModalContext) -> tuple[dict[str, str], str | None,
                                                             Decimal | None, date | None]:
    """The modal's values, and an error per offending input block (empty when all is well)."""
    errors: dict[str, str] = {}
    account = text_at(view_value(view, "account", "account"), "selected_option", "value", limit=255)
    if not account:
        errors["account"] = "Choose the account the payment comes from."
    raw_amount = (view_value(view, "amount", "amount") or {}).get("value")
    amount = parse_amount(raw_amount) if isinstance(raw_amount, str) else None
    if amount is None:
        errors["amount"] = "Enter the amount as a number, e.g. 1250.00."
    else:
        problem = amount_problem(amount, due=parse_amount(ctx.amount_due or ""),
                                 currency=ctx.currency or "XXX")
        if problem:
            errors["amount"] = problem
    raw_date = (view_value(view, "date", "date") or {}).get("selected_date")
    paid_on: date | None = None
    try:
        paid_on = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        paid_on = None
    if paid_on is None:
        errors["date"] = "Pick the payment date."
    return errors, account, amount, paid_on


async def pay_submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, ack, body, raw_body, action="pay", error_field="account")
    if form is None:
        return
    user, view, ctx, rid = form.user, form.view, form.ctx, form.request_id
    errors, account_id, amount, paid_on = check_pay_input(view, ctx)
    if errors or account_id is None or amount is None or paid_on is None:
        await ack(response_action="errors", errors=errors)
        return
    await ack(response_action="update", view=loading_modal(
        "Pay bill", ":hourglass_flowing_sand: Recording the payment in Codat…"))
    view_id = str(dig(view, "id") or "")
    bind(bill_id=ctx.bill_id, user_id=user, channel_id=ctx.channel_id)

    async def show(title: str, text: str) -> None:
        if view_id:
            try:
                await bot.slack.views_update(view_id=view_id, view=message_modal(title, text))
            except Exception:
                logger.warning("could not update the pay modal")  # the row still shows the outcome

    binding = await bot.binding_for(ctx.channel_id)
    if binding is None:
        await refuse(bot, user=user, action="pay", request_id=rid, reason=NOT_BOUND,
                     bill_id=ctx.bill_id)
        await show("Cannot pay", NOT_BOUND)
        return
    # The bill is re-read right before paying: a bill changed since its approval, or no
    # longer payable, is refused with the reason (services.payments checks it again).
    bill = await fresh_bill(bot, ctx.channel_id, user, binding, ctx.bill_id, action="pay",
                            request_id=rid)
    if bill is None:
        await show("Cannot pay", "The bill could not be read from Codat; nothing was recorded.")
        return
    try:
        accounts = await _accounts_for(bot, binding, bill)
    except CodatError:
        await show("Cannot pay", "Codat did not answer with the payment accounts; nothing was "
                                 "recorded. Try again shortly.")
        return
    account = next((a for a in accounts if a.id == account_id), None)
    if account is None:
        await refuse(bot, user=user, action="pay", request_id=rid, binding=binding,
                     bill_id=bill.id, reason=f"account {account_id[:64]} not offered")
        await show("Cannot pay", "That account is not an active account in the bill's or the "
                                 "company's base currency; nothing was recorded.")
        return
    bill_ref = BillRef(binding.company_id, binding.connection_id, bill.id)
    started = await bot.db(lambda s: payments.start_payment(
        s, bill_ref=bill_ref, fresh_bill=bill, user_id=user, amount=amount,
        account_id=account.id, account_name=account.name, payment_date=paid_on,
        channel_id=ctx.channel_id, message_ts=ctx.message_ts, request_id=rid,
        policy=bot.policy, at=bot.clock.now(), view_id=view_id if 0 < len(view_id) <= 64 else None))
    event(logger, "pay", outcome=started.outcome.value)
    if started.intent_id is None:
        await show("Cannot pay", started.message)
        if ctx.message_ts:
            await refresh_row(bot, channel_id=ctx.channel_id, ts=ctx.message_ts, bill=bill, binding=binding)
        return
    if ctx.message_ts:
        await refresh_row(bot, channel_id=ctx.channel_id, ts=ctx.message_ts, bill=bill, binding=binding)
    outcome = await bot.payments.execute(started.intent_id, bot.payment_codat)
    await show(*outcome_text(outcome, account.name or account.id))
    await show_outcome(bot, outcome)
