"""`/bills away|back|away list|away end`: answers to the caller only."""

from __future__ import annotations

from billbot.runtime import Billbot
from billbot.services import delegation
from billbot.slackapp import commands as cmd

AwayCommand = cmd.Away | cmd.Back | cmd.AwayList | cmd.AwayEnd


async def answer(bot: Billbot, user: str, command: AwayCommand, rid: str) -> str:
    """Carry out one delegation command; the text to show the caller."""
    now = bot.clock.now()
    policy = bot.policy
    match command:
        case cmd.Away(first_day=first, last_day=last, delegate_id=delegate):
            today, tz = bot.today(), bot.settings.billbot_timezone
            result = await bot.db(lambda s: delegation.set_away(
                s, policy, absent_id=user, delegate_id=delegate, first_day=first,
                last_day=last, tz=tz, today=today, request_id=rid, at=now))
        case cmd.Back():
            result = await bot.db(lambda s: delegation.come_back(
                s, user_id=user, request_id=rid, at=now))
        case cmd.AwayList():
            result = await bot.db(lambda s: delegation.list_open(
                s, policy, actor=user, request_id=rid, at=now))
        case cmd.AwayEnd(user_id=absent):
            result = await bot.db(lambda s: delegation.end_for(
                s, policy, absent_id=absent, actor=user, request_id=rid, at=now))
    return result.text
