"""Apply credit note (async API only): the row's button opens the form, good input is
answered with the review, and confirming it alone records anything.

Confirming re-checks everything on the server: the channel's company is on the async API,
the bill (re-read) is still payable by this payer, the account is offered, the credit note is
the bill's supplier's with that much credit left. A new credit note is recorded first, at
most once per number (services/credit_notes.py); the allocation is then a payment intent
carrying the credit note (services/payments.py `CreditUse`), committed before the push and
resolved by its unique reference when an answer is lost, exactly as a payment is.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from billbot.codat.async_api.credit_notes import NewCreditNote, get_credit_note, open_credit_notes
from billbot.codat.errors import CodatError
from billbot.codat.models import Bill
from billbot.context_token import ModalContext
from billbot.domain.bill_controls import payer_limit_problem
from billbot.domain.bill_handles import carried
from billbot.domain.policy import Role
from billbot.domain.versions import BillVersion
from billbot.logs import bind, event
from billbot.money import format_money
from billbot.runtime import Billbot
from billbot.services import approvals, controls, payments
from billbot.services.bindings import API_ASYNC, Binding
from billbot.services.credit_notes import RecordContext, record_credit_note
from billbot.services.intents import PaymentOutcome, PaymentStatus
from billbot.services.payability import why_not_payable
from billbot.slackapp import control_blocks
from billbot.slackapp.blocks import ACTION_CREDIT, loading_modal, message_modal
from billbot.slackapp.credit_blocks import (
    CALLBACK_CREDIT,
    CALLBACK_CREDIT_REVIEW,
    CreditChoice,
    carry_notes,
    check_credit_input,
    credit_modal,
    credit_review_modal,
)
from billbot.slackapp.interactions import (
    ephemeral,
    fresh_bill,
    read_signed_form,
    refuse,
    require_role,
    review_ack,
    start_click,
)
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.pay_form import PayChoice, chosen_account_label
from billbot.slackapp.payer_limits import limits_for
from billbot.slackapp.payload import dig
from billbot.slackapp.payment_outcomes import show_outcome
from billbot.slackapp.payments_flow import accounts_for, check_again, update_modal
from billbot.slackapp.rows import refresh_row
from billbot.storage.audit import BillRef

logger = logging.getLogger("billbot.payments")
ACTION = "credit_note"
TITLE = "Apply credit note"


async def credit_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await start_click(bot, body, raw_body, ACTION)
    if started is None:
        return
    click, binding = started
    if binding.codat_api != API_ASYNC:  # no such button on these rows: a forged click
        await refuse(bot, user=click.user_id, action=ACTION, request_id=click.request_id,
                     reason="not the async API", binding=binding, bill_id=click.bill_id)
        await ephemeral(bot, click.channel_id, click.user_id, payments.NO_CREDIT_HERE)
        return
    user_roles = await require_role(
        bot, click, binding, Role.PAYER, action=ACTION,
        refusal="Only payers can apply credit notes, so nothing was opened or recorded.")
    if user_roles is None or not click.trigger_id:
        return
    opened = await open_modal(bot, trigger_id=click.trigger_id, channel_id=click.channel_id,
                              user_id=click.user_id, view=loading_modal(
        TITLE, ":hourglass_flowing_sand: Reading the bill and credit notes from Codat…"))
    if opened is None:
        return
    view_id = str(dig(opened.data, "view", "id") or "")

    async def show(title: str, text: str) -> None:
        await bot.slack.views_update(view_id=view_id, view=message_modal(title, text))

    bill = await fresh_bill(bot, click.channel_id, click.user_id, binding, click.bill_id,
                            action=ACTION, request_id=click.request_id)
    if bill is None:
        await show(TITLE, "The bill could not be read; nothing was recorded.")
        return
    state = await bot.db(lambda s: approvals.state_of(s, bill=bill, binding=binding,
                                                      policy=bot.policy), read_only=True)
    refusal = why_not_payable(bill, state, user_id=click.user_id, policy=bot.policy,
                              roles=user_roles)
    if refusal:
        await show("Cannot apply credit", refusal)
        return
    try:
        accounts = [a for a in (await accounts_for(bot, binding, bill)).offered
                    if (a.currency or "").upper() == bill.currency.upper()]
        notes = await open_credit_notes(bot.codat.push, binding.company_id,
                                        bill.supplier_ref.id, bill.currency)
    except CodatError:
        await show(TITLE, "Codat did not answer with the accounts and credit notes. "
                          "Try again shortly.")
        return
    if not accounts:
        await show("Cannot apply credit", f"There is no active account in {bill.currency} to "
                                          "record the credit against.")
        return
    met = (await controls.check_and_remember(
        bot.codat, bot.engine, company_id=binding.company_id,
        connection_id=binding.connection_id, bills=[bill], today=bot.today(),
        at=bot.clock.now()))[bill.id]
    ctx = ModalContext(bill_id=carried(bill.id), channel_id=click.channel_id,
                       message_ts=click.message_ts, user_id=click.user_id,
                       issued_at=bot.clock.now().isoformat(), amount_due=str(bill.amount_due),
                       currency=bill.currency, issue_date=bill.issue_date.isoformat(),
                       payee=(bill.supplier_ref.supplier_name or bill.supplier_ref.id)[:150],
                       reference=(bill.reference or bill.id)[:150],
                       controls=control_blocks.carry(met), credit_notes=carry_notes(notes))
    await bot.slack.views_update(view_id=view_id, view=credit_modal(
        bill, notes, accounts, today=bot.today(), metadata=bot.signer.dump(ctx), controls=met))


async def credit_submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    """The form: bad input answered inline; good input answered with the review step."""
    form = await read_signed_form(bot, ack, body, raw_body, action=ACTION, error_field="account")
    if form is None:
        return
    errors, choice = check_credit_input(form.view, form.ctx, today=bot.today())
    if choice is not None and choice.cash > 0:
        over = payer_limit_problem(limits_for(bot, form.user), currency=form.ctx.currency or "",
                                   amount=choice.cash)
        if over:
            errors, choice = {"cash_amount": over.removesuffix(" Nothing was recorded.")}, None
    if errors or choice is None:
        await ack(response_action="errors", errors=errors)
        return
    review_ctx = replace(form.ctx, bill_id=carried(form.ctx.bill_id),
                         issued_at=bot.clock.now().isoformat(), credit_choice=choice.dump(),
                         credit_notes=None)
    await ack(response_action="update", view=credit_review_modal(
        form.ctx, choice, account_label=chosen_account_label(form.view),
        metadata=bot.signer.dump(review_ctx),
        controls=control_blocks.carried(form.ctx.controls)))


async def credit_confirmed(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, review_ack(ack, "Cannot apply credit"), body, raw_body, action=ACTION,
                                  error_field="review")
    if form is None:
        return
    user, ctx, rid = form.user, form.ctx, form.request_id
    if not ctx.credit_choice:
        await ack(response_action="update", view=message_modal(
            "Cannot apply credit", "This review is incomplete; nothing was recorded."))
        return
    choice = CreditChoice.load(ctx.credit_choice)
    not_duplicate = control_blocks.ticked_not_duplicate(form.view)
    if choice.cash > 0 and controls.needs_confirmation(control_blocks.carried(ctx.controls)) \
            and not not_duplicate:
        await ack(response_action="errors",
                  errors={control_blocks.BLOCK_NOT_DUPLICATE: control_blocks.TICK_FIRST})
        return
    await ack(response_action="update", view=loading_modal(
        TITLE, ":hourglass_flowing_sand: Recording it in Codat…"))
    view_id = str(dig(form.view, "id") or "")
    bind(bill_id=ctx.bill_id, user_id=user, channel_id=ctx.channel_id)

    async def show(text: str) -> None:
        await update_modal(bot, view_id, message_modal("Cannot apply credit", text))

    checked = await check_again(bot, ctx, PayChoice(
        account_id=choice.account_id, amount=choice.credit + choice.cash,
        paid_on=date.fromisoformat(choice.paid_on), currency_rate=None),
        user=user, request_id=rid, view_id=view_id)
    if checked is None:
        return
    binding, bill, account = checked.binding, checked.bill, checked.account
    if binding.codat_api != API_ASYNC:
        await refuse(bot, user=user, action=ACTION, request_id=rid, reason="not the async API",
                     binding=binding, bill_id=bill.id)
        await show(payments.NO_CREDIT_HERE)
        return
    if (account.currency or "").upper() != bill.currency.upper():
        await show(f"The account is not in {bill.currency}; nothing was recorded.")
        return
    credit = await _credit_of(bot, binding, bill, choice, user=user, request_id=rid)
    if isinstance(credit, str):
        await show(credit)
        return
    met = (await controls.check_and_remember(
        bot.codat, bot.engine, company_id=binding.company_id,
        connection_id=binding.connection_id, bills=[bill], today=bot.today(),
        at=bot.clock.now()))[bill.id] if choice.cash > 0 else []
    bill_ref = BillRef(binding.company_id, binding.connection_id, bill.id)
    started = await bot.db(lambda s: payments.start_payment(
        s, bill_ref=bill_ref, fresh_bill=bill, user_id=user, amount=choice.credit + choice.cash,
        account_id=account.id, account_name=account.name,
        payment_date=date.fromisoformat(choice.paid_on), channel_id=ctx.channel_id,
        message_ts=ctx.message_ts, request_id=rid, policy=bot.policy, at=bot.clock.now(),
        view_id=view_id if 0 < len(view_id) <= 64 else None, controls=met,
        not_duplicate=not_duplicate, payer_limits=limits_for(bot, user), credit=credit))
    event(logger, "credit_note", outcome=started.outcome.value)
    if ctx.message_ts:
        await refresh_row(bot, channel_id=ctx.channel_id, ts=ctx.message_ts, bill=bill,
                          binding=binding)
    if started.intent_id is None:
        await show(started.message)
        return
    outcome = await bot.payments.execute(started.intent_id, bot.payment_codat,
                                        bot.payment_codat.push)
    await update_modal(bot, view_id, message_modal(*credit_outcome_text(
        outcome, choice, account.name or account.id)))
    await show_outcome(bot, outcome)


async def _credit_of(bot: Billbot, binding: Binding, bill: Bill, choice: CreditChoice, *,
                     user: str, request_id: str) -> payments.CreditUse | str:
    """The credit note to allocate (a new one recorded first), or why nothing is sent."""
    push = bot.payment_codat.push
    if choice.new_number and choice.new_amount and choice.new_date:
        account = next((line.account_ref.id for line in bill.line_items or ()
                        if line.account_ref is not None), None)
        note = NewCreditNote(supplier_id=bill.supplier_ref.id, number=choice.new_number,
                             amount=Decimal(choice.new_amount), currency=bill.currency,
                             issue_date=date.fromisoformat(choice.new_date), account_id=account)
        ctx = RecordContext(BillRef(binding.company_id, binding.connection_id, bill.id),
                            bill_version=BillVersion.of(bill).to_json(), actor=user,
                            request_id=request_id)
        recorded = await record_credit_note(bot.db, push, ctx, note, now=bot.clock.now)
        if recorded.note_id is None:
            return f"{recorded.message} No credit was applied."
        return payments.CreditUse(recorded.note_id, note.number, choice.credit)
    assert choice.note_id is not None
    try:
        found = await get_credit_note(push, binding.company_id, choice.note_id)
    except CodatError:
        return "The credit note could not be read from Codat; nothing was recorded."
    if (found.supplier_ref is None or found.supplier_ref.id != bill.supplier_ref.id
            or (found.currency or bill.currency).upper() != bill.currency.upper()):
        await refuse(bot, user=user, action=ACTION, request_id=request_id, binding=binding,
                     bill_id=bill.id, reason="credit note of another supplier or currency")
        return "That credit note is not this supplier's in the bill's currency; nothing was sent."
    if not found.open or (found.remaining_credit or Decimal(0)) < choice.credit:
        return (f"Credit note {found.label} has only {found.remaining_credit or 0} of credit "
                "left now; nothing was sent. Press Apply credit note again.")
    return payments.CreditUse(found.id, found.number, choice.credit)


def credit_outcome_text(outcome: PaymentOutcome, choice: CreditChoice,
                        account: str) -> tuple[str, str]:
    credit = format_money(choice.credit, outcome.currency)
    if outcome.status is PaymentStatus.SUCCEEDED:
        paid = (f" and recorded a payment of *{format_money(choice.cash, outcome.currency)}* "
                f"from *{account}*") if choice.cash > 0 else ""
        return "Credit applied", (f":white_check_mark: Applied *{credit}* of credit note "
                                  f"*{choice.note_label}*{paid}.")
    if outcome.status is PaymentStatus.FAILED:
        return "Credit not applied", (":x: Nothing was recorded: "
                                      f"{outcome.reason or outcome.message}")
    return "Credit pending", (":hourglass_flowing_sand: Codat has not confirmed it yet. billbot "
                              "keeps following the same request, so it cannot be recorded "
                              "twice; the bill's row will show the outcome.")


def wire(app: Any, bot: Billbot, *, then_work: Callable[[Any], Any],
         first_delivery: Callable[[str], Awaitable[bool]]) -> None:
    """The button and the two modals on the Bolt app (`app.build_bolt_app`)."""
    async def clicked(ack: Any, body: dict[str, Any], request: Any) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await credit_clicked(bot, body, request.raw_body)

    async def submitted(ack: Any, body: dict[str, Any], request: Any) -> None:
        await credit_submitted(bot, then_work(ack), body, request.raw_body)

    async def confirmed(ack: Any, body: dict[str, Any], request: Any) -> None:
        await credit_confirmed(bot, then_work(ack), body, request.raw_body)

    app.action(ACTION_CREDIT)(clicked)
    app.view(CALLBACK_CREDIT)(submitted)
    app.view(CALLBACK_CREDIT_REVIEW)(confirmed)


__all__ = ["credit_clicked", "credit_confirmed", "credit_outcome_text", "credit_submitted",
           "wire"]
