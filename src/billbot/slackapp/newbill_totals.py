"""Create bill's live totals: each amount input dispatches its value as the person types
(`dispatch_action`), and the modal's totals section is updated against the hash of the view
the action came from, so a newer update (another keystroke's, Add line's) is never clobbered."""

from __future__ import annotations

import logging
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from slack_sdk.errors import SlackApiError

from billbot.codat.errors import CodatError
from billbot.context_token import BadContext
from billbot.domain.typed_amount import AmountRefused, read_typed_amount
from billbot.money import format_money
from billbot.runtime import Billbot
from billbot.slackapp.newbill_lines import field_id, line_count
from billbot.slackapp.payload import text_at, view_value

logger = logging.getLogger("billbot.newbill")

ACTION_LINE_AMOUNT = re.compile(r"^amount(_\d+)?$")
TOTALS_BLOCK = "new-bill-totals"
DISPATCH = {"dispatch_action_config": {
    "trigger_actions_on": ["on_enter_pressed", "on_character_entered"]}}
_CENT = Decimal("0.01")


def totals_block(text: str = "_Totals appear as you type the amounts._") -> dict[str, Any]:
    return {"type": "section", "block_id": TOTALS_BLOCK, "text": {"type": "mrkdwn", "text": text}}


def _typed(view: Any, block_id: str) -> str | None:
    state = view_value(view, block_id, block_id) or {}
    option = state.get("selected_option")
    value = option.get("value") if isinstance(option, dict) else state.get("value")
    return value if isinstance(value, str) else None


def totals_text(view: Any, rates: dict[str, Decimal], currency: str) -> str:
    """Subtotal, tax from each line's chosen rate, total; lines not yet readable are skipped."""
    subtotal = tax = Decimal(0)
    blocks = view.get("blocks", []) if isinstance(view, dict) else []
    for line in range(1, line_count(blocks) + 1):
        try:
            amount = read_typed_amount(_typed(view, field_id("amount", line)) or "", currency)
        except AmountRefused:
            continue
        subtotal += amount
        rate = rates.get(_typed(view, field_id("tax_rate", line)) or "", Decimal(0))
        tax += (amount * rate / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    return (f"Subtotal *{format_money(subtotal, currency)}* · tax "
            f"*{format_money(tax, currency)}* · total *{format_money(subtotal + tax, currency)}*")


async def amount_typed(bot: Billbot, body: dict[str, Any]) -> None:
    view = body.get("view")
    view_id = text_at(body, "view", "id", limit=64)
    user = text_at(body, "user", "id", limit=64)
    token = text_at(body, "view", "private_metadata", limit=3000)
    if not isinstance(view, dict) or not view_id or not user or not token:
        return
    try:
        ctx = bot.signer.load(token, now=bot.clock.now(), user_id=user)
        binding = await bot.binding_for(ctx.channel_id)
        if binding is None:
            return
        options = await bot.codat.get_bill_mapping_options(binding.company_id,
                                                           binding.connection_id)
    except (BadContext, CodatError):
        return
    rates = {t.id: r for t in options.tax_rates
             if (r := t.effective_tax_rate if t.effective_tax_rate is not None
                 else t.total_tax_rate) is not None}
    currency = ((_typed(view, "currency") or "").upper() or ctx.base_currency or "GBP")
    text = totals_text(view, rates, currency)
    blocks = [totals_block(text) if b.get("block_id") == TOTALS_BLOCK else b
              for b in view.get("blocks", []) if isinstance(b, dict)]
    updated = {k: view[k] for k in ("type", "callback_id", "private_metadata", "title",
                                    "submit", "close") if k in view}
    updated["blocks"] = blocks
    try:
        await bot.slack.views_update(view_id=view_id, hash=text_at(body, "view", "hash",
                                                                     limit=200), view=updated)
    except SlackApiError as exc:  # hash_conflict: a newer view is shown; its own action follows
        logger.info("totals not shown: %s", exc.response.get("error"))


__all__ = ["ACTION_LINE_AMOUNT", "DISPATCH", "TOTALS_BLOCK", "amount_typed", "totals_block",
           "totals_text"]
