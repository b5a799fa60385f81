"""`/bills setup`: gathers what billbot knows about the channel (Slack, its database, Codat)
and answers the caller only with the checklist (`domain/setup_checklist.py`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from billbot.codat.errors import CodatError
from billbot.codat.models import AccountStatus
from billbot.domain.policy import Role
from billbot.domain.setup_checklist import SetupFacts, checklist
from billbot.runtime import Billbot
from billbot.services import roles
from billbot.services.bindings import Binding
from billbot.slackapp.setup_text import setup_blocks, setup_text

logger = logging.getLogger("billbot.setup")
CODAT_WAIT_SECONDS = 10.0


async def _bot_in_channel(bot: Billbot, channel: str) -> bool | None:
    try:
        answer = await bot.slack.conversations_info(channel=channel)
    except SlackApiError as exc:
        # A private channel the bot is not in is "channel_not_found" to it.
        if exc.response.get("error") == "channel_not_found":
            return False
        logger.info("conversations.info refused: %s", exc.response.get("error"))
        return None
    info = answer.get("channel")
    member = info.get("is_member") if isinstance(info, dict) else None
    return member if isinstance(member, bool) else None


async def _status(bot: Billbot, binding: Binding) -> str | None:
    try:
        connection = await asyncio.wait_for(
            bot.codat.get_connection(binding.company_id, binding.connection_id),
            CODAT_WAIT_SECONDS)
    except (CodatError, TimeoutError):
        return None
    return connection.status.value


async def _books(bot: Billbot, binding: Binding) -> tuple[str, int | None, str | None]:
    """The company's name, its Active payment accounts (None when Codat did not say) and the
    connection's status (payables calls fail on a connection that is not Linked)."""
    status = await _status(bot, binding)
    if status not in (None, "Linked"):
        return binding.company_id, None, status
    try:
        info, options = await asyncio.wait_for(asyncio.gather(
            bot.codat.get_company_info(binding.company_id, binding.connection_id),
            bot.codat.get_payment_mapping_options(binding.company_id, binding.connection_id)),
            CODAT_WAIT_SECONDS)
    except (CodatError, TimeoutError):
        return binding.company_id, None, status
    active = [a for a in options.bank_accounts if a.status in (None, AccountStatus.ACTIVE)]
    return info.company_name or binding.company_id, len(active), status


async def answer(bot: Billbot, respond: Any, *, user: str, channel: str) -> None:
    def counts(session: Any) -> tuple[int, int, int, bool]:
        policy = bot.policy
        return (len(roles.members(session, policy, Role.APPROVER)),
                len(roles.members(session, policy, Role.PAYER)),
                len(roles.members(session, policy, Role.ADMIN)),
                Role.ADMIN in roles.roles_of(session, policy, user))

    approvers, payers, admins, is_admin = await bot.db(counts, read_only=True)
    binding = await bot.binding_for(channel)
    member = await _bot_in_channel(bot, channel)
    company, accounts, status = (None, None, None) if binding is None else await _books(
        bot, binding)
    settings = bot.settings
    steps = checklist(SetupFacts(
        bot_in_channel=member, company=company, approvers=approvers, payers=payers,
        admins=admins, payment_accounts=accounts, digest_at=settings.billbot_digest_at,
        digest_days=settings.billbot_digest_days, timezone=str(settings.billbot_timezone),
        connection_status=status))
    await respond(text=setup_text(steps, admin=is_admin),
                  blocks=setup_blocks(steps, admin=is_admin), response_type="ephemeral")


__all__ = ["answer"]
