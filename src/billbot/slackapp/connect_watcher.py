"""The background watch on connections (Codat's specs describe no webhook for a connection's
status, so billbot polls): a connection that becomes Linked binds its channel and gets the
first digest; one that becomes Unlinked or Deauthorized is told to the channel and the
admins once, and digests pause until it is Linked again (said when they resume)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from billbot import tenancy
from billbot.codat.errors import CodatError
from billbot.domain.policy import Role
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import bindings, connect_watch, roles
from billbot.services.connect_watch import (
    DISCONNECTED,
    EXPIRED,
    GIVE_UP_AFTER,
    LINKED,
    WAITING,
    Watch,
)
from billbot.slackapp.digests import post_digest
from billbot.slackapp.invite_notice import tell_admins_once, unpostable_error

logger = logging.getLogger("billbot.connect")

BROKEN = frozenset({"Unlinked", "Deauthorized"})


async def connect_tick(bot: Billbot) -> None:
    """Check every due watch this replica can lease; one failing does not stop the others."""
    now = bot.clock.now()
    due = await bot.db(lambda s: connect_watch.due(s, now=now), read_only=True)
    for watch_id in due:
        watch = await _claim(bot, watch_id)
        if watch is None:
            continue
        try:
            # OAuth mode: the watch binds and posts in its workspace, with its token.
            await bot.enter_workspace(tenancy.Workspace(watch.team_id))
            await _check(bot, watch)
        except Exception:
            logger.exception("connection watch %s failed; its lease runs out", watch.id)


async def _claim(bot: Billbot, watch_id: int) -> Watch | None:
    now = bot.clock.now()
    return await bot.db(lambda s: connect_watch.claim(s, watch_id=watch_id, now=now))


async def _check(bot: Billbot, watch: Watch) -> None:
    try:
        connection = await bot.codat.get_connection(watch.company_id, watch.connection_id)
        status = connection.status.value
    except CodatError as exc:  # asked again after the backoff
        logger.warning("connection status unknown: %s", exc.__class__.__name__)
        status = watch.last_status or "unknown"
    phase = _next_phase(watch.phase, status)
    at = bot.clock.now()
    if (phase == WAITING and watch.waiting_since is not None
            and at - watch.waiting_since > GIVE_UP_AFTER):
        phase = EXPIRED

    def settle(s: Session) -> None:
        if watch.phase == WAITING and phase == LINKED:
            bindings.bind(s, channel_id=watch.channel_id, company_id=watch.company_id,
                          connection_id=watch.connection_id, actor=watch.requested_by,
                          request_id=None, at=at, codat_api=watch.codat_api)
        connect_watch.settle(s, watch=watch, phase=phase, status=status, at=at)

    await bot.db(settle)  # the change is recorded before it is told: told at most once
    bot.codat.forget(watch.company_id, watch.connection_id)
    if phase == watch.phase:
        return
    event(logger, "connection status", channel_id=watch.channel_id, status=status, phase=phase)
    if phase == EXPIRED:
        await _tell_admins(bot, watch, (
            f"Codat company `{watch.company_id}`'s connection was not linked within "
            f"{GIVE_UP_AFTER.days} days, so billbot stopped watching it and <#{watch.channel_id}> "
            "is not bound. Run `/bills connect` there to start again."), admins=False)
    elif watch.phase == WAITING:
        await _say(bot, watch, f"<@{watch.requested_by}> connected this channel to Codat "
                               f"company `{watch.company_id}`: the connection is Linked. "
                               "Here is its first digest.")
        await _first_digest(bot, watch)
    elif phase == DISCONNECTED:
        text = (f"The Codat connection of <#{watch.channel_id}> (company `{watch.company_id}`) "
                f"is {status}: billbot cannot read its bills, so digests are paused until it "
                "is linked again (Codat's link page, or `/bills connect`).")
        await _say(bot, watch, text)
        await _tell_admins(bot, watch, text)
    else:
        await _say(bot, watch, f"The Codat connection of company `{watch.company_id}` is "
                               "Linked again: digests resume.")


def _next_phase(phase: str, status: str) -> str:
    if status == "Linked":
        return LINKED
    if phase == LINKED and status in BROKEN:
        return DISCONNECTED
    return phase


async def _say(bot: Billbot, watch: Watch, text: str) -> None:
    try:
        await bot.slack.chat_postMessage(channel=watch.channel_id, text=text)
    except SlackApiError as exc:
        refused = unpostable_error(exc)
        if refused is not None:
            await tell_admins_once(bot, watch.channel_id, refused)
        else:
            logger.warning("could not post in %s: %s", watch.channel_id,
                           exc.response.get("error"))


async def _tell_admins(bot: Billbot, watch: Watch, text: str, *, admins: bool = True) -> None:
    """A DM to each admin (or only to whoever started the watch) and the watch's starter."""
    if admins:
        admins_ids = await bot.db(lambda s: roles.members(s, bot.policy, Role.ADMIN),
                                  read_only=True)
    else:
        admins_ids = frozenset()
    for admin in sorted((set(admins_ids) | {watch.requested_by}) - {"config"}):
        try:
            await bot.slack.chat_postMessage(channel=admin, text=text)
        except SlackApiError as exc:
            logger.warning("could not tell admin %s: %s", admin, exc.response.get("error"))


async def _first_digest(bot: Billbot, watch: Watch) -> None:
    binding = await bot.binding_for(watch.channel_id)
    if binding is None:
        return
    try:
        await post_digest(bot, watch.channel_id, binding)
    except CodatError as exc:
        logger.warning("first digest failed: %s", exc.__class__.__name__)
    except SlackApiError as exc:
        refused = unpostable_error(exc)
        if refused is None:
            raise
        await tell_admins_once(bot, watch.channel_id, refused)
