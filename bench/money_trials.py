"""Seeded payment trials against the Codat sandbox over HTTP: one fault per trial, recovery
until every intent is final, and the money figures of the whole run.

A trial takes a fresh Open bill, has it approved by the people the policy needs, starts a
payment and sends it while one failure happens at one point:

    refused      the TCP connection is refused (a real ECONNREFUSED: sent to a closed port)
    500, 503     Codat answers 5xx (stored under the key, or not, as the seed says)
    429          Codat answers 429 (never stored under the key)
    lost         Codat commits the payment, then the answer never arrives (client timeout)
    crash_before the process dies after the intent is committed, before the POST
    crash_after  the process dies after Codat answered 201, before the local commit
    push_failed  (async API only) the push operation ends Failed: nothing is written

`api="async"` runs the same trials through Codat's async API (push operations, no
Idempotency-Key: a lost answer is resolved by the payment's unique reference).

A crash is a `SimulatedCrash` raised at the crash point: the coroutine is abandoned with
whatever it committed. "Restarted" processes are fresh PaymentRunner instances that run the
recovery tick with the clock moved past the lease (sometimes two at once, as two replicas
would), and sometimes past Codat's replay window. The sandbox shares the clock, so its
idempotency keys expire as Codat's would. A payment that failed for good (never sent, or
Codat kept replaying a stored 5xx) is paid again by the payer, with a new intent and
without a new approval.

Checked per trial: the sandbox holds exactly one payment for the bill, of the approved
amount, under the key of the one succeeded intent; no failed intent's key was applied;
every intent is final; the approval still held whenever the payer had to pay again; every
intent's transitions are in the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import col, select

from billbot.clock import FixedClock
from billbot.codat.async_api import AsyncBillPayClient, FollowPolicy
from billbot.codat.client import CodatClient
from billbot.codat.models import Bill
from billbot.codat.retry import RetryPolicy
from billbot.domain.policy import PolicySettings
from billbot.sandbox.codat.app import create_app
from billbot.sandbox.codat.faults import FaultKind
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import free_port, serve_in_thread
from billbot.services import approvals, bindings
from billbot.services.bindings import Binding
from billbot.services.payment_runner import PaymentRunner, RunnerSettings
from billbot.services.payments import StartOutcome, start_payment
from billbot.storage.audit import BillRef
from billbot.storage.db import session_scope
from billbot.storage.tables import OPEN_INTENT_STATES, AuditLog, PaymentIntent
from billbot.testhooks import CrashPoint, SimulatedCrash, no_crash, raise_at

from .trial_audit import audit_problem

FAULTS = ("refused", "500", "503", "429", "lost", "crash_before", "crash_after")
FAULTS_BY_API = {"sync": FAULTS, "async": (*FAULTS, "push_failed")}
API_KEY = "money-trials-key"
PAYMENT_PATHS = {"sync": r"/payment$", "async": r"/push/billPayments$"}
APPROVERS = ("UA1", "UA2", "UA3")
PAYERS = ("UP1", "UP2")
POLICY = PolicySettings(approvers=frozenset(APPROVERS), payers=frozenset(PAYERS),
                        dual_approval_over=Decimal(2000))
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# The runner's own same-key retries inside one `execute` (no real waiting: `_no_sleep`).
RUNNER = RunnerSettings(retry_delays=(0.0, 0.0))
MAX_TICKS = 12
CLIENT_TIMEOUT = 0.4  # a lost answer costs this much wall time


async def _no_sleep(_: float) -> None:
    return None


class RefusingTransport(httpx.AsyncBaseTransport):
    """Real HTTP, except that the next `refuse_next` payment POSTs go to a closed port."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._closed_port = free_port()
        self.refuse_next = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.refuse_next > 0 and request.method == "POST" and request.url.path.endswith(
                ("/payment", "/push/billPayments")):
            self.refuse_next -= 1
            request.url = request.url.copy_with(host="127.0.0.1", port=self._closed_port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Figures:
    """What a run of trials did, summed over trials."""

    trials: int = 0
    payments: int = 0  # payments the sandbox applied
    duplicates: int = 0  # payments beyond one per trial, or under one key
    approvals_lost: int = 0  # a re-payment refused for want of an approval that had held
    intents_open: int = 0  # intents not final after recovery
    missing: int = 0  # trials whose bill was never paid
    unaudited: int = 0  # intents whose transitions the audit log does not account for
    intents: int = 0
    repaid: int = 0  # trials where the payer had to pay again (first intent failed for good)
    by_fault: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        for name in ("trials", "payments", "duplicates", "approvals_lost", "intents_open",
                     "missing", "unaudited", "intents", "repaid"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.by_fault.update(other.by_fault)
        self.problems.extend(other.problems)

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.approvals_lost or self.intents_open or self.missing
                    or self.unaudited or self.problems)

    def table(self) -> str:
        return (f"trials={self.trials} payments made={self.payments} "
                f"duplicates={self.duplicates} approvals lost={self.approvals_lost} "
                f"intents left open={self.intents_open} unpaid bills={self.missing} "
                f"unaudited intents={self.unaudited} intents={self.intents} "
                f"paid again after a final failure={self.repaid}")


class TrialWorld:
    """One database, one sandbox served over HTTP, one clock they share."""

    def __init__(self, engine: Engine, sandbox: SandboxState, clock: FixedClock,
                 base_url: str, transport: RefusingTransport, http: httpx.AsyncClient,
                 patient_http: httpx.AsyncClient, api: str = "sync") -> None:
        self.engine, self.sandbox, self.clock, self.api = engine, sandbox, clock, api
        self.transport = transport
        self.impatient = CodatClient(http, api_key=API_KEY, base_url=base_url,
                                     timeout=CLIENT_TIMEOUT, retry=RetryPolicy.none())
        self.patient = CodatClient(patient_http, api_key=API_KEY, base_url=base_url, timeout=10,
                                   retry=RetryPolicy(initial_interval=0.01, max_interval=0.05))
        # The async API's clients: push operations followed without real waiting.
        follow = FollowPolicy(initial_delay=0.01, max_delay=0.01, budget=0.1)
        self.push = AsyncBillPayClient(self.impatient, follow_policy=follow, sleep=_no_sleep)
        self.patient_push = AsyncBillPayClient(self.patient, sleep=_no_sleep)
        with session_scope(engine) as session:
            self.binding: Binding = bindings.ensure_default_binding(
                session, channel_id="CTRIALS", company_id=sandbox.main_company_id,
                connection_id=sandbox.main_connection_id, at=clock.now(), codat_api=api)
        self._unused = self._payable_bills()

    def _payable_bills(self) -> list[str]:
        ledger = self.sandbox.main_ledger
        return sorted(b["id"] for b in ledger.bills.values()
                      if b["status"] == "Open" and b.get("amountDue")
                      and self._account_for(str(b["currency"])) is not None)

    def _account_for(self, currency: str) -> str | None:
        for account in self.sandbox.main_ledger.bank_accounts.values():
            if (account["currency"] == currency and account["status"] == "Active"
                    and account["accountType"] == "Debit"):
                return str(account["id"])
        return None

    @property
    def bills_left(self) -> int:
        return len(self._unused)

    def ref(self, bill_id: str) -> BillRef:
        return BillRef(self.binding.company_id, self.binding.connection_id, bill_id)

    async def bill(self, bill_id: str) -> Bill:
        reader = self.patient_push if self.api == "async" else self.patient
        return await reader.get_bill(self.binding.company_id, self.binding.connection_id,
                                     bill_id)

    def runner(self, crash: CrashPoint | None = None) -> PaymentRunner:
        hook = raise_at(frozenset({crash})) if crash else no_crash
        return PaymentRunner(self.engine, self.clock, policy=POLICY, settings=RUNNER,
                             sleep=_no_sleep, crash=hook)

    def advance(self, delta: timedelta) -> None:
        self.clock.set(self.clock.now() + delta)

    # --- one trial -------------------------------------------------------------------------

    async def trial(self, fault: str, seed: int) -> Figures:
        rng = random.Random(f"{fault}:{seed}")
        figures = Figures(trials=1)
        figures.by_fault[fault] += 1
        bill_id = self._unused.pop(rng.randrange(len(self._unused)))
        bill = await self.bill(bill_id)
        assert bill.amount_due is not None
        account = self._account_for(bill.currency)
        assert account is not None
        await self._approve(bill, rng)
        amount = bill.amount_due if rng.random() < 0.6 else (
            bill.amount_due * Decimal(rng.randint(1, 9)) / 10).quantize(Decimal("0.01"))
        label = f"{fault} seed={seed} bill={bill_id}"

        intent_ids = []
        for payment_round in range(3):
            intent_id = await self._start(bill_id, amount, account, rng, label, figures)
            if intent_id is None:
                break
            intent_ids.append(intent_id)
            await self._send_with_fault(intent_id, fault if payment_round == 0 else "none", rng)
            await self._recover_until_final(intent_id, rng)
            if self._intent(intent_id).state != "failed":
                break
            figures.repaid += 1
        self._check(bill_id, amount, intent_ids, label, figures)
        return figures

    async def _approve(self, bill: Bill, rng: random.Random) -> None:
        needed = 2 if (bill.amount_due or 0) > (POLICY.dual_approval_over or 0) else 1
        people = rng.sample(APPROVERS, needed)
        if rng.random() < 0.3:
            people.insert(rng.randrange(len(people) + 1), rng.choice(PAYERS))  # refused
        if rng.random() < 0.3:
            people.append(people[0])  # a double click: already done
        for user in people:
            with session_scope(self.engine) as session:
                approvals.approve(session, bill=bill, binding=self.binding, user_id=user,
                                  request_id=None, policy=POLICY, at=self.clock.now())

    async def _start(self, bill_id: str, amount: Decimal, account: str, rng: random.Random,
                     label: str, figures: Figures) -> Any:
        fresh = await self.bill(bill_id)
        with session_scope(self.engine) as session:
            started = start_payment(
                session, bill_ref=self.ref(bill_id), fresh_bill=fresh,
                user_id=rng.choice(PAYERS), request_id=None, amount=amount, account_id=account,
                account_name=None, payment_date=max(self.sandbox.today, fresh.issue_date),
                channel_id="CTRIALS",
                message_ts=None, policy=POLICY, at=self.clock.now())
        if started.outcome is not StartOutcome.STARTED:
            if "approv" in started.message:
                figures.approvals_lost += 1
            figures.problems.append(f"{label}: could not pay: {started.message}")
            return None
        return started.intent_id

    async def _send_with_fault(self, intent_id: Any, fault: str, rng: random.Random) -> None:
        faults = self.sandbox.faults
        count = rng.randint(1, 3)
        crash: CrashPoint | None = None
        with self.sandbox.lock:
            faults.clear()
            faults.cache_injected_errors = rng.random() < 0.5
            if fault == "refused":
                self.transport.refuse_next = count
            elif fault in ("500", "503", "429", "push_failed"):
                kind = {"500": FaultKind.SERVER_ERROR, "503": FaultKind.UNAVAILABLE,
                        "429": FaultKind.RATE_LIMIT, "push_failed": FaultKind.PUSH_FAILED}[fault]
                faults.next(kind, count, path=PAYMENT_PATHS[self.api])
            elif fault == "lost":
                faults.lose_response_hold_seconds = 5.0
                faults.next(FaultKind.LOSE_RESPONSE, count, path=PAYMENT_PATHS[self.api])
            elif fault == "crash_before":
                crash = rng.choice((CrashPoint.INTENT_COMMITTED, CrashPoint.BEFORE_CODAT_CALL))
            elif fault == "crash_after":
                crash = CrashPoint.AFTER_CODAT_ANSWER
        with contextlib.suppress(SimulatedCrash):  # the process died; what it committed stays
            await self.runner(crash).execute(intent_id, self.impatient, self.push)
        self.transport.refuse_next = 0

    async def _recover_until_final(self, intent_id: Any, rng: random.Random) -> None:
        steps = (RUNNER.lease + timedelta(seconds=1), timedelta(minutes=5),
                 timedelta(minutes=40))
        for tick in range(MAX_TICKS):
            if self._intent(intent_id).state not in OPEN_INTENT_STATES:
                return
            # Early ticks land inside or past the replay window as the seed says; later ones
            # always move far, so a key Codat keeps answering 5xx for is decided in time.
            self.advance(rng.choice(steps) if tick < MAX_TICKS // 2 else steps[-1])
            workers = [self.runner() for _ in range(rng.choice((1, 1, 2)))]
            await asyncio.gather(*(w.recover(self.impatient, push=self.push)
                                   for w in workers))

    # --- the checks --------------------------------------------------------------------------

    def _intent(self, intent_id: Any) -> PaymentIntent:
        with session_scope(self.engine, read_only=True) as session:
            intent = session.get(PaymentIntent, intent_id)
            assert intent is not None
            return intent

    def _check(self, bill_id: str, amount: Decimal, intent_ids: list[Any], label: str,
               figures: Figures) -> None:
        with self.sandbox.lock:
            paid = [p for p in self.sandbox.payments if p.bill_id == bill_id]
        figures.payments += len(paid)
        figures.duplicates += max(0, len(paid) - 1)
        # Each payment carries the intent's Idempotency-Key (sync) or its reference (async).
        keys = Counter(p.idempotency_key or p.reference for p in paid)
        figures.duplicates += sum(n - 1 for n in keys.values() if n > 1)
        if not paid:
            figures.missing += 1
            figures.problems.append(f"{label}: the bill was never paid")
        elif paid[0].amount != amount:
            figures.problems.append(f"{label}: paid {paid[0].amount}, approved {amount}")
        with session_scope(self.engine, read_only=True) as session:
            intents = [session.get(PaymentIntent, i) for i in intent_ids]
            audit = list(session.exec(select(AuditLog).where(AuditLog.bill_id == bill_id)
                                      .order_by(col(AuditLog.id))).all())
        figures.intents += len(intents)
        for intent in intents:
            assert intent is not None
            if intent.state in OPEN_INTENT_STATES:
                figures.intents_open += 1
                figures.problems.append(f"{label}: intent left {intent.state}")
            applied = keys[intent.payment_reference or intent.idempotency_key]
            if intent.state == "failed" and applied:
                figures.problems.append(f"{label}: failed intent's key was applied")
            if intent.state == "succeeded" and applied != 1:
                figures.problems.append(f"{label}: succeeded intent applied {applied} times")
            problem = audit_problem(intent, audit)
            if problem:
                figures.unaudited += 1
                figures.problems.append(f"{label}: {problem}")


@asynccontextmanager
async def trial_world(engine: Engine, trials: int = 100,
                      api: str = "sync") -> AsyncIterator[TrialWorld]:
    """A sandbox with an Open bill for each of `trials` (and more), served over HTTP, on the
    world's clock."""
    clock = FixedClock(START)
    sandbox = SandboxState.seeded(START.date(), bills=2 * trials + 50, clock=clock)
    served = serve_in_thread(create_app(sandbox, api_key=API_KEY))
    transport = RefusingTransport()
    try:
        async with httpx.AsyncClient(transport=transport) as http, \
                httpx.AsyncClient() as patient_http:
            yield TrialWorld(engine, sandbox, clock, served.base_url, transport, http,
                             patient_http, api)
    finally:
        served.stop()


async def run_trials(engine: Engine, seeds: int, faults: tuple[str, ...] | None = None,
                     api: str = "sync") -> Figures:
    """`seeds` trials of each fault on one database; returns the summed figures."""
    faults = FAULTS_BY_API[api] if faults is None else faults
    total = Figures()
    async with trial_world(engine, seeds * len(faults), api) as world:
        if world.bills_left < seeds * len(faults):
            raise ValueError(f"the sandbox has {world.bills_left} payable bills; "
                             f"{seeds * len(faults)} trials need one each")
        for seed in range(seeds):
            for fault in faults:
                total.add(await world.trial(fault, seed))
    return total
