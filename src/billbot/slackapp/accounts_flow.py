"""`/bills accounts add`: the form, its inline checks, and the one create-bank-account call.

The form's signed context carries a server-made form id. The submission's request (with its
Idempotency-Key) is committed before Codat is asked; any later submission of the same form
finds it and repeats the same call, so one account is created whatever is clicked or retried.
Submissions of one form that arrive together share that call (a double submit): each shows
the same outcome, where the loser's "unknown" could land after the winner's "created". An
outcome that comes within `ANSWER_IN_ACK_SECONDS` is the submission's answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from billbot.codat.errors import CodatApiError, CodatError
from billbot.codat.models import BankAccountPrototype
from billbot.context_token import ModalContext
from billbot.domain.bank_account_input import read_input
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import bank_accounts
from billbot.services.bank_accounts import ADMINS_ONLY, Request
from billbot.services.bindings import NOT_BOUND_COMMAND, Binding
from billbot.singleflight import SingleFlight
from billbot.slackapp.account_blocks import (
    FIELDS,
    account_form,
    created_view,
    creating_view,
    refused_view,
    unknown_view,
)
from billbot.slackapp.interactions import SignedForm, read_signed_form
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.payload import text_at, view_value

logger = logging.getLogger("billbot.accounts")
# The trigger lives 3 s: the company's name is asked for briefly, its id shown otherwise.
NAME_WAIT_SECONDS = 1.0
# Slack waits 3 s for a submission's answer; reading the form and the database came first.
ANSWER_IN_ACK_SECONDS = 1.5
# The create call in flight per form id, in this process.
_CREATING: SingleFlight[str, dict[str, Any] | None] = SingleFlight()


async def open_form(bot: Billbot, *, user_id: str, channel_id: str, trigger_id: str) -> str | None:
    """Open the form; the text to tell the caller instead when they may not or cannot."""
    allowed = await bot.db(lambda s: bank_accounts.may_add(s, bot.policy, user_id),
                           read_only=True)
    if not allowed:
        return ADMINS_ONLY
    binding = await bot.binding_for(channel_id)
    if binding is None:
        return NOT_BOUND_COMMAND
    company, base = binding.company_id, None
    try:
        info = await asyncio.wait_for(
            bot.codat.get_company_info(binding.company_id, binding.connection_id),
            NAME_WAIT_SECONDS)
        company, base = info.company_name or company, info.base_currency
    except (CodatError, TimeoutError):
        logger.info("company info not read in time; the form shows the company id")
    ctx = ModalContext(bill_id="", channel_id=channel_id, message_ts=None, user_id=user_id,
                       issued_at=bot.clock.now().isoformat(),
                       form_id=bank_accounts.new_form_id())
    await open_modal(bot, trigger_id=trigger_id, channel_id=channel_id, user_id=user_id,
                     view=account_form(metadata=bot.signer.dump(ctx), company=company,
                                       base_currency=base))
    return None


def _typed(view: Any) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for name in FIELDS:
        state = view_value(view, name, name) or {}
        option = state.get("selected_option")
        value = option.get("value") if isinstance(option, dict) else state.get("value")
        fields[name] = value if isinstance(value, str) else None
    return fields


async def submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, ack, body, raw_body, action="bank_account.add",
                                  error_field="name")
    if form is None:
        return
    form_id = form.ctx.form_id
    if not form_id:
        await ack(response_action="errors", errors={"name": "This form is malformed."})
        return
    found = await bot.db(lambda s: bank_accounts.existing(s, form_id), read_only=True)
    if found is None:
        found = await _first_submission(bot, ack, form, form_id)
        if found is None:
            return
    req, prototype = found
    settled = _settled_view(req, again=True)
    if settled is not None:
        await ack(response_action="update", view=settled)
        return
    view_id = text_at(body, "view", "id", limit=64)
    metadata = text_at(body, "view", "private_metadata", limit=3000) or ""
    creating = asyncio.ensure_future(_CREATING.run(form_id, lambda: _create(
        bot, req, prototype, actor=form.user, request_id=form.request_id)))
    # Codat usually answers well within Slack's 3 s: the outcome is then the answer itself.
    # A "Creating…" answer followed by views.update could otherwise be overtaken by the
    # update, leaving the modal on "Creating…" (the order Slack applies them in is not ours).
    done, _ = await asyncio.wait({creating}, timeout=ANSWER_IN_ACK_SECONDS)
    if not done:
        await ack(response_action="update", view=creating_view(req.name))
    try:
        outcome = await creating
    except Exception:  # a bug, not Codat's answer: the request stays pending, same key
        logger.exception("bank account creation failed")
        outcome = None
    if outcome is None:  # no answer: another replica's submission may have had one
        outcome = await _recorded_outcome(bot, form_id)
    view = outcome if outcome is not None else unknown_view(req.name, metadata=metadata)
    if done:
        await ack(response_action="update", view=view)
        return
    if view_id:
        try:
            await bot.slack.views_update(view_id=view_id, view=view)
        except Exception:
            logger.warning("bank account outcome not shown in the modal")


async def _recorded_outcome(bot: Billbot, form_id: str) -> dict[str, Any] | None:
    found = await bot.db(lambda s: bank_accounts.existing(s, form_id), read_only=True)
    return _settled_view(found[0]) if found is not None else None


def _settled_view(req: Request, *, again: bool = False) -> dict[str, Any] | None:
    """The outcome a request has reached, as the modal shows it; None while pending."""
    if req.state == "created":
        return created_view(req.name, req.currency, again=again)
    if req.state == "refused":
        return refused_view(req.name, req.error or "")
    return None


async def _first_submission(bot: Billbot, ack: Any, form: SignedForm, form_id: str
                            ) -> tuple[Request, BankAccountPrototype] | None:
    account, errors = read_input(_typed(form.view))
    if account is None:
        await ack(response_action="errors", errors=errors)
        return None
    ctx = form.ctx
    binding: Binding | None = await bot.binding_for(ctx.channel_id)
    if binding is None:
        await ack(response_action="errors", errors={"name": NOT_BOUND_COMMAND})
        return None
    stored = await bot.db(lambda s: bank_accounts.request(
        s, bot.policy, form_id=form_id, binding=binding, channel_id=ctx.channel_id,
        user_id=form.user, account=account, request_id=form.request_id, at=bot.clock.now()))
    if stored is None:
        await ack(response_action="errors", errors={"name": ADMINS_ONLY})
    return stored


async def _create(bot: Billbot, req: Request, prototype: BankAccountPrototype, *, actor: str,
                  request_id: str) -> dict[str, Any] | None:
    """Call Codat with the request's key; the outcome view, or None when no answer came."""
    try:
        account = await bot.payment_codat.create_bank_account(
            req.company_id, req.connection_id, prototype, idempotency_key=req.idempotency_key)
    except CodatApiError as exc:
        reason = exc.reason
        await bot.db(lambda s: bank_accounts.record_refused(
            s, req, reason=reason, actor=actor, request_id=request_id, at=bot.clock.now()))
        event(logger, "bank_account", outcome="refused")
        return refused_view(req.name, reason)
    except CodatError as exc:
        # Lost answer or a request still in progress: the row stays pending, same key.
        event(logger, "bank_account", outcome="unknown", error=exc.__class__.__name__)
        return None
    await bot.db(lambda s: bank_accounts.record_created(
        s, req, account_id=account.id, actor=actor, request_id=request_id, at=bot.clock.now()))
    event(logger, "bank_account", outcome="created")
    return created_view(req.name, req.currency)


__all__ = ["open_form", "submitted"]
