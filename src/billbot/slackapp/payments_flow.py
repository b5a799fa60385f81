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

from billbot.bot import Billbot
from billbot.codat.errors import CodatError
from billbot.codat.models import AccountStatus, BankAccountOption, Bill
from billbot.domain.policy import PolicySettings, Role, can_pay
from billbot.logs import bind, event
from billbot.money import format_money, minor_units, parse_amount
from billbot.services import approvals, intents, payments
from billbot.services.bindings import Binding
from billbot.services.intents import PaymentOutcome, PaymentStatus
from billbot.services.state import BillApprovalState
from billbot.slackapp.approvals_flow import (
    NOT_BOUND,
    _start,
    ephemeral,
    fresh_bill,
    refuse,
    require_role,
)
from billbot.slackapp.context_token import BadContext, ModalContext
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.payload import dig, request_id, text_at, view_value
from billbot.slackapp.views import loading_modal, message_modal, pay_modal
from billbot.storage.audit import BillRef

logger = logging.getLogger("billbot.payments")


def payment_accounts(options: list[BankAccountOption], bill: Bill,
                     base_currency: str | None) -> list[BankAccountOption]:
    """Active accounts (credit accounts included) in the bill's or the base currency."""
    allowed = {bill.currency.upper()} | ({base_currency.upper()} if base_currency else set())
    return [a for a in options if a.status is AccountStatus.ACTIVE
            and (a.currency or "").upper() in allowed]


def why_not_payable(bill: Bill, state: BillApprovalState, *, user_id: str, policy: PolicySettings,
                    roles: frozenset[Role]) -> str | None:
    """Why this payer cannot pay this bill now (checked again when the payment starts)."""
    if not bill.status.payable:
        return f"The bill is {bill.status.value}; only open or part-paid bills can be paid."
    if bill.amount_due is None:
        return "The bill's amount due is unknown, so it cannot be paid from Slack."
    if state.rejected is not None:
        return f"The bill was rejected by <@{state.rejected.by}>; an approver must approve it first."
    if state.lapsed or not state.is_approved:
        if state.lapsed:
            return ("The bill changed in the accounting software since it was approved, so it "
                    "must be approved again before it can be paid.")
        return f"The bill needs {state.needed} approval(s) before it can be paid."
    if state.payment_in_progress:
        return payments.PAYMENT_IN_PROGRESS
    decision = can_pay(user_id, roles, policy, state.approvers)
    return None if decision else decision.reason


async def _accounts_for(bot: Billbot, binding: Binding, bill: Bill) -> list[BankAccountOption]:
    info = await bot.codat.get_company_info(binding.company_id, binding.connection_id)
    options = await bot.codat.get_payment_mapping_options(binding.company_id, binding.connection_id)
    return payment_accounts(options.bank_accounts, bill, info.base_currency)


async def pay_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await _start(bot, body, raw_body, "pay")
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
        await bot.refresh_row(channel_id=click.channel_id, ts=click.message_ts, bill=bill,
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
    due = parse_amount(ctx.amount_due or "")
    currency = ctx.currency or "XXX"
    if amount is None:
        errors["amount"] = "Enter the amount as a number, e.g. 1250.00."
    elif amount <= 0:
        errors["amount"] = "The amount must be more than zero."
    elif due is not None and amount > due:
        errors["amount"] = f"That is more than the {format_money(due, currency)} due."
    elif -amount.as_tuple().exponent > minor_units(currency):  # type: ignore[operator]
        errors["amount"] = f"{currency} amounts have at most {minor_units(currency)} decimals."
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
    user = text_at(body, "user", "id", limit=64)
    view = body.get("view")
    token = text_at(view, "private_metadata", limit=3000)
    rid = request_id(raw_body)
    if not user or not token:
        await ack(response_action="errors", errors={"account": "This form is malformed."})
        if user:
            await refuse(bot, user=user, action="pay", request_id=rid, reason="malformed form")
        return
    try:
        ctx = bot.signer.load(token, now=bot.clock.now(), user_id=user)
    except BadContext as exc:
        await ack(response_action="errors", errors={"account": str(exc)})
        await refuse(bot, user=user, action="pay", request_id=rid, reason=str(exc))
        return
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
            await _refresh_after(bot, binding, bill, ctx.channel_id, ctx.message_ts)
        return
    if ctx.message_ts:
        await _refresh_after(bot, binding, bill, ctx.channel_id, ctx.message_ts)
    outcome = await bot.payments.execute(started.intent_id, bot.payment_codat)
    await show(*_outcome_text(outcome, account.name or account.id))
    await show_outcome(bot, outcome)


def _outcome_text(outcome: PaymentOutcome, account: str) -> tuple[str, str]:
    money = format_money(outcome.amount, outcome.currency)
    if outcome.status is PaymentStatus.SUCCEEDED:
        return "Paid", f":white_check_mark: Recorded a payment of *{money}* from *{account}*."
    if outcome.status is PaymentStatus.FAILED:
        return "Payment failed", f":x: The payment was not recorded: {outcome.reason or outcome.message}"
    return "Payment pending", (":hourglass_flowing_sand: Codat has not confirmed the payment yet. "
                               "billbot keeps trying with the same request, so it cannot be "
                               "recorded twice; the bill's row will show the outcome.")


async def _refresh_after(bot: Billbot, binding: Binding, bill: Bill, channel: str, ts: str) -> None:
    await bot.refresh_row(channel_id=channel, ts=ts, bill=bill, binding=binding)


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
    await _refresh_after(bot, binding, bill, outcome.channel_id, outcome.message_ts)
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
                *_outcome_text(outcome, outcome.account_name or "the chosen account")))
        except Exception:
            # Closed since (Slack: not_found): the row and, on failure, a message still tell.
            logger.info("the payer's pay modal could not be updated")
    binding = await bot.binding_for(outcome.channel_id) if outcome.channel_id else None
    if binding is not None and not await _after_outcome(bot, binding, outcome):
        return
    await bot.db(lambda s: intents.mark_shown(s, outcome.intent_id, now=bot.clock.now()))


async def recover_payments(bot: Billbot) -> None:
    """The recovery tick: finish intents left open, and show every final outcome Slack has
    not seen (finished here, or recorded by a process that died before telling Slack)."""
    outcomes = await bot.payments.recover(bot.payment_codat)
    grace = bot.clock.now() - bot.payments.settings.lease
    outcomes += await bot.db(lambda s: intents.unshown_outcomes(
        s, finished_before=grace, limit=bot.payments.settings.recover_batch), read_only=True)
    for outcome in outcomes:
        try:
            await show_outcome(bot, outcome, in_modal=True)
        except Exception:
            # Slack or Codat refused for now; it stays unshown and the next tick tries again.
            logger.exception("could not show the outcome of payment intent %s", outcome.intent_id)
