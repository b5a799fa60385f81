"""A pay run's controls: every selected bill checked (supplier histories read once per
supplier) and the payer's limits, for services.payruns to apply bill by bill."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from billbot.codat.models import Bill
from billbot.domain.bill_controls import Control
from billbot.runtime import Billbot
from billbot.services import controls, payruns
from billbot.services.payruns import RunChecks
from billbot.slackapp.payer_limits import limits_for


async def run_checks(bot: Billbot, *, run_id: uuid.UUID, company_id: str, connection_id: str,
                     user_id: str, fresh: Mapping[str, Bill]) -> RunChecks:
    selected = await bot.db(lambda s: [i.bill_id for i in payruns.items_of(s, run_id)
                                       if i.selected], read_only=True)
    cache = controls.HistoryCache()
    met: dict[str, list[Control]] = {}
    for bill_id in selected:
        bill = fresh.get(bill_id)
        if bill is not None:
            met[bill_id] = await controls.controls_of(
                bot.codat, bot.engine, company_id=company_id, connection_id=connection_id,
                bill=bill, today=bot.today(), cache=cache)
    return RunChecks(met, limits_for(bot, user_id))


__all__ = ["run_checks"]
