"""Opening a pay run: from the digest header's `Pay approved bills`, `/bills payrun` or App
Home (`open_payrun`, which the Home tab calls with its trigger). A payer who can pay for
several bound companies chooses one first; the form then offers that company's payable
approved bills (stored as the run's draft, so the form carries only positions)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from decimal import Decimal
from typing import Any

from billbot.codat.errors import CodatError
from billbot.context_token import ModalContext
from billbot.domain.policy import Role
from billbot.runtime import Billbot
from billbot.services import approvals, bindings, payruns, roles
from billbot.services.bindings import API_ASYNC, NOT_BOUND, Binding
from billbot.services.payrun_plan import plan_run, supplier_of
from billbot.services.payruns import Offered
from billbot.slackapp.blocks import loading_modal, message_modal
from billbot.slackapp.interactions import ephemeral, read_signed_form, refuse
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.payload import dig, request_id, text_at, view_value
from billbot.slackapp.payrun_blocks import (
    TITLE,
    FormPage,
    company_chooser,
    form_modal,
    not_offered_lines,
)

logger = logging.getLogger("billbot.payruns")

ONLY_PAYERS = "Only payers can pay bills, so no pay run was opened."


async def _payer_roles(bot: Billbot, user_id: str) -> frozenset[Role]:
    now = bot.clock.now()  # a delegate covering an absent payer pays for them
    return await bot.db(lambda s: roles.roles_of(s, bot.policy, user_id, at=now),
                        read_only=True)


async def open_payrun(bot: Billbot, *, user_id: str, trigger_id: str,
                      channel_id: str | None = None, request: str = "",
                      company_channel: str | None = None) -> None:
    """Open the pay run for `user_id` with `trigger_id` (within Slack's 3 seconds).

    `company_channel`: the run is for the company bound to that channel (the digest header's
    button); otherwise the payer chooses when several companies are bound (the channel's
    preselected). Refusals go to the person in `channel_id`, or into the modal.
    """
    user_roles = await _payer_roles(bot, user_id)
    if Role.PAYER not in user_roles:
        await refuse(bot, user=user_id, action="payrun", request_id=request, reason="not payer")
        if channel_id:
            await ephemeral(bot, channel_id, user_id, ONLY_PAYERS)
        else:
            await bot.slack.views_open(trigger_id=trigger_id, view=message_modal(TITLE,
                                                                                  ONLY_PAYERS))
        return
    opened = await open_modal(bot, trigger_id=trigger_id, channel_id=channel_id or "",
                              user_id=user_id, view=loading_modal(
        TITLE, ":hourglass_flowing_sand: Reading the approved bills from Codat…"))
    if opened is None:
        return
    view_id = str(dig(opened.data, "view", "id") or "")
    bound = await bot.db(lambda s: bindings.list_bindings(s), read_only=True)
    if company_channel is not None:
        bound = [b for b in bound if b.channel_id == company_channel]
    companies: dict[tuple[str, str], Binding] = {}
    for b in bound:  # one channel per company: the asking channel's when it is bound to it
        key = (b.company_id, b.connection_id)
        if key not in companies or b.channel_id == channel_id:
            companies[key] = b
    if not companies:
        await bot.slack.views_update(view_id=view_id, view=message_modal(TITLE, NOT_BOUND))
        return
    if len(companies) > 1:
        await _show_chooser(bot, view_id, user_id, list(companies.values()), channel_id)
        return
    await fill_form(bot, view_id=view_id, user_id=user_id, binding=next(iter(companies.values())),
                    user_roles=user_roles)


async def _company_name(bot: Billbot, binding: Binding) -> str:
    try:
        info = await bot.codat.get_company_info(binding.company_id, binding.connection_id)
    except CodatError:
        return binding.company_id
    return info.company_name or binding.company_id


async def _show_chooser(bot: Billbot, view_id: str, user_id: str, choices: list[Binding],
                        channel_id: str | None) -> None:
    names = await asyncio.gather(*(_company_name(bot, b) for b in choices))
    ctx = ModalContext(bill_id="", channel_id=channel_id or choices[0].channel_id,
                       message_ts=None, user_id=user_id, issued_at=bot.clock.now().isoformat())
    labels = [(b.channel_id, name) for b, name in zip(choices, names, strict=True)]
    await bot.slack.views_update(view_id=view_id, view=company_chooser(
        labels, initial=channel_id, metadata=bot.signer.dump(ctx)))


async def company_chosen(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, ack, body, raw_body, action="payrun",
                                  error_field="company")
    if form is None:
        return
    channel = text_at(view_value(form.view, "company", "company"), "selected_option", "value",
                      limit=64)
    binding = await bot.binding_for(channel) if channel else None
    if binding is None:
        await ack(response_action="errors", errors={"company": "Choose a company."})
        return
    await ack(response_action="update", view=loading_modal(
        TITLE, ":hourglass_flowing_sand: Reading the approved bills from Codat…"))
    user_roles = await _payer_roles(bot, form.user)
    await fill_form(bot, view_id=str(dig(form.view, "id") or ""), user_id=form.user,
                    binding=binding, user_roles=user_roles)


async def fill_form(bot: Billbot, *, view_id: str, user_id: str, binding: Binding,
                    user_roles: frozenset[Role]) -> uuid.UUID | None:
    """The run's form in the open modal; the offered bills stored as the run's draft."""
    async def show(text: str) -> None:
        await bot.slack.views_update(view_id=view_id, view=message_modal(TITLE, text))

    company, connection = binding.company_id, binding.connection_id
    try:
        bills = await bot.codat.list_bills(company, connection)
        info = await bot.codat.get_company_info(company, connection)
        options = await bot.codat.get_payment_mapping_options(company, connection)
    except CodatError:
        await show("Codat did not answer with the bills and accounts; nothing was recorded. "
                   "Try again shortly.")
        return None
    base = info.base_currency.upper() if info.base_currency else None
    platform = await _platform(bot, binding)
    states = await bot.db(lambda s: approvals.states_of(s, bills=bills, binding=binding,
                                                        policy=bot.policy), read_only=True)
    plan = plan_run(bills, states, user_id=user_id, roles=user_roles, policy=bot.policy,
                    options=options.bank_accounts, base_currency=base)
    if not plan.offered:
        lines = not_offered_lines(plan.not_offered)[:20]
        await show("There are no approved bills you can pay now." +
                   ("\n" + "\n".join(lines) if lines else ""))
        return None
    offered = [Offered(bill_id=b.id, reference=b.reference, supplier=supplier_of(b),
                       currency=b.currency, amount=b.amount_due or Decimal(0),
                       issue_date=b.issue_date, supplier_id=b.supplier_ref.id)
               for b in plan.offered]
    run_id = await bot.db(lambda s: payruns.create_draft(
        s, binding=binding, payer_id=user_id, offered=offered, base_currency=base,
        at=bot.clock.now(), platform=platform))
    items = await bot.db(lambda s: payruns.items_of(s, run_id), read_only=True)
    ctx = ModalContext(bill_id="", channel_id=binding.channel_id, message_ts=None,
                       user_id=user_id, issued_at=bot.clock.now().isoformat(),
                       base_currency=base, run_id=str(run_id), page=0)
    rates: dict[str, Decimal | None] = {}
    for bill in plan.offered:
        if bill.currency_rate and not rates.get(bill.currency.upper()):
            rates[bill.currency.upper()] = bill.currency_rate
    await bot.slack.views_update(view_id=view_id, view=form_modal(FormPage(
        company=info.company_name or company, items=items, page=0, accounts=plan.accounts,
        books_rates=rates, not_offered=plan.not_offered, more=plan.more, base_currency=base,
        today=bot.today()), metadata=bot.signer.dump(ctx)))
    return run_id


async def _platform(bot: Billbot, binding: Binding) -> str | None:
    """The connection's platform, which decides whether a batch payment is offered; read
    only for the async API (the only one that groups payments). None when unread."""
    if binding.codat_api != API_ASYNC:
        return None
    try:
        return await bot.codat.platform(binding.company_id, binding.connection_id)
    except CodatError as exc:
        logger.warning("connection platform unread: %s", exc.__class__.__name__)
        return None


async def payrun_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    """`Pay approved bills` in a digest header: a run for the channel's company."""
    user = text_at(body, "user", "id", limit=64)
    channel = text_at(body, "channel", "id", limit=64) or text_at(
        body, "container", "channel_id", limit=64)
    trigger = text_at(body, "trigger_id", limit=255)
    if not (user and channel and trigger):
        return
    await open_payrun(bot, user_id=user, trigger_id=trigger, channel_id=channel,
                      request=request_id(raw_body), company_channel=channel)


__all__ = ["company_chosen", "fill_form", "open_payrun", "payrun_clicked"]
