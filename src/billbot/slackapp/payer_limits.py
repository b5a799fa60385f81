"""A payer's limits (the policy's `payers:` section) as the pay flows enforce them.

They come from the acting workspace's policy version in force (`Billbot.active_policy`): the
file's as last loaded or reloaded, or the database's as last edited in Slack. Every replica re-reads the
newest version within a minute, so a changed limit applies to Pay and pay runs everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from billbot.domain.approval_rules import payer_limits_for
from billbot.runtime import Billbot


def limits_for(bot: Billbot, user_id: str) -> Mapping[str, Decimal] | None:
    """The user's payment limits per currency; None when none apply."""
    active = bot.active_policy
    return payer_limits_for(active.policy if active is not None else None, user_id)


__all__ = ["limits_for"]
