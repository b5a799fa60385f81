"""The pay form's account search: Slack's `block_suggestion` for the external select that
offers more than 100 accounts, answered within Slack's 3 seconds.

The answer comes from the accounts the form offered when it opened (kept in memory per form);
another replica, or a restart, reads them from Codat again within a bounded time. A form whose
signed context is forged, expired or another user's gets no options.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import weakref
from typing import Any

from billbot.codat.errors import CodatError
from billbot.codat.models import BankAccountOption
from billbot.context_token import BadContext, ModalContext
from billbot.domain.bill_handles import is_handle
from billbot.runtime import Billbot
from billbot.services.payability import payment_accounts
from billbot.slackapp.account_choices import OfferedAccounts, matching_options
from billbot.slackapp.interactions import resolve_handle
from billbot.slackapp.payload import text_at

logger = logging.getLogger("billbot.payments")

READ_AGAIN_SECONDS = 2.0  # Codat's answer must leave time for Slack's 3-second deadline
_offered: dict[int, OfferedAccounts] = {}  # per Billbot (by identity; it is not hashable)


def offered_accounts(bot: Billbot) -> OfferedAccounts:
    kept = _offered.get(id(bot))
    if kept is None:
        kept = _offered[id(bot)] = OfferedAccounts()
        weakref.finalize(bot, _offered.pop, id(bot), None)
    return kept


def form_key(metadata: str) -> str:
    return hashlib.sha256(metadata.encode()).hexdigest()


async def _read_again(bot: Billbot, ctx: ModalContext) -> list[BankAccountOption]:
    binding = await bot.binding_for(ctx.channel_id, message_ts=ctx.message_ts)
    if binding is None:
        return []
    bill_id: str | None = ctx.bill_id
    if is_handle(ctx.bill_id):  # a long bill id travels as its handle in the signed context
        bill_id = await resolve_handle(bot, binding, ctx.bill_id)
    if bill_id is None:
        return []
    async with asyncio.timeout(READ_AGAIN_SECONDS):
        bill = await bot.codat.get_bill(binding.company_id, binding.connection_id, bill_id)
        info = await bot.codat.get_company_info(binding.company_id, binding.connection_id)
        options = await bot.codat.get_payment_mapping_options(binding.company_id,
                                                              binding.connection_id)
    return payment_accounts(options.bank_accounts, bill, info.base_currency)


async def account_suggestions(bot: Billbot, ack: Any, body: dict[str, Any]) -> None:
    user = text_at(body, "user", "id", limit=64)
    token = text_at(body, "view", "private_metadata", limit=3000)
    query = text_at(body, "value", limit=200) or ""
    if not user or not token:
        await ack(options=[])
        return
    try:
        ctx = bot.signer.load(token, now=bot.clock.now(), user_id=user)
    except BadContext:
        await ack(options=[])
        return
    accounts = offered_accounts(bot).recall(form_key(token))
    if accounts is None:
        try:
            accounts = await _read_again(bot, ctx)
        except (CodatError, TimeoutError):
            logger.warning("the accounts could not be read for a search; none offered")
            accounts = []
        offered_accounts(bot).remember(form_key(token), accounts)
    await ack(options=matching_options(accounts, query))


__all__ = ["account_suggestions", "form_key", "offered_accounts"]
