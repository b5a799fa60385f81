"""The recovery tick's step for Edit: an edit left `sending` (its process died, or Codat never
confirmed it) is settled from the bill as Codat has it. Applied: finished as a live save
would (the approval lapses once, audited). Not applied: marked failed; it is never re-sent
later, when the person no longer expects it and the books may have moved on."""

from __future__ import annotations

import logging

from billbot.codat.errors import CodatError, CodatNotFound
from billbot.logs import event
from billbot.runtime import Billbot
from billbot.services import bill_edits

logger = logging.getLogger("billbot.edits")


async def recover_edits(bot: Billbot) -> None:
    stale = await bot.db(lambda s: bill_edits.stale_edits(s, now=bot.clock.now()))
    for edit in stale:
        await _settle(bot, edit)


async def _settle(bot: Billbot, edit: bill_edits.StaleEdit) -> None:
    binding = edit.binding
    try:
        bill = await bot.codat.get_bill(binding.company_id, binding.connection_id, edit.bill_id)
    except CodatNotFound:
        bill = None
    except CodatError:
        return  # Codat unreadable: the next tick tries again
    if bill is not None and bill_edits.applied(bill, edit.intent.prototype):
        found = bill
        won = await bot.db(lambda s: bill_edits.finish(
            s, edit.intent, updated=found, binding=binding, user_id=edit.user_id,
            before=found, request_id=None, at=bot.clock.now()))
        event(logger, "edit_recovered", outcome="applied" if won else "settled")
        return
    await bot.db(lambda s: bill_edits.fail(
        s, edit.intent, error="not applied (settled by recovery)", at=bot.clock.now()))
    event(logger, "edit_recovered", outcome="not_applied")
