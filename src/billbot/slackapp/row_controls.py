"""The controls behind a row's warning line, checked for the rows a digest is about to show
(one supplier history per supplier) and kept for every later render of those rows.

A row whose bill has not changed in the books since it was checked (within ROW_CHECK_MAX_AGE)
is not checked again, so an unchanged ledger's next digest asks Codat nothing for its rows.
When a supplier has a new or changed bill, all that supplier's rows are checked again: their
history is read once anyway, and a new bill can make an old one a possible duplicate. Pay
always checks live, whatever the row says."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta

from billbot.codat.models import Bill
from billbot.runtime import Billbot
from billbot.services import controls
from billbot.services.bindings import Binding
from billbot.storage.db import session_scope

logger = logging.getLogger("billbot.controls")

# A slow or failing Codat delays the digest by at most this; its rows then show the warnings
# last kept (Pay checks again whatever the row says). The suppliers checked by then keep their
# new answers, so the next digest checks only the rest.
ROW_CHECK_SECONDS = 20.0
# A scheduled digest waits longer: nobody is waiting on it, and with many channels most of
# its wait is Codat's per-minute pace shared with the other jobs, not a slow Codat. Stopping
# at 20 s there left a 5,000-bill company's checks half done every day (bench/scale.py at
# 24 jobs in flight: the next day's digest made 14 of them).
ROW_CHECK_BACKGROUND_SECONDS = 180.0
# Rows of unchanged bills are checked again after this all the same; rows saying "first
# payment" daily (a payment to the supplier since is billbot's record, no change in the books).
ROW_CHECK_MAX_AGE = timedelta(days=7)
FIRST_PAYMENT_CHECK_MAX_AGE = timedelta(hours=20)


async def check_rows(bot: Billbot, binding: Binding, bills: Sequence[Bill], *,
                     background: bool = False) -> None:
    payable = [b for b in bills if b.status.payable]
    if not payable:
        return

    now = bot.clock.now()

    def fresh() -> set[str]:
        with session_scope(bot.engine) as session:
            return controls.unchanged_since_checked(
                session, company_id=binding.company_id, connection_id=binding.connection_id,
                bills=payable, since=now - ROW_CHECK_MAX_AGE,
                first_payment_since=now - FIRST_PAYMENT_CHECK_MAX_AGE)

    unchanged = await asyncio.to_thread(fresh)
    suppliers = {b.supplier_ref.id for b in payable if b.id not in unchanged}
    payable = [b for b in payable if b.supplier_ref.id in suppliers]
    if not payable:
        return
    try:
        await asyncio.wait_for(controls.check_and_remember(
            bot.codat, bot.engine, company_id=binding.company_id,
            connection_id=binding.connection_id, bills=payable, today=bot.today(),
            at=bot.clock.now()), ROW_CHECK_BACKGROUND_SECONDS if background else ROW_CHECK_SECONDS)
    except Exception:
        logger.warning("the rows' controls could not be checked now", exc_info=True)


__all__ = ["FIRST_PAYMENT_CHECK_MAX_AGE", "ROW_CHECK_BACKGROUND_SECONDS", "ROW_CHECK_MAX_AGE",
           "ROW_CHECK_SECONDS", "check_rows"]
