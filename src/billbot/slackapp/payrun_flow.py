"""A pay run's form, review and confirmation, and `Retry failed`.

The form's answer is checked inline (`response_action: errors`) and good input is answered
with the review (count and totals per currency and per account) in the same
acknowledgement; nothing is recorded before the review is confirmed. The confirmation
re-reads the bills and the accounts from Codat, then `services.payruns.start_run` takes the
draft and commits every intent in one transaction before any Codat call.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from billbot.codat.errors import CodatError
from billbot.codat.models import Bill
from billbot.context_token import ModalContext
from billbot.domain.policy import Role
from billbot.domain.typed_amount import AmountRefused, read_typed_rate
from billbot.runtime import Billbot
from billbot.services import payment_groups, payruns, roles
from billbot.services.payability import date_problem, payment_accounts
from billbot.services.payruns import Choice
from billbot.slackapp.account_choices import find_account
from billbot.slackapp.blocks import account_label, loading_modal, message_modal
from billbot.slackapp.interactions import ephemeral, read_signed_form, refuse, review_ack
from billbot.slackapp.pay_form import crosses_currency
from billbot.slackapp.payload import dig, request_id, text_at, view_value
from billbot.slackapp.payrun_blocks import TITLE, FormPage, form_modal, page_count, page_positions
from billbot.slackapp.payrun_controls import run_checks
from billbot.slackapp.payrun_exec import drive, read_progress, run_lease, show_progress
from billbot.slackapp.payrun_review import answer_review, chosen_grouping

logger = logging.getLogger("billbot.payruns")


def _run_id(ctx: ModalContext) -> uuid.UUID | None:
    try:
        return uuid.UUID(ctx.run_id or "")
    except ValueError:
        return None


def _selected(view: Any) -> set[int]:
    values = dig(view, "state", "values")
    chosen: set[int] = set()
    if not isinstance(values, dict):
        return chosen
    for block_id, actions in values.items():
        if not str(block_id).startswith("bills-") or not isinstance(actions, dict):
            continue
        for option in dig(actions, "bills", "selected_options") or []:
            value = option.get("value") if isinstance(option, dict) else None
            if isinstance(value, str) and value.isdigit():
                chosen.add(int(value))
    return chosen


def _settings(view: Any, ctx: ModalContext, currencies: list[str], today: date
              ) -> tuple[dict[str, str], date | None, dict[str, Choice]]:
    """The first page's date and per-currency account and rate, or errors per input."""
    errors: dict[str, str] = {}
    raw_date = (view_value(view, "date", "date") or {}).get("selected_date")
    paid_on: date | None = None
    try:
        paid_on = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        paid_on = None
    problem = None if paid_on is None else date_problem(paid_on, issued_on=None, today=today)
    if paid_on is None or problem:
        errors["date"] = problem or "Pick the payment date."
    base = ctx.base_currency
    choices: dict[str, Choice] = {}
    for currency in currencies:
        block = f"account-{currency}"
        value = text_at(view_value(view, block, "account"), "selected_option", "value",
                        limit=255)
        label = text_at(view_value(view, block, "account"), "selected_option", "text", "text",
                        limit=75)
        if not value:
            errors[block] = "Choose the account these bills are paid from."
            continue
        rate: Decimal | None = None
        if crosses_currency(currency, base) and base is not None:
            typed = (view_value(view, f"rate-{currency}", "rate") or {}).get("value")
            try:
                rate = read_typed_rate(str(typed or ""), base=base, currency=currency)
            except AmountRefused as exc:
                errors[f"rate-{currency}"] = str(exc)
        choices[currency] = Choice(value, label, rate)
    return errors, paid_on, choices


async def form_submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    """A page of the form: its ticks (and, first page, the settings) saved onto the draft;
    answered with the next page, or after the last with the review."""
    form = await read_signed_form(bot, ack, body, raw_body, action="payrun", error_field="date")
    if form is None:
        return
    run_id, ctx = _run_id(form.ctx), form.ctx
    items = await bot.db(lambda s: payruns.items_of(s, run_id), read_only=True) if run_id else []
    page = ctx.page or 0
    if run_id is None or not items or not 0 <= page < page_count(len(items)):
        await ack(response_action="errors", errors={"date": "This pay run is unknown."})
        return
    positions = page_positions(page, len(items))
    selected = {p for p in _selected(form.view) if p in positions}
    settings = None
    if page == 0:
        currencies = list(dict.fromkeys(i.currency for i in items))
        errors, paid_on, choices = _settings(form.view, ctx, currencies, bot.today())
        if errors or paid_on is None:
            await ack(response_action="errors", errors=errors)
            return
        settings = (paid_on, choices)
    saved = await bot.db(lambda s: payruns.save_page(
        s, run_id=run_id, payer_id=form.user, positions=positions, selected=selected,
        settings=settings, at=bot.clock.now()))
    if not saved:
        await ack(response_action="update", view=message_modal(
            TITLE, "This pay run was confirmed already; its message in the channel shows it."))
        return
    if page + 1 < page_count(len(items)):
        next_ctx = replace(ctx, issued_at=bot.clock.now().isoformat(), page=page + 1)
        await ack(response_action="update", view=form_modal(FormPage(
            company="", items=items, page=page + 1, accounts={}, books_rates={},
            not_offered=[], more=0, base_currency=ctx.base_currency, today=bot.today()),
            metadata=bot.signer.dump(next_ctx)))
        return
    await answer_review(bot, ack, form.view, ctx, run_id, form.user)


async def _fresh(bot: Billbot, company: str, connection: str) -> dict[str, Bill]:
    return {b.id: b for b in await bot.codat.list_bills(company, connection)}


async def _resolved_choices(bot: Billbot, run: Any, fresh: dict[str, Bill]
                            ) -> dict[str, Choice] | str:
    """The run's accounts re-read from Codat: each must still be valid for its currency."""
    info = await bot.codat.get_company_info(run.company_id, run.connection_id)
    options = await bot.codat.get_payment_mapping_options(run.company_id, run.connection_id)
    base = info.base_currency.upper() if info.base_currency else None
    resolved: dict[str, Choice] = {}
    for currency, raw in run.choices.items():
        choice = Choice.from_json(raw)
        sample = next((b for b in fresh.values() if b.currency.upper() == currency), None)
        valid = payment_accounts(options.bank_accounts, sample, base) if sample else []
        account = find_account(valid, choice.account_id)
        if sample is not None and account is None:
            return (f"The account chosen for {currency} is no longer an active account in "
                    f"{currency} or the base currency; nothing was recorded.")
        if account is not None:
            resolved[currency] = Choice(account.id, account.name or account_label(account),
                                        choice.rate)
    return resolved


async def review_confirmed(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, review_ack(ack, TITLE), body, raw_body, action="payrun",
                                  error_field="review")
    if form is None:
        return
    run_id = _run_id(form.ctx)
    await ack(response_action="update", view=loading_modal(
        "Pay run", ":hourglass_flowing_sand: Checking the bills and starting the run…"))
    view_id = str(dig(form.view, "id") or "")
    run = await bot.db(lambda s: payruns.get_run(s, run_id), read_only=True) if run_id else None
    if run is None or run_id is None:
        await bot.slack.views_update(view_id=view_id, view=message_modal(
            TITLE, "This pay run is unknown; nothing was recorded."))
        return
    if run.state != "draft":  # a second submit: show the run as it is
        shown = await read_progress(bot, run_id)
        if shown is not None:
            await show_progress(bot, shown, modal=False)
            await bot.slack.views_update(view_id=view_id, view=message_modal(
                "Pay run", "This pay run was confirmed already; its message in the channel "
                "shows its progress."))
        return
    grouping = chosen_grouping(form.view)
    refused = await bot.db(lambda s: payment_groups.choice_problem(s, run, grouping),
                           read_only=True)
    if refused:  # a forged or stale choice: nothing read, nothing changed
        await _refuse_grouping(bot, form, view_id, grouping, refused)
        return
    binding = await bot.binding_for(run.channel_id)
    try:
        fresh = await _fresh(bot, run.company_id, run.connection_id)
        resolved = await _resolved_choices(bot, run, fresh)
    except CodatError:
        await bot.slack.views_update(view_id=view_id, view=message_modal(
            TITLE, "Codat did not answer; nothing was recorded. Try again shortly."))
        return
    if binding is None or isinstance(resolved, str):
        await bot.slack.views_update(view_id=view_id, view=message_modal(
            TITLE, resolved if isinstance(resolved, str) else "This channel is no longer "
            "connected to the company; nothing was recorded."))
        return
    await bot.db(lambda s: payruns.set_choices(s, run_id, resolved))
    checks = await run_checks(bot, run_id=run_id, company_id=run.company_id,
                              connection_id=run.connection_id, user_id=form.user, fresh=fresh)
    until = bot.clock.now() + run_lease(bot)
    started = await bot.db(lambda s: payruns.start_run(
        s, run_id=run_id, user_id=form.user, fresh=fresh, policy=bot.policy,
        at=bot.clock.now(), lease_until=until, request_id=form.request_id, checks=checks,
        grouping=grouping))
    if started.refused:
        await _refuse_grouping(bot, form, view_id, grouping, started.refused)
        return
    if not started.taken:
        await bot.slack.views_update(view_id=view_id, view=message_modal(
            "Pay run", "This pay run was confirmed already; its message in the channel shows "
            "its progress."))
        return
    await bot.db(lambda s: payruns.set_slack_places(s, run_id, view_id=view_id))
    first = await read_progress(bot, run_id)
    if first is not None:
        await show_progress(bot, first)
    await drive(bot, run_id, started.intent_ids, binding)


async def _refuse_grouping(bot: Billbot, form: Any, view_id: str, grouping: str,
                           text: str) -> None:
    await refuse(bot, user=form.user, action="payrun", request_id=form.request_id or "",
                 reason=f"payments grouping {grouping!r} not offered")
    await bot.slack.views_update(view_id=view_id, view=message_modal(TITLE, text))


async def retry_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    """`Retry failed` on a pay-run message: only the failed bills, once per attempt."""
    user = text_at(body, "user", "id", limit=64)
    channel = text_at(body, "channel", "id", limit=64)
    value = text_at(body, "actions", 0, "value", limit=80) or ""
    run_text, _, attempt_text = value.partition(":")
    rid = request_id(raw_body)
    if not (user and channel):
        return
    try:
        run_id, attempt = uuid.UUID(run_text), int(attempt_text)
    except ValueError:
        await refuse(bot, user=user, action="payrun", request_id=rid, reason="malformed button")
        return
    now = bot.clock.now()
    user_roles = await bot.db(lambda s: roles.roles_of(s, bot.policy, user, at=now),
                              read_only=True)
    if Role.PAYER not in user_roles:
        await refuse(bot, user=user, action="payrun", request_id=rid, reason="not payer")
        await ephemeral(bot, channel, user, "Only payers can retry a pay run; nothing happened.")
        return
    run = await bot.db(lambda s: payruns.get_run(s, run_id), read_only=True)
    binding = await bot.binding_for(run.channel_id) if run is not None else None
    if run is None or binding is None or run.channel_id != channel:
        await ephemeral(bot, channel, user, "That pay run is not one of this channel's.")
        return
    try:
        fresh = await _fresh(bot, run.company_id, run.connection_id)
    except CodatError:
        await ephemeral(bot, channel, user, "Codat did not answer; nothing was retried.")
        return
    checks = await run_checks(bot, run_id=run_id, company_id=run.company_id,
                              connection_id=run.connection_id, user_id=user, fresh=fresh)
    until = bot.clock.now() + run_lease(bot)
    started = await bot.db(lambda s: payruns.retry_failed(
        s, run_id=run_id, attempt=attempt, user_id=user, fresh=fresh, policy=bot.policy,
        at=bot.clock.now(), lease_until=until, request_id=rid, checks=checks))
    if not started.taken:
        await ephemeral(bot, channel, user, "This pay run is being retried already, or "
                        "nothing in it failed; nothing new was started.")
        return
    shown = await read_progress(bot, run_id)
    if shown is not None:
        await show_progress(bot, shown, modal=False)
    await drive(bot, run_id, started.intent_ids, binding)


__all__ = ["form_submitted", "retry_clicked", "review_confirmed"]
