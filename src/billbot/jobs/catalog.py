"""Every background job by name, and the sweeps that find work due and defer it.

A job takes string arguments only (they travel through the queue as JSON) and re-reads
everything else, so a retried or late job acts on the state of the moment. Its `lock` names
the Codat company it reads: a channel is bound to one company, so that one lock also keeps
two jobs from posting into one channel at once. Its `dedupe` key stops the same job from being
queued twice while one waits. Neither is the guarantee: the claim rows the job functions
write (digest_post, reminder_sent, the payment leases, ...) still make each effect once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Protocol

from sqlmodel import Session, col, select

from billbot.domain.reminders import working_day
from billbot.domain.schedule import DigestSchedule
from billbot.runtime import Billbot
from billbot.services import bindings as bindings_service
from billbot.services.bindings import Binding
from billbot.slackapp.bill_thread import history_tick
from billbot.slackapp.connect_watcher import connect_tick
from billbot.slackapp.digests import due_digest_day, scheduled_digest
from billbot.slackapp.edit_recovery import recover_edits
from billbot.slackapp.newbill_flow import recover_bill_creations
from billbot.slackapp.payment_outcomes import recover_payments
from billbot.slackapp.payrun_exec import recover_pay_runs
from billbot.slackapp.reminders import remind_binding
from billbot.storage import bill_cache
from billbot.storage.tables import DigestPost
from billbot.testhooks import CrashPoint, sigkill_at

logger = logging.getLogger("billbot.jobs")

Args = Mapping[str, str]


class Deferrer(Protocol):
    """Queue one job; False when an identical one (same `dedupe`) is already waiting."""

    async def __call__(self, job: str, args: Args, *, lock: str | None,
                       dedupe: str | None) -> bool: ...


def company_lock(binding: Binding) -> str:
    return f"codat:{binding.company_id}"


async def digest_job(bot: Billbot, args: Args) -> bool:
    """One channel's digest for one local day (claimed in digest_post before posting)."""
    if bot.settings.billbot_crash_at is CrashPoint.DIGEST_JOB:
        sigkill_at(CrashPoint.DIGEST_JOB)(CrashPoint.DIGEST_JOB)  # the killed-replica test
    binding = await bot.binding_for(args["channel_id"])
    if binding is None or binding.company_id != args["company_id"]:
        return False  # unbound or rebound since it was queued: the sweep queues the new one
    return await scheduled_digest(bot, binding, date.fromisoformat(args["day"]))


async def reminders_job(bot: Billbot, args: Args) -> bool:
    """One channel's reminders and escalations (each claimed per bill, person and day)."""
    s = bot.settings
    now = bot.clock.now()
    day = working_day(now, s.billbot_timezone, s.billbot_digest_days)
    binding = await bot.binding_for(args["channel_id"])
    if day is None or day.isoformat() != args["day"] or binding is None:
        return False  # queued yesterday or out of hours by now: the next sweep decides again
    return await remind_binding(bot, binding, day, now) > 0


async def recovery_tick(bot: Billbot) -> None:
    """The recovery steps, each on its own: one failing does not stop the others."""
    steps = (recover_payments,  # intents left open: finished with their own keys
             recover_pay_runs,  # pay runs whose process died: settled once final
             history_tick,  # the bill's thread: decisions not yet posted, failed posts
             connect_tick,  # connections being linked or watched for a disconnection
             recover_edits,  # Edit's intents left sending: settled from the bill in the books
             recover_bill_creations)  # Create bill: creations left open, rows never posted
    for step in steps:
        try:
            await step(bot)
        except Exception:
            logger.exception("recovery step %s failed; the next tick tries again", step.__name__)


async def full_read_job(bot: Billbot, args: Args) -> bool:
    """One company's periodic full read (deleted bills leave the cache); False when another
    replica's was recent enough, or Codat's allowance is under the reserve."""
    return await bot.open_bills.full_read(args["company_id"], args["connection_id"]) == "full"


# Each answers whether it acted (posted, sent, read): False when its claim was already taken.
JOBS: dict[str, Callable[[Billbot, Args], Awaitable[bool]]] = {
    "digest": digest_job,
    "reminders": reminders_job,
    "full_read": full_read_job,
}


def _posted_on(day: date) -> Callable[[Session], set[str]]:
    def read(session: Session) -> set[str]:
        return set(session.exec(select(DigestPost.channel_id).where(
            col(DigestPost.local_date) == day, col(DigestPost.state) == "posted")).all())
    return read


async def digest_sweep(bot: Billbot, defer: Deferrer) -> int:
    """Queue the day's digest of every bound channel that has not had it; how many queued."""
    day = due_digest_day(bot)
    if day is None:
        return 0
    bound = await bot.db(bindings_service.list_bindings, read_only=True)
    posted = await bot.db(_posted_on(day), read_only=True)
    queued = 0
    for binding in bound:
        if binding.channel_id in posted or binding.paused:  # paused: billbot uninstalled there
            continue
        args = {"channel_id": binding.channel_id, "company_id": binding.company_id,
                "day": day.isoformat()}
        queued += await defer("digest", args, lock=company_lock(binding),
                              dedupe=f"digest:{binding.channel_id}:{day.isoformat()}")
    return queued


async def reminder_sweep(bot: Billbot, defer: Deferrer) -> int:
    """In working hours, queue every bound channel's reminders; how many queued."""
    s = bot.settings
    day = working_day(bot.clock.now(), s.billbot_timezone, s.billbot_digest_days)
    if day is None:
        return 0
    bound = await bot.db(bindings_service.list_bindings, read_only=True)
    queued = 0
    for binding in bound:
        if binding.paused:  # its workspace uninstalled billbot
            continue
        queued += await defer("reminders", {"channel_id": binding.channel_id,
                                            "day": day.isoformat()},
                              lock=company_lock(binding),
                              dedupe=f"reminders:{binding.channel_id}:{day.isoformat()}")
    return queued


def full_read_day(bot: Billbot) -> date | None:
    """The local day whose full reads are due now: from BILLBOT_BILLS_FULL_READ_AT for the
    digest's catch-up window, every day; any time when the period is under a day (a nightly
    job cannot keep it, and the readers' safety net would be the one reading)."""
    s = bot.settings
    now = bot.clock.now()
    if s.billbot_bills_full_read_hours < 24:
        return now.astimezone(s.billbot_timezone).date()
    return DigestSchedule(at=s.billbot_bills_full_read_at, days=frozenset(range(7)),
                          tz=s.billbot_timezone).due_day(now)


async def full_read_sweep(bot: Billbot, defer: Deferrer) -> int:
    """At the quiet hour, queue a full read of every bound company whose last one is due
    (one per company, however many channels it has); how many queued."""
    day = full_read_day(bot)
    if day is None:
        return 0
    bound = await bot.db(bindings_service.list_bindings, read_only=True)
    companies = sorted({(b.company_id, b.connection_id) for b in bound if not b.paused})
    due = await bot.db(lambda s: [key for key in companies if bot.open_bills.full_due(
        bill_cache.refresh_state(s, company_id=key[0], connection_id=key[1]),
        bot.clock.now(), nightly=True)], read_only=True)
    queued = 0
    for company_id, connection_id in due:
        queued += await defer("full_read", {"company_id": company_id,
                                            "connection_id": connection_id},
                              lock=f"codat:{company_id}",
                              dedupe=f"full_read:{company_id}:{connection_id}:{day}")
    return queued


__all__ = ["JOBS", "Args", "Deferrer", "company_lock", "digest_sweep", "full_read_sweep",
           "recovery_tick", "reminder_sweep"]
