"""Approve all: the digest header's button, its confirmation, and the approvals.

The click opens a modal at once (the trigger id lives 3 s), then reads the bills the digest
shows afresh from Codat and lists which the approver may approve now (count and totals per
currency) and which are left out, and why. Submitting approves each listed bill on its own
(services.bulk_approvals: the single Approve's checks and audit, per bill), re-renders every
copy of the changed rows (one chat.update per message), and shows what happened to each.
A Slack retry of the click or of the submission is dropped before it acts (app.py); a second
confirmation submitted finds each bill "already approved" by that person.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from billbot.codat.errors import CodatError, CodatNotFound
from billbot.codat.models import Bill
from billbot.context_token import ModalContext
from billbot.domain.policy import Role
from billbot.logs import bind, event
from billbot.runtime import Billbot
from billbot.services import bindings as bindings_service
from billbot.services import bulk_approvals, roles
from billbot.services.bill_status import Outcome
from billbot.services.bindings import NOT_BOUND, Binding
from billbot.slackapp.approve_all_blocks import TITLE, confirmation_view, result_view
from billbot.slackapp.bill_thread import publish_history
from billbot.slackapp.blocks import loading_modal, message_modal
from billbot.slackapp.home import HOME_HORIZON_DAYS
from billbot.slackapp.interactions import ephemeral, read_signed_form, refuse
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.payload import dig, request_id, text_at
from billbot.slackapp.row_batch import refresh_read_rows
from billbot.slackapp.rows import personal_copies
from billbot.storage import bill_copies

logger = logging.getLogger("billbot.approvals")

ACTION = "approve_all"
CONTEXT_ID = "approve-all"  # the signed context's bill_id: this modal is about many bills
NOT_APPROVER = "Only approvers can approve bills, so nothing was recorded."
CODAT_DOWN = "Codat did not answer just now, so nothing was recorded. Try again shortly."


async def approve_all_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    """Approve all in a digest's header: the bills that digest shows."""
    user = text_at(body, "user", "id", limit=64)
    channel = text_at(body, "channel", "id", limit=64) or text_at(
        body, "container", "channel_id", limit=64)
    ts = text_at(body, "container", "message_ts", limit=64)
    if not (user and channel and ts):
        return
    bind(user_id=user, channel_id=channel)
    binding = await bot.binding_for(channel)
    if binding is None:
        await refuse(bot, user=user, action=ACTION, request_id=request_id(raw_body),
                     reason=NOT_BOUND)
        await ephemeral(bot, channel, user, NOT_BOUND)
        return
    await open_confirmation(bot, body, raw_body, user=user, binding=binding, digest_ts=ts)


async def home_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    """Approve all on App Home: every open bill of the first bound company (Home lists them
    all, not only the digest's window)."""
    user = text_at(body, "user", "id", limit=64)
    if not user:
        return
    bound = await bot.db(lambda s: bindings_service.list_bindings(s), read_only=True)
    if not bound:
        await refuse(bot, user=user, action=ACTION, request_id=request_id(raw_body),
                     reason=NOT_BOUND)
        return
    await open_confirmation(bot, body, raw_body, user=user, binding=bound[0], digest_ts=None)


async def open_confirmation(bot: Billbot, body: dict[str, Any], raw_body: str, *, user: str,
                            binding: Binding, digest_ts: str | None) -> None:
    """Check the role, open the modal at once, then list the bills in it."""
    channel, rid = binding.channel_id, request_id(raw_body)
    now = bot.clock.now()  # a delegate covering someone away holds their role too
    user_roles = await bot.db(lambda s: roles.roles_of(s, bot.policy, user, at=now),
                              read_only=True)
    if Role.APPROVER not in user_roles:
        await refuse(bot, user=user, action=ACTION, request_id=rid, reason="not approver",
                     binding=binding)
        if digest_ts is not None:
            await ephemeral(bot, channel, user, NOT_APPROVER)
        return
    trigger = text_at(body, "trigger_id", limit=255)
    if not trigger:
        return
    opened = await open_modal(bot, trigger_id=trigger, channel_id=channel, user_id=user,
                              view=loading_modal(TITLE, ":hourglass_flowing_sand: Reading the "
                                                 "bills from the books…"))
    view_id = dig(opened.data, "view", "id") if opened is not None else None
    if not isinstance(view_id, str):
        return
    bills = await shown_bills(bot, binding, channel, digest_ts)
    if bills is None:
        await bot.slack.views_update(view_id=view_id, view=message_modal(TITLE, CODAT_DOWN))
        return
    lines = await bot.db(lambda s: bulk_approvals.preview(
        s, bills=bills, binding=binding, user_id=user, policy=bot.policy), read_only=True)
    chosen = [ln.bill for ln in lines if ln.reason is None]
    later = chosen[bulk_approvals.MAX_CONFIRMED:]
    chosen = chosen[:bulk_approvals.MAX_CONFIRMED]
    kept = {b.id for b in chosen}
    shown = [ln for ln in lines if ln.reason is not None or ln.bill.id in kept]
    sums, unknown = bulk_approvals.totals(chosen)
    ctx = ModalContext(bill_id=CONTEXT_ID, channel_id=channel, message_ts=digest_ts,
                       user_id=user, issued_at=bot.clock.now().isoformat(),
                       bills=",".join(bulk_approvals.confirmed_token(b) for b in chosen))
    await bot.slack.views_update(view_id=view_id, view=confirmation_view(
        shown, today=bot.today(), metadata=bot.signer.dump(ctx), sums=sums, unknown=unknown,
        left_for_later=len(later)))
    event(logger, "approve all listed", bills=len(lines), approvable=len(chosen))


async def shown_bills(bot: Billbot, binding: Binding, channel: str,
                      ts: str | None) -> list[Bill] | None:
    """The bills the clicked digest shows (its main message and thread replies), read afresh
    from Codat in the digest's order; from App Home (no digest), every open bill. None when
    Codat does not answer."""
    shown = [] if ts is None else await bot.db(
        lambda s: bill_copies.digest_shown(s, channel_id=channel, digest_ts=ts), read_only=True)
    within = bot.settings.billbot_due_within_days if ts is not None else HOME_HORIZON_DAYS
    try:
        due = await bot.due_bills(binding, within_days=within)
        if not shown:
            return due
        wanted = {s.bill_id for s in shown}
        bills = [b for b in due if b.id in wanted]
        for bill_id in sorted(wanted - {b.id for b in bills}):  # paid or changed since
            try:
                bills.append(await bot.codat.get_bill(binding.company_id,
                                                      binding.connection_id, bill_id))
            except (CodatNotFound, ValueError):
                continue  # gone from the books: nothing to approve
        return bills
    except CodatError as exc:
        logger.warning("bill read failed: %s", exc.__class__.__name__)
        return None


def _errors_as_view(ack: Any) -> Any:
    """The confirmation has no input to put an error on: a refusal replaces the view."""
    async def answer(**kwargs: Any) -> None:
        errors = kwargs.get("errors")
        if kwargs.get("response_action") == "errors" and isinstance(errors, dict):
            text = str(next(iter(errors.values()), "This form cannot be used."))
            await ack(response_action="update", view=message_modal(
                TITLE, f"{text[:1].upper()}{text[1:]}. Nothing was recorded."))
        else:
            await ack(**kwargs)
    return answer


async def approve_all_submitted(bot: Billbot, ack: Any, body: dict[str, Any],
                                raw_body: str) -> None:
    form = await read_signed_form(bot, _errors_as_view(ack), body, raw_body, action=ACTION,
                                  error_field="approve_all")
    if form is None:
        return
    ctx, user, rid = form.ctx, form.user, form.request_id
    await ack(response_action="update", view=loading_modal(
        TITLE, ":hourglass_flowing_sand: Approving each bill…"))
    view_id = dig(body, "view", "id")
    bind(user_id=user, channel_id=ctx.channel_id)
    binding = await bot.binding_for(ctx.channel_id)
    wanted = bulk_approvals.split_tokens(ctx.bills)
    bills = None
    if binding is None:
        await refuse(bot, user=user, action=ACTION, request_id=rid, reason=NOT_BOUND)
        text = NOT_BOUND
    else:
        bills = await shown_bills(bot, binding, ctx.channel_id, ctx.message_ts)
        text = CODAT_DOWN
    if binding is None or bills is None:
        if isinstance(view_id, str):
            await bot.slack.views_update(view_id=view_id, view=message_modal(TITLE, text))
        return
    by_key = {bulk_approvals.bill_key(b.id): b for b in bills}
    approved: list[Bill] = []
    pending: list[tuple[Bill, str]] = []
    refused: list[tuple[Bill, str]] = []
    for key, token in wanted.items():
        bill = by_key.get(key)
        if bill is None:
            continue  # gone from the books since the list was shown
        result = await bot.db(partial(
            bulk_approvals.approve_confirmed, bill=bill, token=token, binding=binding,
            user_id=user, request_id=rid, policy=bot.policy, at=bot.clock.now()))
        if result.outcome is Outcome.RECORDED and result.state.is_approved:
            approved.append(bill)
        elif result.outcome is Outcome.RECORDED:
            pending.append((bill, result.message))
        else:
            refused.append((bill, _reason(result.message)))
    event(logger, "approve all", approved=len(approved), pending=len(pending),
          refused=len(refused))
    changed = [*approved, *(b for b, _ in pending), *(b for b, _ in refused)]
    await refresh_read_rows(bot, binding, changed)
    if isinstance(view_id, str):
        await bot.slack.views_update(view_id=view_id, view=result_view(
            approved, pending, refused, today=bot.today()))
    for bill in changed:  # DM cards, Home tabs and each bill's thread follow, as for one click
        await personal_copies(bot, binding, bill)
        try:
            await publish_history(bot, binding, bill.id)
        except Exception:
            logger.warning("the bill's thread history could not be posted now")


def _reason(message: str) -> str:
    """A service's message shortened for a list ("…; nothing was recorded." goes)."""
    for tail in ("; nothing was recorded.", ", so nothing was recorded.",
                 " Nothing was recorded."):
        if message.endswith(tail):
            return message[: -len(tail)]
    return message


__all__ = ["approve_all_clicked", "approve_all_submitted", "home_clicked", "open_confirmation",
           "shown_bills"]
