"""Undo payment and Delete bill (async API): the click, the reason modal, the delete sent
once, the row brought up to date.

Everyone sees the buttons; on every click and every submit the server checks that the
channel's company is on the async API and that the clicker is an admin, from the database
alone before Codat is asked (an outsider's click costs nothing and changes nothing). The
request is claimed in the database before the delete is sent (`services/undo.py`), so a
double submit, a Slack retry or a second admin sends nothing more.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

from sqlmodel import Session

from billbot.codat.errors import CodatError
from billbot.codat.models import Bill
from billbot.context_token import ModalContext
from billbot.domain.bill_handles import carried
from billbot.domain.policy import Role
from billbot.domain.versions import BillVersion
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import roles, undo
from billbot.services.bindings import Binding
from billbot.services.undo_runner import UndoOutcome, UndoRunner
from billbot.slackapp.blocks import row_label
from billbot.slackapp.interactions import ephemeral, read_reason_form, refuse, start_click
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.rows import refresh_row
from billbot.slackapp.undo_blocks import (
    ACTION_DELETE_BILL,
    ACTION_UNDO_PAYMENT,
    CALLBACK_DELETE_BILL,
    CALLBACK_UNDO_PAYMENT,
    reason_modal,
)

logger = logging.getLogger("billbot.undo")

ACTIONS = {undo.PAYMENT: "undo_payment", undo.BILL: "delete_bill"}


def _window(bot: Billbot) -> timedelta:
    return timedelta(hours=bot.settings.billbot_undo_window_hours)


async def _gate(bot: Billbot, binding: Binding, user: str) -> str | None:
    """Why this user may not undo or delete here at all (sync API, not an admin), or None."""
    if binding.codat_api != "async":
        return undo.SYNC_ONLY

    def read(session: Session) -> str | None:
        if Role.ADMIN in roles.roles_of(session, bot.policy, user):
            return None
        return undo.not_admin(roles.members(session, bot.policy, Role.ADMIN))

    return await bot.db(read, read_only=True)


async def undo_payment_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    await _clicked(bot, body, raw_body, undo.PAYMENT)


async def delete_bill_clicked(bot: Billbot, body: dict[str, Any], raw_body: str) -> None:
    await _clicked(bot, body, raw_body, undo.BILL)


async def _clicked(bot: Billbot, body: dict[str, Any], raw_body: str, kind: str) -> None:
    action = ACTIONS[kind]
    started = await start_click(bot, body, raw_body, action)
    if started is None:
        return
    click, binding = started
    problem = await _gate(bot, binding, click.user_id)
    if problem is None and kind == undo.PAYMENT:  # the window, before the modal opens
        now, window = bot.clock.now(), _window(bot)
        problem = await bot.db(lambda s: undo.undo_problem(
            undo.undoable_intent(s, binding, click.bill_id), now=now, window=window),
            read_only=True)
    if problem is not None:
        await refuse(bot, user=click.user_id, action=action, request_id=click.request_id,
                     reason=problem, binding=binding, bill_id=click.bill_id)
        await ephemeral(bot, click.channel_id, click.user_id, problem)
        return
    if not click.trigger_id:
        return
    # The modal opens at once (the trigger lives 3 s); the bill is read when it is submitted.
    ctx = ModalContext(bill_id=carried(click.bill_id), channel_id=click.channel_id,
                       message_ts=click.message_ts, user_id=click.user_id,
                       issued_at=bot.clock.now().isoformat())
    await open_modal(bot, trigger_id=click.trigger_id, channel_id=click.channel_id,
                     user_id=click.user_id, view=reason_modal(
                         kind, row_label(click.blocks, click.bill_id),
                         metadata=bot.signer.dump(ctx), window=undo.window_text(_window(bot))))


async def undo_payment_submitted(bot: Billbot, ack: Any, body: dict[str, Any],
                                 raw_body: str) -> None:
    await _submitted(bot, ack, body, raw_body, undo.PAYMENT)


async def delete_bill_submitted(bot: Billbot, ack: Any, body: dict[str, Any],
                                raw_body: str) -> None:
    await _submitted(bot, ack, body, raw_body, undo.BILL)


async def _submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str,
                     kind: str) -> None:
    action = ACTIONS[kind]
    submitted = await read_reason_form(bot, ack, body, raw_body, action=action)
    if submitted is None:
        return
    form, binding, bill = submitted.form, submitted.binding, submitted.bill
    channel, user = form.ctx.channel_id, form.user
    problem = await _gate(bot, binding, user)
    client = None if problem else await bot.payment_codat.deletes(binding.company_id,
                                                                  binding.connection_id)
    if problem is None and client is None:  # the binding changed API since it was read
        problem = undo.SYNC_ONLY
    claimed: undo.Claim | str | None = problem
    owner = str(uuid.uuid4())
    if problem is None:
        claimed = await bot.db(partial(
            _claim, kind=kind, binding=binding, bill=bill, user=user, reason=submitted.reason,
            request_id=form.request_id, now=bot.clock.now(), window=_window(bot),
            lease_for=timedelta(seconds=bot.settings.billbot_payment_lease_seconds),
            owner=owner))
    if isinstance(claimed, str):
        await refuse(bot, user=user, action=action, request_id=form.request_id,
                     reason=claimed, binding=binding, bill_id=bill.id)
        await ephemeral(bot, channel, user, claimed)
        return
    assert claimed is not None and client is not None
    if not claimed.mine:
        event(logger, action, outcome="in_hand")
        await ephemeral(bot, channel, user, claimed.message)
        return
    outcome = await UndoRunner(bot.db, client, bot.clock, owner).run(claimed.undo)
    event(logger, action, outcome=outcome.state)
    await ephemeral(bot, channel, user, outcome.message)
    if form.ctx.message_ts:
        shown = await _bill_now(bot, binding, bill, kind, outcome)
        await refresh_row(bot, channel_id=channel, ts=form.ctx.message_ts, bill=shown,
                          binding=binding)


def _claim(session: Session, *, kind: str, binding: Binding, bill: Bill, user: str,
           reason: str, request_id: str, now: Any, window: timedelta, lease_for: timedelta,
           owner: str) -> undo.Claim | str:
    """The request claimed (or found), or why it may not be made; one transaction."""
    intent = None
    if kind == undo.PAYMENT:
        intent = undo.undoable_intent(session, binding, bill.id)
        problem = undo.undo_problem(intent, now=now, window=window)
    else:
        problem = undo.delete_problem(session, binding, bill, now=now, window=window)
    if problem is not None:
        return problem
    target = intent.remote_payment_id if intent is not None else bill.id
    assert target is not None
    return undo.claim(session, kind=kind, binding=binding, bill_id=bill.id, target_id=target,
                      intent_id=intent.id if intent is not None else None, actor=user,
                      reason=reason, request_id=request_id,
                      bill_version=BillVersion.of(bill).to_json(), now=now,
                      lease_for=lease_for, owner=owner)


async def _bill_now(bot: Billbot, binding: Binding, bill: Bill, kind: str,
                    outcome: UndoOutcome) -> Bill:
    """The bill to draw: read again after an undone payment (owed again); else as read."""
    if kind != undo.PAYMENT or outcome.state != "succeeded":
        return bill
    try:
        return await bot.codat.get_bill(binding.company_id, binding.connection_id, bill.id)
    except CodatError as exc:
        logger.warning("bill re-read after undo failed: %s", exc.__class__.__name__)
        return bill


def wire(app: Any, bot: Billbot, *, then_work: Callable[[Any], Any],
         first_delivery: Callable[[str], Awaitable[bool]]) -> None:
    """The buttons and the modals on the Bolt app (`app.build_bolt_app`)."""

    def on_click(clicked: Callable[[Billbot, dict[str, Any], str], Awaitable[None]]) -> Any:
        async def listener(ack: Any, body: dict[str, Any], request: Any) -> None:
            await then_work(ack)()
            if await first_delivery(request.raw_body):
                await clicked(bot, body, request.raw_body)
        return listener

    def on_submit(submitted: Callable[[Billbot, Any, dict[str, Any], str],
                                      Awaitable[None]]) -> Any:
        async def listener(ack: Any, body: dict[str, Any], request: Any) -> None:
            await submitted(bot, then_work(ack), body, request.raw_body)
        return listener

    app.action(ACTION_UNDO_PAYMENT)(on_click(undo_payment_clicked))
    app.action(ACTION_DELETE_BILL)(on_click(delete_bill_clicked))
    app.view(CALLBACK_UNDO_PAYMENT)(on_submit(undo_payment_submitted))
    app.view(CALLBACK_DELETE_BILL)(on_submit(delete_bill_submitted))


__all__ = ["delete_bill_clicked", "delete_bill_submitted", "undo_payment_clicked",
           "undo_payment_submitted", "wire"]
