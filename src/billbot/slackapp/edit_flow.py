"""Edit on a bill created in billbot: the click (creator or admin, checked on the server),
the prefilled modal, and its submission through Codat's update bill.

The intent (with its Idempotency-Key) is committed before Codat is called; a double submit of
the same modal shares it, so the bill is updated once and the approval lapses once.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from billbot.codat.errors import CodatApiError, CodatError
from billbot.context_token import ModalContext
from billbot.domain.bill_edit import MAX_LINES, EditForm, check_edit, editable, form_errors
from billbot.domain.bill_handles import carried
from billbot.logs import bind, event
from billbot.runtime import Billbot
from billbot.services import bill_edits, roles
from billbot.services.bindings import NOT_BOUND, Binding
from billbot.slackapp.blocks import loading_modal, message_modal, row_label
from billbot.slackapp.edit_blocks import edit_modal
from billbot.slackapp.interactions import (
    ephemeral,
    fresh_bill,
    read_signed_form,
    refuse,
    start_click,
)
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.payload import text_at, view_value
from billbot.slackapp.rows import refresh_row

logger = logging.getLogger("billbot.edits")


async def _refusal(bot: Billbot, binding: Binding, bill_id: str, user_id: str) -> str | None:
    def check(session: Any) -> str | None:
        creator = bill_edits.creator_of(session, binding, bill_id)
        return bill_edits.may_edit(user_id, creator, roles.roles_of(session, bot.policy, user_id))
    return await bot.db(check, read_only=True)


async def edit_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await start_click(bot, body, raw_body, "edit")
    if started is None:
        return
    click, binding = started
    reason = await _refusal(bot, binding, click.bill_id, click.user_id)
    if reason is not None:
        await refuse(bot, user=click.user_id, action="edit", request_id=click.request_id,
                     reason=reason, binding=binding, bill_id=click.bill_id)
        await ephemeral(bot, click.channel_id, click.user_id, reason)
        return
    if not click.trigger_id:
        return
    # The modal opens at once (the trigger lives 3 s), then shows the bill read from Codat.
    ctx = ModalContext(bill_id=carried(click.bill_id), channel_id=click.channel_id,
                       message_ts=click.message_ts, user_id=click.user_id,
                       issued_at=bot.clock.now().isoformat())
    opened = await open_modal(bot, trigger_id=click.trigger_id, channel_id=click.channel_id,
                              user_id=click.user_id,
                              view=loading_modal("Edit bill", "Reading the bill from the books…"))
    if opened is None:
        return
    view_id = str(opened["view"]["id"])
    bill = await fresh_bill(bot, click.channel_id, click.user_id, binding, click.bill_id,
                            action="edit", request_id=click.request_id)
    if bill is None:
        await bot.slack.views_update(view_id=view_id, view=message_modal(
            "Edit bill", "The bill could not be read from the books just now; nothing changed."))
        return
    why_not = editable(bill) or (None if bill.status.payable and bill.amount_due == bill.total_amount
                                 else "Only an unpaid bill can be edited; nothing changed.")
    if why_not:
        await bot.slack.views_update(view_id=view_id, view=message_modal("Edit bill", why_not))
        return
    await bot.slack.views_update(view_id=view_id, view=edit_modal(
        bill, row_label(click.blocks, click.bill_id), metadata=bot.signer.dump(ctx)))


def _date(view: Any, block_id: str) -> date | None:
    raw = (view_value(view, block_id, "date") or {}).get("selected_date")
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def read_form(view: Any) -> EditForm:
    reference = (view_value(view, "reference", "reference") or {}).get("value")
    amounts: list[str] = []
    for index in range(MAX_LINES):
        value = view_value(view, f"line_{index}", "amount")
        if value is None:
            break
        raw = value.get("value")
        amounts.append(raw if isinstance(raw, str) else "")
    return EditForm(reference=reference if isinstance(reference, str) else "",
                    issue_date=_date(view, "issue_date"), due_date=_date(view, "due_date"),
                    line_amounts=tuple(amounts))


async def edit_submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, ack, body, raw_body, action="edit",
                                  error_field="reference")
    if form is None:
        return
    values = read_form(form.view)
    errors = form_errors(values)
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    ctx = form.ctx
    bind(bill_id=ctx.bill_id, user_id=form.user, channel_id=ctx.channel_id)
    binding = await bot.binding_for(ctx.channel_id, message_ts=ctx.message_ts)
    if binding is None:
        await refuse(bot, user=form.user, action="edit", request_id=form.request_id,
                     reason=NOT_BOUND, bill_id=ctx.bill_id)
        await ephemeral(bot, ctx.channel_id, form.user, NOT_BOUND)
        return
    reason = await _refusal(bot, binding, ctx.bill_id, form.user)  # roles may have changed
    if reason is not None:
        await refuse(bot, user=form.user, action="edit", request_id=form.request_id,
                     reason=reason, binding=binding, bill_id=ctx.bill_id)
        await ephemeral(bot, ctx.channel_id, form.user, reason)
        return
    bill = await fresh_bill(bot, ctx.channel_id, form.user, binding, ctx.bill_id,
                            action="edit", request_id=form.request_id)
    if bill is None:
        return
    await _save(bot, binding, bill, values, ctx=ctx, user=form.user,
                request_key=text_at(form.view, "id", limit=255) or form.request_id,
                request_id=form.request_id)


async def _save(bot: Billbot, binding: Binding, bill: Any, values: EditForm, *,
                ctx: ModalContext, user: str, request_key: str, request_id: str) -> None:
    checked = check_edit(bill, values)
    if checked.prototype is None:
        await ephemeral(bot, ctx.channel_id, user, " ".join(checked.errors.values()))
        return
    if await bot.db(lambda s: bill_edits.payment_running(s, binding, bill.id), read_only=True):
        await ephemeral(bot, ctx.channel_id, user, bill_edits.PAYMENT_RUNNING)
        return
    prototype = checked.prototype
    intent = await bot.db(lambda s: bill_edits.begin(
        s, request_key=request_key, binding=binding, bill_id=bill.id, user_id=user,
        prototype=prototype, at=bot.clock.now()))
    if intent.state == "done":
        event(logger, "edit", outcome="already_saved")
        return  # a double submit: the first one updated the bill and told the person
    try:
        updated = await bot.codat.update_bill(binding.company_id, binding.connection_id,
                                              bill.id, intent.prototype,
                                              idempotency_key=intent.idempotency_key)
    except CodatApiError as exc:
        reason = exc.reason
        await bot.db(lambda s: bill_edits.fail(s, intent, error=reason, at=bot.clock.now()))
        event(logger, "edit", outcome="refused_by_codat")
        await ephemeral(bot, ctx.channel_id, user,
                        f"The accounting software refused the change: {reason}. Nothing changed.")
        return
    except CodatError as exc:
        # The client retried with the same key and still has no answer: the update may or may
        # not be in the books. The row stays `sending` with its key, so a repeat of this form
        # (a Slack retry) sends the same key and Codat applies it at most once.
        event(logger, "edit", outcome="unknown", error=exc.__class__.__name__)
        await ephemeral(bot, ctx.channel_id, user,
                        "Codat did not confirm the change, so it may or may not be saved. Look "
                        "at the bill's Details in a minute before editing it again.")
        return
    won = await bot.db(lambda s: bill_edits.finish(
        s, intent, updated=updated, binding=binding, user_id=user, before=bill,
        request_id=request_id, at=bot.clock.now()))
    event(logger, "edit", outcome="saved" if won else "already_saved")
    if won:
        await ephemeral(bot, ctx.channel_id, user,
                        "Saved in the accounting software. Any approval lapsed: the bill "
                        "must be approved again.")
    if ctx.message_ts:
        await refresh_row(bot, channel_id=ctx.channel_id, ts=ctx.message_ts, bill=updated,
                          binding=binding)
