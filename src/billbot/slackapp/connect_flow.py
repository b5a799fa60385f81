"""`/bills connect` with no arguments: the modal, the company and connection it creates in
Codat (once per submission), and the link URL shown as a button. The watch it leaves behind
is worked by `connect_watcher.connect_tick`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from billbot.codat.errors import CodatError
from billbot.context_token import ModalContext
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import connect_watch
from billbot.slackapp.blocks import loading_modal, message_modal
from billbot.slackapp.connect_blocks import (
    CODAT_APIS,
    NAME_MAX,
    PLATFORMS,
    TITLE,
    connect_modal,
    link_modal,
)
from billbot.slackapp.interactions import is_admin, read_signed_form, refuse
from billbot.slackapp.modal_open import open_modal
from billbot.slackapp.mrkdwn import escape
from billbot.slackapp.payload import text_at, view_value

logger = logging.getLogger("billbot.connect")

ONLY_ADMINS = "Only billbot admins can connect a company."


async def open_connect(bot: Billbot, *, user_id: str, channel_id: str, trigger_id: str,
                       request: str, respond: Any) -> None:
    if not await is_admin(bot, user_id):
        await refuse(bot, user=user_id, action="connect", request_id=request, reason="not admin")
        await respond(text=ONLY_ADMINS, response_type="ephemeral")
        return
    known = await bot.db(connect_watch.known_companies, read_only=True)
    ctx = ModalContext(bill_id="", channel_id=channel_id, message_ts=None, user_id=user_id,
                       issued_at=bot.clock.now().isoformat())
    await open_modal(bot, trigger_id=trigger_id, channel_id=channel_id, user_id=user_id,
                     view=connect_modal(known, metadata=bot.signer.dump(ctx),
                                        default_api=bot.settings.codat_api))


async def _known(bot: Billbot, company_id: str) -> bool:
    return await bot.db(lambda s: connect_watch.is_known(s, company_id), read_only=True)


def _selected(view: Any, block: str, action: str) -> str | None:
    value = text_at(view_value(view, block, action), "selected_option", "value", limit=255)
    return value or None


async def connect_submitted(bot: Billbot, ack: Any, body: dict[str, Any], raw_body: str) -> None:
    form = await read_signed_form(bot, ack, body, raw_body, action="connect",
                                  error_field="platform")
    if form is None:
        return
    if not await is_admin(bot, form.user):
        await ack(response_action="errors", errors={"platform": ONLY_ADMINS})
        await refuse(bot, user=form.user, action="connect", request_id=form.request_id,
                     reason="not admin")
        return
    company_id = _selected(form.view, "company", "company")
    raw_name = (view_value(form.view, "new_company", "name") or {}).get("value")
    name = raw_name.strip()[:NAME_MAX] if isinstance(raw_name, str) else ""
    platform = _selected(form.view, "platform", "platform")
    codat_api = _selected(form.view, "codat_api", "codat_api") or bot.settings.codat_api
    errors: dict[str, str] = {}
    if company_id and name:
        errors["new_company"] = "Choose a company or name a new one, not both."
    elif not company_id and not name:
        errors["new_company"] = "Name the company to create (or choose one above)."
    elif company_id and not await _known(bot, company_id):
        errors["company"] = "billbot did not create or bind that company."
    if platform not in PLATFORMS:
        errors["platform"] = "Choose one of the platforms offered."
    if codat_api not in CODAT_APIS:
        errors["codat_api"] = "Choose one of the Codat APIs offered."
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    assert platform is not None
    view_id = text_at(form.view, "id", limit=64)
    if view_id is None:
        await ack(response_action="errors", errors={"platform": "This form is malformed."})
        return
    channel, now = form.ctx.channel_id, bot.clock.now()
    first = await bot.db(lambda s: connect_watch.start_creation(
        s, view_id=view_id, channel_id=channel, actor=form.user, at=now, codat_api=codat_api))
    if not first:  # the same form submitted twice: one company, one connection
        await ack(response_action="update", view=loading_modal(
            TITLE, ":hourglass_flowing_sand: This form was submitted already; its link "
                   "appears here."))
        await _show_existing(bot, view_id, channel, platform)
        return
    # Answered at once (Slack waits 3 s); the modal is updated when Codat has answered.
    await ack(response_action="update", view=loading_modal(
        TITLE, ":hourglass_flowing_sand: Creating the connection in Codat…"))
    try:
        if company_id is None:
            company = await bot.codat.create_company(name)
            company_id, company_name = company.id, company.name
            await bot.db(lambda s: connect_watch.record_company(
                s, company_id=company.id, name=company.name, origin="created", actor=form.user,
                at=now))
        else:
            company_name = (await bot.codat.get_company(company_id)).name
        connection = await bot.codat.create_connection(company_id, platform)
    except CodatError as exc:
        await bot.db(lambda s: connect_watch.creation_failed(s, view_id=view_id))
        logger.warning("connect failed: %s", exc.__class__.__name__)
        await _show(bot, view_id, message_modal(
            TITLE, f"Codat refused ({escape(str(exc)[:150]) or 'no answer'}); nothing is "
                   "watched. Run `/bills connect` again."))
        return
    bound_company = company_id
    await bot.db(lambda s: connect_watch.start_waiting(
        s, view_id=view_id, company_id=bound_company, connection_id=connection.id, at=now))
    event(logger, "connection created", company_id=company_id, connection_id=connection.id,
          channel_id=channel)
    await _show(bot, view_id, link_modal(
        company=company_name, platform=PLATFORMS[platform], link_url=connection.link_url,
        channel_id=channel))


async def _show_existing(bot: Billbot, view_id: str, channel: str, platform: str) -> None:
    """The link of the first submission, once it has one (its own answer may come first)."""
    for _ in range(50):
        ids = await bot.db(lambda s: connect_watch.created_by_view(s, view_id=view_id),
                           read_only=True)
        if ids is not None:
            try:
                connection = await bot.codat.get_connection(*ids)
                company = await bot.codat.get_company(ids[0])
            except CodatError:
                return  # the first submission's own answer shows it
            await _show(bot, view_id, link_modal(
                company=company.name, platform=PLATFORMS[platform],
                link_url=connection.link_url, channel_id=channel))
            return
        await asyncio.sleep(0.2)


async def _show(bot: Billbot, view_id: str, view: dict[str, Any]) -> None:
    try:
        await bot.slack.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:  # closed meanwhile: the watch goes on all the same
        logger.info("connect modal not updated: %s", exc.response.get("error"))
