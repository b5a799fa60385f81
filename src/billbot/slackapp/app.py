"""The Bolt AsyncApp: request verification, retry dedupe, and the listeners.

Listeners acknowledge first (Slack's 3-second rule) and do the slow work after `ack()`;
with `process_before_response=False` Bolt answers Slack as soon as `ack()` is called.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from billbot.logs import bind
from billbot.runtime import Billbot
from billbot.slackapp import (
    accounts_flow,
    approvals_flow,
    approve_all_flow,
    commands_flow,
    connect_flow,
    credit_flow,
    details_flow,
    due_pages,
    edit_flow,
    holds_flow,
    home,
    installs,
    invoice_flow,
    newbill_flow,
    newbill_totals,
    pay_confirm_flow,
    payments_flow,
    payrun_flow,
    payrun_open,
    policy_edit_flow,
    rejections_flow,
    undo_flow,
    usergroups_flow,
)
from billbot.slackapp.account_blocks import CALLBACK_ACCOUNT_ADD
from billbot.slackapp.account_choices import ACTION_ACCOUNT
from billbot.slackapp.account_search import account_suggestions
from billbot.slackapp.approve_all_blocks import CALLBACK_APPROVE_ALL
from billbot.slackapp.blocks import (
    ACTION_APPROVE,
    ACTION_DETAILS,
    ACTION_PAY,
    ACTION_REJECT,
    ACTION_WITHDRAW_REJECTION,
    CALLBACK_OVERRIDE_REJECTION,
    CALLBACK_PAY,
    CALLBACK_REJECT,
)
from billbot.slackapp.connect_blocks import CALLBACK_CONNECT
from billbot.slackapp.details_blocks import ACTION_VIEW_INVOICE
from billbot.slackapp.digest_actions import ACTION_APPROVE_ALL, ACTION_PAYRUN_OPEN
from billbot.slackapp.due_pages import ACTION_DUE_PAGE
from billbot.slackapp.edit_blocks import ACTION_EDIT, CALLBACK_EDIT
from billbot.slackapp.hold_blocks import ACTION_HOLD, ACTION_RELEASE, CALLBACK_HOLD
from billbot.slackapp.home_blocks import (
    ACTION_HOME_APPROVE_ALL,
    ACTION_HOME_PAGE,
    ACTION_HOME_PAYRUN,
)
from billbot.slackapp.interactions import ephemeral
from billbot.slackapp.newbill_blocks import ACTION_SUPPLIER, CALLBACK_NEW_BILL, SHORTCUT_CREATE_BILL
from billbot.slackapp.newbill_lines import ACTION_ADD_LINE
from billbot.slackapp.newbill_totals import ACTION_LINE_AMOUNT
from billbot.slackapp.pay_form import CALLBACK_PAY_REVIEW
from billbot.slackapp.payload import request_id, text_at
from billbot.slackapp.payrun_blocks import (
    ACTION_PAYRUN_RETRY,
    CALLBACK_PAYRUN_COMPANY,
    CALLBACK_PAYRUN_FORM,
    CALLBACK_PAYRUN_REVIEW,
)
from billbot.slackapp.policy_edit_blocks import ACTION_POLICY_EDIT, CALLBACK_POLICY_EDIT
from billbot.storage import slack_messages

logger = logging.getLogger("billbot.slack")


def build_bolt_app(bot: Billbot, *, process_before_response: bool = False) -> AsyncApp:
    secret = bot.settings.slack_signing_secret
    oauth = bot.settings.oauth_mode
    app = AsyncApp(
        client=bot.slack,
        # OAuth mode: Bolt's install flow, each request authorized from the installation store.
        oauth_settings=installs.oauth_settings(bot) if oauth else None,
        signing_secret=secret.get_secret_value() if secret else None,
        # Verification is never switched off for HTTP: without a secret (Socket Mode only)
        # the HTTP route refuses everything before Bolt sees it (see server.py).
        request_verification_enabled=secret is not None,
        process_before_response=process_before_response,
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("billbot.bolt"),
    )
    if oauth:  # first: every later middleware and listener acts as the request's workspace
        installs.wire(app, bot)

    async def first_delivery(raw_body: str) -> bool:
        """True the first time this exact signed body arrives (across processes and restarts).

        Slack's bodies carry a fresh trigger_id / action_ts per click and per command, so two
        identical bodies are one request delivered twice: Slack's retry, or a replay of a
        captured request within the signature's five minutes.
        """
        return await _claim(request_id(raw_body))

    async def first_event(body: dict[str, Any], raw_body: str) -> bool:
        """True for the first delivery of an Events API event. Slack names each event with an
        `event_id` its retries repeat, so that is the key; the body is only the fallback."""
        event_id = body.get("event_id")
        if isinstance(event_id, str) and event_id:
            return await _claim(f"event:{event_id[:64]}")
        return await first_delivery(raw_body)

    async def _claim(key: str) -> bool:
        first = await bot.db(lambda s: slack_messages.claim_request(s, key=key, at=bot.clock.now()))
        if not first:
            logger.info("repeated slack request ignored")
        return first

    @app.middleware
    async def socket_mode_identity(req: AsyncBoltRequest, resp: BoltResponse,
                                   next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        """Bolt gives Socket Mode requests an empty raw body, so every one would share one
        request id and all but the first be dropped as repeats. Their payload, serialised
        canonically, identifies them instead (Slack's redeliveries carry the same payload)."""
        if req.mode == "socket_mode" and not req.raw_body:
            req.raw_body = json.dumps(req.body, sort_keys=True, separators=(",", ":"))
        return await next()

    @app.middleware
    async def drop_answered_repeats(req: AsyncBoltRequest, resp: BoltResponse,
                                    next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        """A repeated view submission is dropped before any listener runs.

        Its acknowledgement itself acts (it closes or replaces the modal), so the repeat gets an
        empty 200. Clicks and commands, retried by Slack (X-Slack-Retry-Num) or replayed, are
        checked right after their acknowledgement instead, before they change anything: the
        database write stays out of Slack's 3 seconds.
        """
        bind(request_id=request_id(req.raw_body), user_id=req.context.user_id,
             channel_id=req.context.channel_id)
        if req.body.get("type") == "view_submission" and not await first_delivery(req.raw_body):
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        return await next()

    # Every listener's `ack` is wrapped so that its slow part starts once the answers in
    # flight have gone out (see ack_first.py). When Bolt answers only after the listener
    # returns (process_before_response), there is nothing to let out first.
    def then_work(ack: Any) -> Any:
        return ack if process_before_response else bot.ack_first.then_work(ack)

    @app.command("/bills")
    async def bills_command(ack: Any, body: dict[str, Any], respond: Any, request: AsyncBoltRequest) -> None:
        await commands_flow.handle(bot, ack=then_work(ack), body=body, respond=respond,
                                   raw_body=request.raw_body,
                                   first_delivery=partial(first_delivery, request.raw_body))

    @app.action(ACTION_APPROVE)
    async def approve(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await approvals_flow.approve_clicked(bot, body, request.raw_body)

    @app.action(ACTION_APPROVE_ALL)
    async def approve_all(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await approve_all_flow.approve_all_clicked(bot, body, request.raw_body)

    @app.action(ACTION_HOME_APPROVE_ALL)
    async def home_approve_all(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await approve_all_flow.home_clicked(bot, body, request.raw_body)

    @app.view(CALLBACK_APPROVE_ALL)
    async def approve_all_submitted(ack: Any, body: dict[str, Any],
                                    request: AsyncBoltRequest) -> None:
        await approve_all_flow.approve_all_submitted(bot, then_work(ack), body, request.raw_body)

    @app.view(CALLBACK_CONNECT)
    async def connect_submitted(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await connect_flow.connect_submitted(bot, then_work(ack), body, request.raw_body)

    @app.action(ACTION_REJECT)
    async def reject(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await approvals_flow.reject_clicked(bot, body, request.raw_body)

    @app.view(CALLBACK_REJECT)
    async def reject_submitted(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await approvals_flow.reject_submitted(bot, then_work(ack), body, request.raw_body)

    @app.action(ACTION_WITHDRAW_REJECTION)
    async def withdraw_rejection(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await rejections_flow.withdraw_clicked(bot, body, request.raw_body)

    @app.view(CALLBACK_OVERRIDE_REJECTION)
    async def override_rejection(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await rejections_flow.override_submitted(bot, then_work(ack), body, request.raw_body)

    @app.action(ACTION_HOLD)
    async def hold(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await holds_flow.hold_clicked(bot, body, request.raw_body)

    @app.view(CALLBACK_HOLD)
    async def hold_submitted(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await holds_flow.hold_submitted(bot, then_work(ack), body, request.raw_body)

    @app.action(ACTION_RELEASE)
    async def release(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await holds_flow.release_clicked(bot, body, request.raw_body)

    @app.action(ACTION_EDIT)
    async def edit(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await edit_flow.edit_clicked(bot, body, request.raw_body)

    @app.view(CALLBACK_EDIT)
    async def edit_submitted(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await edit_flow.edit_submitted(bot, then_work(ack), body, request.raw_body)

    @app.action(ACTION_PAY)
    async def pay(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await payments_flow.pay_clicked(bot, body, request.raw_body)

    @app.view(CALLBACK_PAY)
    async def pay_submitted(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await payments_flow.pay_submitted(bot, then_work(ack), body, request.raw_body)

    @app.view(CALLBACK_PAY_REVIEW)
    async def pay_review_confirmed(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await pay_confirm_flow.review_confirmed(bot, then_work(ack), body, request.raw_body)

    @app.action(ACTION_DETAILS)
    async def details(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await details_flow.details_clicked(bot, body, request.raw_body)

    @app.action(ACTION_VIEW_INVOICE)
    async def view_invoice(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await invoice_flow.view_invoice_clicked(bot, body, request.raw_body)

    @app.action(ACTION_PAYRUN_OPEN)
    async def payrun_open_clicked(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await payrun_open.payrun_clicked(bot, body, request.raw_body)

    @app.view(CALLBACK_PAYRUN_COMPANY)
    async def payrun_company(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await payrun_open.company_chosen(bot, then_work(ack), body, request.raw_body)

    @app.view(CALLBACK_PAYRUN_FORM)
    async def payrun_form(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await payrun_flow.form_submitted(bot, then_work(ack), body, request.raw_body)

    @app.view(CALLBACK_PAYRUN_REVIEW)
    async def payrun_review(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await payrun_flow.review_confirmed(bot, then_work(ack), body, request.raw_body)

    @app.action(ACTION_PAYRUN_RETRY)
    async def payrun_retry(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await payrun_flow.retry_clicked(bot, body, request.raw_body)

    @app.view(CALLBACK_ACCOUNT_ADD)
    async def bank_account_add(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await accounts_flow.submitted(bot, then_work(ack), body, request.raw_body)

    @app.action(ACTION_POLICY_EDIT)
    async def policy_edit_clicked(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        if await first_delivery(request.raw_body):
            await policy_edit_flow.edit_clicked(bot, body, request.raw_body)

    @app.view(CALLBACK_POLICY_EDIT)
    async def policy_edit(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await policy_edit_flow.submitted(bot, then_work(ack), body, request.raw_body)

    @app.view(CALLBACK_NEW_BILL)
    async def new_bill(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await newbill_flow.submitted(bot, then_work(ack), body, request.raw_body)

    @app.action(ACTION_ADD_LINE)
    async def new_bill_add_line(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await newbill_flow.add_line(bot, body)

    @app.action(ACTION_LINE_AMOUNT)
    async def new_bill_amount_typed(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await newbill_totals.amount_typed(bot, body)

    @app.options(ACTION_SUPPLIER)
    async def supplier_search(ack: Any, body: dict[str, Any]) -> None:
        await newbill_flow.supplier_options(bot, ack, body)

    @app.shortcut(SHORTCUT_CREATE_BILL)
    async def create_bill_shortcut(ack: Any, body: dict[str, Any],
                                   request: AsyncBoltRequest) -> None:
        await ack()
        user = text_at(body, "user", "id", limit=64)
        channel = text_at(body, "channel", "id", limit=64)
        trigger = text_at(body, "trigger_id", limit=255)
        if user and channel and trigger and await first_delivery(request.raw_body):
            told = await newbill_flow.open_form(bot, user_id=user, channel_id=channel,
                                                trigger_id=trigger, message=body.get("message"))
            if told:
                await ephemeral(bot, channel, user, told)

    @app.options(ACTION_ACCOUNT)
    async def account_search(ack: Any, body: dict[str, Any]) -> None:
        # The answer is the acknowledgement itself (the options), within Slack's 3 seconds.
        await account_suggestions(bot, ack, body)

    @app.action(re.compile(f"^{ACTION_HOME_PAGE}:"))
    async def home_page(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        user = text_at(body, "user", "id", limit=64)
        value = text_at(body, "actions", 0, "value", limit=64)
        if user and value and await first_delivery(request.raw_body):
            await home.turn_page(bot, user, value)

    @app.action(re.compile(f"^{ACTION_DUE_PAGE}:"))
    async def due_page(ack: Any, body: dict[str, Any], respond: Any) -> None:
        # Turning a page changes nothing, so a repeated click needs no dedupe.
        await then_work(ack)()
        await due_pages.due_page_clicked(bot, body, respond)

    @app.action(ACTION_HOME_PAYRUN)
    async def home_payrun(ack: Any, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await then_work(ack)()
        user = text_at(body, "user", "id", limit=64)
        trigger = text_at(body, "trigger_id", limit=255)
        if user and trigger and await first_delivery(request.raw_body):
            await payrun_open.open_payrun(bot, user_id=user, trigger_id=trigger,
                                          request=request_id(request.raw_body))

    @app.event("app_home_opened")
    async def app_home_opened(event: dict[str, Any], body: dict[str, Any],
                              request: AsyncBoltRequest) -> None:
        # Slack sends it for the Messages tab too; only the Home tab is billbot's to draw.
        user = text_at(event, "user", limit=64)
        if user and event.get("tab") == "home" and await first_event(body, request.raw_body):
            await home.home_opened(bot, user)

    @app.event("subteam_members_changed")
    async def subteam_members_changed(event: dict[str, Any], body: dict[str, Any],
                                      request: AsyncBoltRequest) -> None:
        # A policy's user group changed members: the cache follows (a retry applies nothing).
        if await first_event(body, request.raw_body):
            team = body.get("team_id")
            await usergroups_flow.members_changed(
                bot, event, team_id=team if isinstance(team, str) else None)

    undo_flow.wire(app, bot, then_work=then_work, first_delivery=first_delivery)
    credit_flow.wire(app, bot, then_work=then_work, first_delivery=first_delivery)

    @app.action(re.compile(".*"))
    async def other_action(ack: Any) -> None:
        # Unknown or outdated action ids: acknowledge so Slack shows no error; nothing happens.
        await ack()

    @app.view(re.compile(".*"))
    async def other_view(ack: Any) -> None:
        await ack()

    @app.event(re.compile(".*"))
    async def any_event() -> None:
        # Events billbot does not handle: answering 200 stops Slack from retrying them.
        return None

    return app

