"""A payment through Codat's async API, recorded exactly once without idempotency keys.

The intent carries a unique reference (`payment_reference`, written into the bill payment)
from the moment it is committed. Sending is a push operation:

    created ──mark_calling──▶ calling ──POST push/billPayments──▶ key committed
       │                        │                                   │ followed with backoff
       │                        ├─final 4xx────────────▶ failed      ├─Success──▶ succeeded
       │                        ├─never left───────────▶ created     ├─Failed───▶ failed (Codat's reason)
       │                        └─answer lost, crash ──▶ unknown     └─Pending──▶ unknown ("Recording…")

Nothing is ever sent again while a previous send may have reached Codat, until
`async_api.resolve` has looked for it: the payments carrying the reference (the company's
bill payments and the bill's allocations) and the company's push operations since the first
send that no other intent holds. Found: succeeded. Pending or not yet readable: wait (the
recovery tick looks again, a sync is requested). Absent: the bill is re-read and checked as
for a first send, then the same reference is sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Protocol, TypeVar

from sqlmodel import Session

from billbot.clock import Clock
from billbot.codat.async_api import AsyncBillPayClient, AsyncBillPayment, PushOperation
from billbot.codat.async_api.models import PaymentLine, PaymentLink, PushStatus
from billbot.codat.async_api.payment_lookup import payment_lookup
from billbot.codat.async_api.resolve import CLOCK_SKEW, Absent, Found, resolve
from billbot.codat.errors import CodatApiError, CodatError, CodatNotSent, CodatOutcomeUnknown
from billbot.codat.models import Bill, IdRef, SupplierRef
from billbot.storage.tables import PaymentIntent
from billbot.testhooks import CrashPoint

from . import intents, push_intents
from .intents import Lease, PaymentOutcome
from .payment_groups import is_batch

T = TypeVar("T")


class PaymentRunner(Protocol):
    """What this path uses of `payment_runner.PaymentRunner` (which delegates to it)."""

    _clock: Clock
    _crash: Callable[[CrashPoint], None]

    @property
    def settings(self) -> Any: ...

    async def _db(self, work: Callable[[Session], T]) -> T: ...

    async def outcome(self, intent_id: Any) -> PaymentOutcome: ...

    async def _fail(self, lease: Lease, reason: str, **detail: object) -> PaymentOutcome: ...

    async def _release(self, lease: Lease) -> PaymentOutcome: ...

    def _payer_problem(self, session: Session, payer_id: str, *,
                       at: datetime | None = None) -> str | None: ...

    def _unsent_problem(self, session: Session, lease: Lease, bill: Bill) -> str | None: ...

logger = logging.getLogger("billbot.payments")

# A payment whose fate cannot be told this long after it was first sent is failed with a
# warning to check the books (Codat keeps push operations; something is badly wrong).
UNDECIDED_FOR = timedelta(hours=24)
UNREACHABLE = "Codat could not be reached, so nothing was paid. Try again shortly."


def push_body(lease: Lease, members: Sequence[tuple[str, PaymentIntent]] = ()
              ) -> AsyncBillPayment:
    """One payment allocated to the one bill: a line of the amount, a link of minus it.

    A credit note allocation links the credit note too (positive: the credit used); the
    payment's total is then only what leaves the bank account (zero for credit alone).
    A group's lead (`members`: the group's other bills) adds one line per member bill; a
    batch (bills of several suppliers) has no supplierRef, as Codat asks."""
    intent = lease.intent
    assert intent.payment_reference is not None
    links = [PaymentLink(type="Bill", id=lease.bill.bill_id, amount=-intent.amount,
                         currency_rate=intent.rate)]
    if intent.credit_note_id is not None and intent.credit_amount:
        links.append(PaymentLink(type="CreditNote", id=intent.credit_note_id,
                                 amount=intent.credit_amount, currency_rate=intent.rate))
    cash = intent.cash_amount
    lines = [PaymentLine(amount=cash, links=links)] + [
        PaymentLine(amount=m.amount, links=[PaymentLink(type="Bill", id=bill_id,
                                                        amount=-m.amount, currency_rate=m.rate)])
        for bill_id, m in members]
    batch = is_batch([intent, *(m for _, m in members)])
    return AsyncBillPayment(
        supplier_ref=None if batch else SupplierRef(id=str(intent.bill_version["supplierId"])),
        account_ref=IdRef(id=intent.account_id),
        total_amount=cash + sum((m.amount for _, m in members), Decimal(0)),
        currency=intent.currency, currency_rate=intent.rate,
        date=f"{intent.payment_date.isoformat()}T00:00:00",
        reference=intent.payment_reference, note="Recorded by billbot",
        lines=lines)


class PushPayments:
    """The runner's async-API path (`PaymentRunner` delegates intents made on async)."""

    def __init__(self, runner: PaymentRunner) -> None:
        self._runner = runner

    # --- sending ------------------------------------------------------------------------

    async def send(self, lease: Lease, push: AsyncBillPayClient, *,
                   recovery: bool) -> PaymentOutcome:
        runner = self._runner
        if not lease.maybe_sent:
            problem = await runner._db(lambda s: runner._payer_problem(
                s, lease.intent.payer_id, at=runner._clock.now()))
            if problem:
                return await runner._fail(lease, problem)
        sent_before = lease.maybe_sent
        calling = await runner._db(partial(intents.mark_calling, lease=lease,
                                           now=runner._clock.now(),
                                           lease_for=runner.settings.lease, recovery=recovery))
        if calling is None:  # our lease ran out and someone else took the intent
            return await runner.outcome(lease.intent.id)
        lease = calling
        members = await runner._db(partial(push_intents.members_of, lease=lease))
        runner._crash(CrashPoint.BEFORE_CODAT_CALL)
        try:
            operation = await push.push_bill_payment(lease.bill.company_id,
                                                     lease.bill.connection_id,
                                                     push_body(lease, members))
        except CodatApiError as exc:  # refused: the request wrote nothing
            return await runner._fail(lease, exc.reason, status_code=exc.status_code,
                                      correlation_id=exc.correlation_id)
        except CodatNotSent as exc:
            lease = await runner._db(partial(intents.mark_not_sent, lease=lease,
                                             now=runner._clock.now(), error=f"not sent: {exc}",
                                             sent_before=sent_before))
            if not lease.maybe_sent and not recovery:
                return await runner._fail(lease, UNREACHABLE)
            return await runner._release(lease)
        except (CodatOutcomeUnknown, Exception) as exc:
            # It may have reached Codat: never sent again before `resolve` has looked.
            if not isinstance(exc, CodatOutcomeUnknown):
                logger.exception("unexpected error paying intent %s", lease.intent.id)
            lease = await runner._db(partial(intents.mark_unknown, lease=lease,
                                             now=runner._clock.now(),
                                             error=f"{exc.__class__.__name__}: {exc}"[:500]))
            return await runner._release(lease)
        runner._crash(CrashPoint.AFTER_CODAT_ANSWER)
        lease = await runner._db(partial(push_intents.record_push_key, lease=lease,
                                         key=operation.push_operation_key,
                                         now=runner._clock.now(), how="Codat answered"))
        return await self._settle(lease, push, await push.follow(lease.bill.company_id,
                                                                 operation))

    async def _settle(self, lease: Lease, push: AsyncBillPayClient,
                      operation: PushOperation) -> PaymentOutcome:
        """Record what a push operation of this intent (its key committed) says."""
        runner = self._runner
        if operation.status is PushStatus.SUCCESS:
            outcome = await runner._db(partial(
                intents.finish_succeeded, lease=lease, now=runner._clock.now(),
                remote_payment_id=operation.record_id,
                how="the push operation succeeded"))
            runner._crash(CrashPoint.AFTER_LOCAL_COMMIT)
            await _refresh(push, lease)
            return outcome
        if operation.status is PushStatus.FAILED:
            return await runner._fail(lease, operation.reason,
                                      push_operation_key=operation.push_operation_key,
                                      status_code=operation.status_code)
        state = "pending" if operation.status is PushStatus.PENDING else "timed out"
        if lease.intent.state != "unknown" or lease.intent.last_error != state:
            lease = await runner._db(partial(intents.mark_unknown, lease=lease,
                                             now=runner._clock.now(),
                                             error=f"push operation {state}"))
        return await runner._release(lease)

    # --- recovery -----------------------------------------------------------------------

    async def recover(self, lease: Lease, push: AsyncBillPayClient,
                      now: datetime) -> PaymentOutcome:
        runner, intent = self._runner, lease.intent
        if not lease.maybe_sent:
            return await self._send_fresh(lease, push, now)
        key = intent.push_operation_key
        if key is not None:
            try:
                operation = await push.get_push_operation(lease.bill.company_id, key)
            except CodatError as exc:
                logger.warning("push operation of intent %s unread: %s", intent.id,
                               exc.__class__.__name__)
                return await runner._release(lease)
            if operation.status is not PushStatus.TIMED_OUT:
                return await self._settle(lease, push, operation)
        return await self._resolve(lease, push, now)

    async def _resolve(self, lease: Lease, push: AsyncBillPayClient,
                       now: datetime) -> PaymentOutcome:
        """The answer was lost (or the push timed out): look before sending again."""
        runner, intent = self._runner, lease.intent
        assert intent.first_sent_at is not None and intent.payment_reference is not None
        since = intent.first_sent_at
        others = await runner._db(lambda s: push_intents.keys_of_others(
            s, lease, since=since, skew=CLOCK_SKEW))
        lookup = payment_lookup(push, lease.bill.company_id, lease.bill.connection_id,
                                lease.bill.bill_id)
        try:
            found = await resolve(lookup, reference=intent.payment_reference,
                                  connection_id=lease.bill.connection_id, sent_since=since,
                                  other_keys=others)
        except CodatError as exc:
            logger.warning("resolving intent %s failed: %s", intent.id, exc.__class__.__name__)
            return await runner._release(lease)
        if isinstance(found, Found):
            if found.push_key is not None:
                lease = await runner._db(partial(push_intents.record_push_key, lease=lease,
                                                 key=found.push_key, now=runner._clock.now(),
                                                 how=found.how))
            outcome = await runner._db(partial(
                intents.finish_succeeded, lease=lease, now=runner._clock.now(),
                remote_payment_id=found.record_id, how=f"found by its reference: {found.how}"))
            await _refresh(push, lease)
            return outcome
        if isinstance(found, Absent) and intent.push_operation_key is None:
            return await self._send_fresh(lease, push, now)
        if now - since > UNDECIDED_FOR:
            return await runner._fail(
                lease, "billbot could not confirm whether Codat recorded it "
                f"({found.why}). Check the accounting software before paying again.",
                unconfirmed=True)
        return await runner._release(lease)

    async def _send_fresh(self, lease: Lease, push: AsyncBillPayClient,
                          now: datetime) -> PaymentOutcome:
        """Send an intent that provably wrote nothing, if it still may be paid."""
        runner, intent = self._runner, lease.intent
        if now - intent.created_at > runner.settings.unsent_expiry:
            return await runner._fail(
                lease, f"It could not be sent within {runner.settings.unsent_expiry} of being "
                "started, so it was cancelled; nothing was paid.")
        try:
            bill = await push.get_bill(lease.bill.company_id, lease.bill.connection_id,
                                       lease.bill.bill_id)
        except CodatError as exc:
            logger.warning("bill re-read failed: %s", exc.__class__.__name__)
            return await runner._release(lease)
        problem = await runner._db(lambda s: runner._unsent_problem(s, lease, bill))
        members = await runner._db(partial(push_intents.members_of, lease=lease))
        for bill_id, member in members:  # one payment: each of its bills must still be payable
            try:
                other = await push.get_bill(lease.bill.company_id, lease.bill.connection_id,
                                            bill_id)
            except CodatError as exc:
                logger.warning("bill re-read failed: %s", exc.__class__.__name__)
                return await runner._release(lease)
            held = Lease(member, replace(lease.bill, bill_id=bill_id), "")
            problem = problem or await runner._db(
                partial(runner._unsent_problem, lease=held, bill=other))
        if problem:
            return await runner._fail(lease, problem)
        return await self.send(lease, push, recovery=True)


async def _refresh(push: AsyncBillPayClient, lease: Lease) -> None:
    """Ask Codat to sync the bill, so rows show the payment soon (best effort)."""
    try:
        await push.request_sync(lease.bill.company_id, lease.bill.connection_id, "bills")
    except CodatError as exc:
        logger.info("bill sync not requested: %s", exc.__class__.__name__)


__all__ = ["UNDECIDED_FOR", "PushPayments", "push_body"]
