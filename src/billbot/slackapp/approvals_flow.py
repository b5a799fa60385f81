"""Approve and Reject: the click, the reason modal, and the row update.

Every decision is taken on the server from the database and a fresh read of the bill:
the click says only who clicked, where, and which bill id.
"""

from __future__ import annotations

import logging
from typing import Any

from billbot.bot import Billbot
from billbot.codat.errors import CodatError, CodatNotFound
from billbot.codat.models import Bill
from billbot.domain.policy import Role
from billbot.logs import bind, event
from billbot.services import approvals, roles
from billbot.services.bindings import Binding
from billbot.slackapp.context_token import BadContext, ModalContext
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.payload import Click, read_click, request_id, text_at, view_value
from billbot.slackapp.views import reject_modal, row_label

logger = logging.getLogger("billbot.approvals")

NOT_BOUND = "This channel is not connected to a Codat company; its buttons do nothing."
NOT_IN_COMPANY = "That bill is not a bill of the company connected to this channel."


async def ephemeral(bot: Billbot, channel: str, user: str, text: str) -> None:
    try:
        await bot.slack.chat_postEphemeral(channel=channel, user=user, text=text)
    except Exception:
        # Ephemeral delivery is best effort (the user may have left the channel).
        logger.warning("ephemeral message not delivered")


async def refuse(bot: Billbot, *, user: str, action: str, request_id: str, reason: str,
                 binding: Binding | None = None, bill_id: str | None = None) -> None:
    """Audit a refusal that no service recorded (nothing else is written) and log it."""
    await bot.db(lambda s: roles.record_refusal(
        s, actor=user, action=action, request_id=request_id, at=bot.clock.now(), reason=reason,
        company_id=binding.company_id if binding else None,
        connection_id=binding.connection_id if binding else None, bill_id=bill_id))
    event(logger, "refused", action=action, reason=reason)


async def fresh_bill(bot: Billbot, click_channel: str, user: str, binding: Binding,
                     bill_id: str, *, action: str, request_id: str) -> Bill | None:
    """Re-read the bill from Codat in the channel's company; tell the user when that fails.

    A bill id the channel's company does not have (another company's, or a tampered button
    value) is a refusal: audited, and nothing else happens.
    """
    try:
        return await bot.codat.get_bill(binding.company_id, binding.connection_id, bill_id)
    except CodatNotFound:
        await refuse(bot, user=user, action=action, request_id=request_id, reason=NOT_IN_COMPANY,
                     binding=binding, bill_id=bill_id)
        await ephemeral(bot, click_channel, user, NOT_IN_COMPANY)
    except CodatError as exc:
        logger.warning("bill read failed: %s", exc.__class__.__name__)
        await ephemeral(bot, click_channel, user,
                        "Codat did not answer just now, so nothing was recorded. Try again shortly.")
    return None


async def _start(bot: Billbot, body: dict[str, Any], raw_body: str,
                 action: str) -> tuple[Click, Binding] | None:
    """The click and its channel's binding; None (audited, explained) when either is unusable."""
    click = read_click(body, raw_body)
    if click is None:
        user = text_at(body, "user", "id", limit=64)
        channel = text_at(body, "channel", "id", limit=64)
        if user and channel:
            await refuse(bot, user=user, action=action, request_id=request_id(raw_body),
                         reason="malformed button payload")
            await ephemeral(bot, channel, user, "That button's message is malformed; nothing happened.")
        return None
    bind(bill_id=click.bill_id, user_id=click.user_id, channel_id=click.channel_id)
    binding = await bot.binding_for(click.channel_id)
    if binding is None:
        await refuse(bot, user=click.user_id, action=action, request_id=click.request_id,
                     reason=NOT_BOUND, bill_id=click.bill_id)
        await ephemeral(bot, click.channel_id, click.user_id, NOT_BOUND)
        return None
    return click, binding


async def require_role(bot: Billbot, click: Click, binding: Binding, role: Role, *,
                       action: str, refusal: str) -> frozenset[Role] | None:
    """The clicker's roles if they include `role`; otherwise audit the refusal, tell them, None.

    Checked before Codat is asked: an outsider's click costs nothing and changes nothing.
    """
    user_roles = await bot.db(lambda s: roles.roles_of(s, bot.policy, click.user_id), read_only=True)
    if role in user_roles:
        return user_roles
    await refuse(bot, user=click.user_id, action=action, request_id=click.request_id,
                 reason=f"not {role.value}", binding=binding, bill_id=click.bill_id)
    await ephemeral(bot, click.channel_id, click.user_id, refusal)
    return None


async def approve_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await _start(bot, body, raw_body, "approve")
    if started is None:
        return
    click, binding = started
    if await require_role(bot, click, binding, Role.APPROVER, action="approve",
                          refusal="Only approvers can approve bills, so nothing was recorded.") is None:
        return
    bill = await fresh_bill(bot, click.channel_id, click.user_id, binding, click.bill_id,
                            action="approve", request_id=click.request_id)
    if bill is None:
        return
    result = await bot.db(lambda s: approvals.approve(
        s, bill=bill, binding=binding, user_id=click.user_id, request_id=click.request_id,
        policy=bot.policy, at=bot.clock.now()))
    event(logger, "approve", outcome=result.outcome.value)
    if result.message and result.outcome != "recorded":
        await ephemeral(bot, click.channel_id, click.user_id, result.message)
    await bot.refresh_row(channel_id=click.channel_id, ts=click.message_ts, bill=bill,
                          binding=binding, clicked_blocks=click.blocks)


async def reject_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    started = await _start(bot, body, raw_body, "reject")
    if started is None:
        return
    click, binding = started
    if await require_role(bot, click, binding, Role.APPROVER, action="reject",
                          refusal="Only approvers can reject bills, so nothing was recorded.") is None:
        return
    if not click.trigger_id:
        return
    # Open the modal before anything slow: the trigger id expires 3 s after the click. The
    # bill is read (and its company checked) when the reason is submitted.
    ctx = ModalContext(bill_id=click.bill_id, channel_id=click.channel_id,
                       message_ts=click.message_ts, user_id=click.user_id,
                       issued_at=bot.clock.now().isoformat())
    await open_modal(bot, trigger_id=click.trigger_id, channel_id=click.channel_id,
                     user_id=click.user_id, view=reject_modal(row_label(click.blocks, click.bill_id),
                                                              metadata=bot.signer.dump(ctx)))


async def reject_submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    user = text_at(body, "user", "id", limit=64)
    view = body.get("view")
    token = text_at(view, "private_metadata", limit=3000)
    reason_state = view_value(view, "reason", "reason") or {}
    reason = reason_state.get("value")
    rid = request_id(raw_body)
    if not user or not token:
        await ack(response_action="errors", errors={"reason": "This form is malformed."})
        if user:
            await refuse(bot, user=user, action="reject", request_id=rid,
                         reason="malformed form")
        return
    try:
        ctx = bot.signer.load(token, now=bot.clock.now(), user_id=user)
    except BadContext as exc:
        await ack(response_action="errors", errors={"reason": str(exc)})
        await refuse(bot, user=user, action="reject", request_id=rid, reason=str(exc))
        return
    if not isinstance(reason, str) or not reason.strip():
        await ack(response_action="errors", errors={"reason": "Say why the bill is rejected."})
        return
    reason = reason.strip()[:500]
    await ack()
    bind(bill_id=ctx.bill_id, user_id=user, channel_id=ctx.channel_id)
    binding = await bot.binding_for(ctx.channel_id)
    if binding is None:
        await refuse(bot, user=user, action="reject", request_id=rid, reason=NOT_BOUND,
                     bill_id=ctx.bill_id)
        await ephemeral(bot, ctx.channel_id, user, NOT_BOUND)
        return
    bill = await fresh_bill(bot, ctx.channel_id, user, binding, ctx.bill_id, action="reject",
                            request_id=rid)
    if bill is None:
        return
    result = await bot.db(lambda s: approvals.reject(
        s, bill=bill, binding=binding, user_id=user, reason=reason, request_id=rid,
        policy=bot.policy, at=bot.clock.now()))
    event(logger, "reject", outcome=result.outcome.value)
    if result.message and result.outcome != "recorded":
        await ephemeral(bot, ctx.channel_id, user, result.message)
    if ctx.message_ts:
        await bot.refresh_row(channel_id=ctx.channel_id, ts=ctx.message_ts, bill=bill,
                              binding=binding)
