"""Sending payment intents to Codat, and finishing the ones a crash or timeout left open.

`execute` runs right after `start_payment` committed: it sends the intent with its own
Idempotency-Key and retries an unknown outcome with the SAME key a few times. `recover`
(a scheduled tick) finishes open intents whose lease ran out:
- never sent (`created`): re-read the bill, re-check it is still payable and approved,
  then send (or cancel it if it is older than `unsent_expiry`);
- maybe sent, within Codat's 90-minute replay window (from the first send, less a safety
  margin): send again with the same key; Codat replays its first answer, never pays twice;
- maybe sent, past that window: NEVER send again. Re-read the bill and decide from its
  amountDue whether the payment landed (due dropped by exactly the amount), did not land
  (due and sourceModifiedDate unchanged), or cannot be told (anything else: failed, with a
  warning to check the accounting software; the unexplained change also voids the approval).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Protocol, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from billbot import tenancy
from billbot.clock import Clock
from billbot.codat.async_api import AsyncBillPayClient
from billbot.codat.backend import API_ASYNC
from billbot.codat.errors import (
    CodatApiError,
    CodatError,
    CodatNotFound,
    CodatNotSent,
    CodatOutcomeUnknown,
)
from billbot.codat.models import Bill, BillPayment, BillPaymentPrototype, IdRef
from billbot.codat.retry import RetryPolicy
from billbot.domain.policy import PolicySettings, Role
from billbot.domain.versions import BillVersion
from billbot.storage.db import session_scope
from billbot.storage.tables import BillTrack
from billbot.testhooks import CrashHook, CrashPoint, no_crash

from . import intents, tracks
from .intents import Lease, PaymentOutcome, PaymentStatus
from .payability import payment_problem
from .push_payments import PushPayments
from .roles import roles_of

logger = logging.getLogger("billbot.payments")

T = TypeVar("T")

UNREACHABLE = "Codat could not be reached, so nothing was paid. Try again shortly."


class PaymentGateway(Protocol):
    """The two Codat calls payments need (billbot.codat.client.CodatClient has both)."""

    async def create_bill_payment(self, company_id: str, connection_id: str, bill_id: str,
                                  payment: BillPaymentPrototype, *,
                                  idempotency_key: str) -> BillPayment: ...

    async def get_bill(self, company_id: str, connection_id: str, bill_id: str) -> Bill: ...


@dataclass(frozen=True)
class RunnerSettings:
    # Pauses between same-key attempts inside `execute` (the client retries on its own too).
    retry_delays: tuple[float, ...] = (2.0, 8.0)
    # Must outlast one Codat call including the client's own retries (RetryPolicy() is about
    # 30 s; give recovery a client whose budget fits too, not RetryPolicy.background()).
    lease: timedelta = timedelta(minutes=2)
    # Codat replays a key's first answer for 90 minutes; stop re-sending well before.
    replay_window: timedelta = timedelta(minutes=90)
    replay_margin: timedelta = timedelta(minutes=15)
    # An unresolved intent is looked at again by recovery after this long.
    recheck_after: timedelta = timedelta(minutes=1)
    # A payment never sent within this long of the click is cancelled, not sent late.
    unsent_expiry: timedelta = timedelta(hours=1)
    recover_batch: int = 50

    @classmethod
    def with_lease(cls, lease: timedelta) -> RunnerSettings:
        """Defaults around another lease; an unresolved intent is re-checked within a lease."""
        return cls(lease=lease, recheck_after=min(cls.recheck_after, lease))


def payment_call_limits(lease: timedelta) -> tuple[float, RetryPolicy]:
    """The request timeout and retry budget for payment calls under `lease`.

    One call, all its retries included, must end while its caller still holds the lease
    (else a recovery worker takes the intent over mid-call: harmless for money, as both use
    the same key, but wasteful). A call lasts at most its budget plus one attempt started at
    the budget's end (connect, send and read each bounded by the timeout): about half the
    lease. With the 2-minute default this is the client's usual 15 s timeout and 30 s budget.
    """
    seconds = lease.total_seconds()
    return min(15.0, seconds / 8), RetryPolicy(max_elapsed=min(30.0, seconds / 4))


def payment_body(lease: Lease) -> BillPaymentPrototype:
    """The same body for every attempt with the key (a different one gets a 422)."""
    intent = lease.intent
    return BillPaymentPrototype(amount=intent.amount,
                                date=f"{intent.payment_date.isoformat()}T00:00:00",
                                account_ref=IdRef(id=intent.account_id),
                                currency_rate=intent.rate)


class PaymentRunner:
    def __init__(self, engine: Engine, clock: Clock, *,
                 policy: PolicySettings | Callable[[], PolicySettings] | None = None,
                 settings: RunnerSettings | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 crash: CrashHook = no_crash) -> None:
        self._engine = engine
        self._clock = clock
        self._policy = policy
        self._settings = settings or RunnerSettings()
        self._sleep = sleep
        self._crash = crash

    @property
    def settings(self) -> RunnerSettings:
        return self._settings

    async def _db(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with session_scope(self._engine) as session:
                return work(session)
        return await asyncio.to_thread(run)

    async def outcome(self, intent_id: uuid.UUID) -> PaymentOutcome:
        return await self._db(lambda s: intents.outcome_of(s, intent_id))

    async def execute(self, intent_id: uuid.UUID, codat: PaymentGateway,
                      push: AsyncBillPayClient | None = None) -> PaymentOutcome:
        """Send a just-started intent; returns what to show (pending if still unknown).

        An intent made on an async binding goes through `push` (the async API)."""
        self._crash(CrashPoint.INTENT_COMMITTED)
        now = self._clock.now()
        lease = await self._db(lambda s: intents.claim(s, intent_id, now=now,
                                                       lease_for=self._settings.lease))
        if lease is None:  # finished already, or another worker holds it
            return await self.outcome(intent_id)
        if lease.intent.codat_api == API_ASYNC:
            if push is None:
                logger.error("intent %s is for the async API and no client was given", intent_id)
                return await self._release(lease)
            return await PushPayments(self).send(lease, push, recovery=False)
        return await self._drive(lease, codat, delays=self._settings.retry_delays,
                                 recovery=False)

    async def recover(self, codat: PaymentGateway, now: datetime | None = None,
                      push: AsyncBillPayClient | None = None) -> list[PaymentOutcome]:
        """Finish open intents whose lease expired; one outcome per intent looked at."""
        at = now or self._clock.now()
        ids = await self._db(lambda s: intents.expired_leases(
            s, now=at, limit=self._settings.recover_batch,
            unclaimed_grace=self._settings.lease))
        outcomes = []
        for intent_id in ids:
            lease = await self._db(partial(intents.claim, intent_id=intent_id, now=at,
                                           lease_for=self._settings.lease))
            if lease is None:
                continue
            try:
                # Re-checked in the workspace it was started from (OAuth mode: roles and
                # policy are per workspace; this tick runs outside any).
                with _workspace_of(lease):
                    if lease.intent.codat_api != API_ASYNC:
                        outcomes.append(await self._recover_one(lease, codat, at))
                    elif push is not None:
                        outcomes.append(await PushPayments(self).recover(lease, push, at))
                    else:
                        logger.error("async intent %s left: no async client given", intent_id)
                        await self._release(lease)
            except Exception:
                # One bad intent must not stop the others; its lease expires and it is retried.
                logger.exception("recovery of payment intent %s failed", intent_id)
        return outcomes

    # --- recovery ------------------------------------------------------------------------

    async def _recover_one(self, lease: Lease, codat: PaymentGateway,
                           now: datetime) -> PaymentOutcome:
        intent = lease.intent
        if not lease.maybe_sent:
            if now - intent.created_at > self._settings.unsent_expiry:
                return await self._fail(lease, "It could not be sent within "
                                        f"{self._settings.unsent_expiry} of being started, so "
                                        "it was cancelled; nothing was paid.")
            bill = await self._read_bill(lease, codat)
            if bill is None:
                return await self._release(lease)
            problem = await self._db(lambda s: self._unsent_problem(s, lease, bill))
            if problem:
                return await self._fail(lease, problem)
            return await self._drive(lease, codat, delays=(), recovery=True)
        assert intent.first_sent_at is not None
        replay_until = (intent.first_sent_at + self._settings.replay_window
                        - self._settings.replay_margin)
        if now < replay_until:
            return await self._drive(lease, codat, delays=(), recovery=True)
        return await self._decide_from_bill(lease, codat)

    def _unsent_problem(self, session: Session, lease: Lease, bill: Bill) -> str | None:
        """Re-check a never-sent intent against the bill as it is now."""
        intent = lease.intent
        track = session.get(BillTrack, intent.bill_track_id)
        assert track is not None
        if not tracks.is_current(track, BillVersion.of(bill)):
            return ("The bill changed in the accounting software before the payment was "
                    "sent, so it was not sent; nothing was paid.")
        problem = payment_problem(bill, intent.amount)
        if problem:
            return f"{problem} Nothing was paid."
        return self._payer_problem(session, intent.payer_id, at=self._clock.now())

    def _payer_problem(self, session: Session, payer_id: str, *,
                       at: datetime | None = None) -> str | None:
        # With `at`, a delegate still covering an absent payer still may (`/bills away`).
        # A callable policy is the one in force now (a version saved since start applies).
        policy = self._policy() if callable(self._policy) else self._policy
        if policy is None or Role.PAYER in roles_of(session, policy, payer_id, at=at):
            return None
        return "The payer is no longer allowed to pay bills, so nothing was paid."

    async def _decide_from_bill(self, lease: Lease, codat: PaymentGateway) -> PaymentOutcome:
        """Past the replay window: never send again; the bill's amountDue tells."""
        intent = lease.intent
        try:
            bill: Bill | None = await codat.get_bill(lease.bill.company_id,
                                                     lease.bill.connection_id,
                                                     lease.bill.bill_id)
        except CodatNotFound:
            bill = None
        except CodatError as exc:
            logger.warning("bill re-read for intent %s failed: %s", intent.id,
                           exc.__class__.__name__)
            return await self._release(lease)
        at_start = BillVersion.from_json(intent.bill_version)
        before = at_start.amount_due
        after = bill.amount_due if bill is not None else None
        evidence = {"amount_due_at_start": _text(before), "amount_due_now": _text(after)}
        if before is not None and after is not None:
            if after == before - intent.amount:
                now = self._clock.now()
                return await self._db(lambda s: intents.finish_succeeded(
                    s, lease, now=now, remote_payment_id=None,
                    how="confirmed from the bill's amountDue after the replay window"))
            # "Not recorded" only if the bill was not touched at all: a payment plus an edit
            # back to the old amount would also leave amountDue unchanged.
            untouched = (bill is not None and at_start.source_modified_date is not None
                         and bill.source_modified_date == at_start.source_modified_date)
            if after == before and untouched:
                return await self._fail(
                    lease, "Codat did not record it (the bill's amount due is unchanged); "
                    "nothing was paid.", **evidence)
        return await self._fail(
            lease, "billbot could not confirm whether Codat recorded it (the bill's amount due "
            f"went from {_text(before)} to {_text(after)}). Check the accounting software "
            "before paying again.", unconfirmed=True, **evidence)

    async def _read_bill(self, lease: Lease, codat: PaymentGateway) -> Bill | None:
        try:
            return await codat.get_bill(lease.bill.company_id, lease.bill.connection_id,
                                        lease.bill.bill_id)
        except CodatError as exc:
            logger.warning("bill re-read failed: %s", exc.__class__.__name__)
            return None

    # --- sending ------------------------------------------------------------------------

    async def _drive(self, lease: Lease, codat: PaymentGateway, *,
                     delays: tuple[float, ...], recovery: bool) -> PaymentOutcome:
        """Send with the intent's key; retry an unknown or unsent outcome after `delays`."""
        if not lease.maybe_sent:
            problem = await self._db(lambda s: self._payer_problem(
                s, lease.intent.payer_id, at=self._clock.now()))
            if problem:
                return await self._fail(lease, problem)
        for attempt in range(len(delays) + 1):
            if attempt:
                await self._sleep(delays[attempt - 1])
            sent_before = lease.maybe_sent
            now = self._clock.now()
            calling = await self._db(partial(intents.mark_calling, lease=lease, now=now,
                                             lease_for=self._settings.lease, recovery=recovery))
            if calling is None:  # our lease ran out and someone else took the intent
                return await self.outcome(lease.intent.id)
            lease = calling
            self._crash(CrashPoint.BEFORE_CODAT_CALL)
            try:
                payment = await codat.create_bill_payment(
                    lease.bill.company_id, lease.bill.connection_id, lease.bill.bill_id,
                    payment_body(lease), idempotency_key=lease.intent.idempotency_key)
            except CodatApiError as exc:
                return await self._fail(lease, exc.reason, status_code=exc.status_code,
                                        correlation_id=exc.correlation_id)
            except CodatNotSent as exc:
                error = f"not sent: {exc}"
                lease = await self._db(partial(intents.mark_not_sent, lease=lease,
                                               now=self._clock.now(), error=error,
                                               sent_before=sent_before))
            except (CodatOutcomeUnknown, Exception) as exc:
                # Anything else after the request may have left (a 201 we could not parse,
                # a bug) is treated as unknown: the same key finds out later.
                if not isinstance(exc, CodatOutcomeUnknown):
                    logger.exception("unexpected error paying intent %s", lease.intent.id)
                error = f"{exc.__class__.__name__}: {exc}"[:500]
                lease = await self._db(partial(intents.mark_unknown, lease=lease,
                                               now=self._clock.now(), error=error))
            else:
                self._crash(CrashPoint.AFTER_CODAT_ANSWER)
                recorded = await self._db(partial(
                    intents.finish_succeeded, lease=lease, now=self._clock.now(),
                    remote_payment_id=payment.id, how="Codat answered"))
                self._crash(CrashPoint.AFTER_LOCAL_COMMIT)
                return recorded
        if not lease.maybe_sent and not recovery:
            return await self._fail(lease, UNREACHABLE)
        return await self._release(lease)

    async def _fail(self, lease: Lease, reason: str, **detail: object) -> PaymentOutcome:
        now = self._clock.now()
        return await self._db(lambda s: intents.finish_failed(s, lease, now=now, reason=reason,
                                                              **detail))

    async def _release(self, lease: Lease) -> PaymentOutcome:
        retry_at = self._clock.now() + self._settings.recheck_after
        await self._db(lambda s: intents.release(s, lease, retry_at=retry_at))
        return await self.outcome(lease.intent.id)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")



def _workspace_of(lease: Lease) -> contextlib.AbstractContextManager[None]:
    """Act for the intent's workspace; single-workspace intents carry none ('')."""
    intent = lease.intent
    if not intent.team_id:
        return contextlib.nullcontext()
    return tenancy.acting_for(tenancy.Workspace(intent.team_id))

__all__ = ["PaymentGateway", "PaymentOutcome", "PaymentRunner", "PaymentStatus",
           "RunnerSettings", "payment_body", "payment_call_limits"]
