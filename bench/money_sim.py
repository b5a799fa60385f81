"""Money simulation by the thousand: randomized trials of single payments and of pay runs
(services.payruns: 2-4 bills a run), each with a random fault, double clicks, Slack retries,
crashes and two replicas, in one process. A scenario is a function in `SCENARIOS`.

    python bench/money_sim.py [--trials 10000] [--chunk 500] [--seed 0] [--jobs 2]

It drives the same code as bench/money_safety.py (bench/money_trials.py: the payment
services and runner, the Codat sandbox, a real SQLite file), with what makes a trial cheap
enough to run ten thousand of them:
- the sandbox's ASGI app is called in process (httpx's ASGI transport) rather than served
  over a socket, so Codat answers cost no network stack;
- a lost answer is a request the sandbox commits whose answer the client then drops
  (`httpx.ReadTimeout`), instead of waiting out a client timeout; a refused connection is
  `httpx.ConnectError` before anything is sent;
- each chunk of trials gets a fresh database and sandbox (bill ids are the sandbox's own and
  repeat from one sandbox to the next), and `--jobs` worker processes share the chunks.
And what it adds to every trial, at random:
- the payer's confirmation delivered twice by Slack (the same request id: only the first
  delivery passes `claim_request`, as in the listener), and confirmed at the same moment by a
  second payer (two transactions at once; one intent at most);
- the just-started payment sent by two replicas at once (one holds the lease);
- a pay run: its confirmation (and `Retry failed`) delivered twice and submitted twice at
  once (one takes the run), the fault hitting one of its bills, a crash stopping the rest of
  the run (recovery finishes them), `Retry failed` for bills that failed for good.

Printed: trials, payments, duplicates, approvals lost, intents left open (the last three must
be 0), per scenario and fault, and the wall time. Exit status 1 when an invariant broke.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

# The trial engine (bench/money_trials.py) is shared with the tests; run from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.money_trials import (
    API_KEY,
    FAULTS,
    PAYERS,
    POLICY,
    RUNNER,
    START,
    Figures,
    RefusingTransport,
    TrialWorld,
)
from billbot.clock import FixedClock
from billbot.codat.models import Bill
from billbot.sandbox.codat.app import create_app
from billbot.sandbox.codat.faults import FaultKind
from billbot.sandbox.codat.state import SandboxState
from billbot.services import payruns
from billbot.services.payments import StartOutcome, StartResult, start_payment
from billbot.storage import slack_messages
from billbot.storage.db import make_engine, session_scope, upgrade_database
from billbot.testhooks import CrashPoint, SimulatedCrash

SIM_FAULTS = (*FAULTS, "none")
SANDBOX_URL = "http://codat.sandbox.invalid"


class SimTransport(RefusingTransport):
    """The Codat sandbox's ASGI app called in process (no sockets, no server thread), with
    the network's failures: the next `refuse_next` payment POSTs never connect, and the next
    `lose_next` ones reach the sandbox (which commits them) while the client gets a read
    timeout instead of the answer."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self._app = httpx.ASGITransport(app=app)
        self.lose_next = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        payment = request.method == "POST" and request.url.path.endswith("/payment")
        if payment and self.refuse_next > 0:
            self.refuse_next -= 1
            raise httpx.ConnectError("connection refused", request=request)
        response = await self._app.handle_async_request(request)
        if payment and self.lose_next > 0:
            self.lose_next -= 1
            await response.aread()
            await response.aclose()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    async def aclose(self) -> None:
        await self._app.aclose()
        await super().aclose()


class SimWorld(TrialWorld):
    """A TrialWorld whose payer double-clicks and whose Slack retries, and whose replicas race."""

    @property
    def sim_transport(self) -> SimTransport:
        assert isinstance(self.transport, SimTransport)
        return self.transport

    async def _start(self, bill_id: str, amount: Decimal, account: str, rng: random.Random,
                     label: str, figures: Figures) -> Any:
        fresh = await self.bill(bill_id)
        payer = rng.choice(PAYERS)
        rid = f"sim-{uuid.uuid4().hex}"
        deliveries = [(payer, rid)]
        if rng.random() < 0.25:  # Slack delivers the same confirmation again
            deliveries.append((payer, rid))
        if rng.random() < 0.25:  # another payer confirms their own review at the same moment
            deliveries.append((rng.choice(PAYERS), f"sim-{uuid.uuid4().hex}"))
        payment_date = max(self.sandbox.today, fresh.issue_date)

        def deliver(user: str, request_id: str) -> StartResult | None:
            with session_scope(self.engine) as session:
                if not slack_messages.claim_request(session, key=request_id,
                                                    at=self.clock.now()):
                    return None  # a repeat: the listener drops it before it changes anything
            with session_scope(self.engine) as session:
                return start_payment(
                    session, bill_ref=self.ref(bill_id), fresh_bill=fresh, user_id=user,
                    request_id=request_id, amount=amount, account_id=account,
                    account_name=None, payment_date=payment_date, channel_id="CTRIALS",
                    message_ts=None, policy=POLICY, at=self.clock.now())

        results = await asyncio.gather(*(asyncio.to_thread(deliver, u, r) for u, r in deliveries))
        answered = [r for r in results if r is not None]
        started = [r for r in answered if r.outcome is StartOutcome.STARTED]
        if len(started) > 1:
            figures.duplicates += len(started) - 1
            figures.problems.append(f"{label}: {len(started)} intents started at once")
        if started:
            return started[0].intent_id
        messages = " / ".join(r.message for r in answered)
        if "approv" in messages:
            figures.approvals_lost += 1
        figures.problems.append(f"{label}: could not pay: {messages}")
        return None

    async def _send_with_fault(self, intent_id: Any, fault: str, rng: random.Random) -> None:
        await self.send(intent_id, fault, rng)

    async def send(self, intent_id: Any, fault: str, rng: random.Random) -> bool:
        """Send an intent while `fault` happens; True when the sending process crashed."""
        faults = self.sandbox.faults
        count = rng.randint(1, 3)
        crash: CrashPoint | None = None
        with self.sandbox.lock:
            faults.clear()
            faults.cache_injected_errors = rng.random() < 0.5
            if fault == "refused":
                self.sim_transport.refuse_next = count
            elif fault in ("500", "503", "429"):
                kind = {"500": FaultKind.SERVER_ERROR, "503": FaultKind.UNAVAILABLE,
                        "429": FaultKind.RATE_LIMIT}[fault]
                faults.next(kind, count, path=r"/payment$")
            elif fault == "lost":
                self.sim_transport.lose_next = count
            elif fault == "crash_before":
                crash = rng.choice((CrashPoint.INTENT_COMMITTED, CrashPoint.BEFORE_CODAT_CALL))
            elif fault == "crash_after":
                crash = CrashPoint.AFTER_CODAT_ANSWER
        senders = [self.runner(crash)]
        if rng.random() < 0.25:  # a second replica sends the same intent at the same moment
            senders.append(self.runner())
        crashed = False
        try:
            await asyncio.gather(*(s.execute(intent_id, self.impatient) for s in senders))
        except SimulatedCrash:
            crashed = True  # the process died; what it committed stays
        self.sim_transport.refuse_next = 0
        self.sim_transport.lose_next = 0
        return crashed

    # --- a pay run ---------------------------------------------------------------------------

    async def payrun_trial(self, fault: str, seed: int) -> Figures:
        """A pay run of 2-4 approved bills: confirmed twice at once and retried by Slack, sent
        bill by bill while `fault` hits one of them (a crash stops the rest: recovery finishes
        them), then `Retry failed` for bills that failed for good. One payment per bill."""
        rng = random.Random(f"payrun:{fault}:{seed}")
        figures = Figures(trials=1)
        figures.by_fault[f"payrun/{fault}"] += 1
        ids = [self._unused.pop(rng.randrange(len(self._unused)))
               for _ in range(min(rng.randint(2, 4), len(self._unused)))]
        bills = [await self.bill(bill_id) for bill_id in ids]
        for bill in bills:
            await self._approve(bill, rng)
        payer, label = rng.choice(PAYERS), f"payrun {fault} seed={seed}"
        run_id = self._draft(bills, payer)
        history: dict[str, list[Any]] = {b.id: [] for b in bills}
        started = await self._confirm_run(run_id, payer, rng, label, figures, retry=False)
        victim = rng.randrange(max(1, len(started)))
        for i, intent_id in enumerate(started):
            if await self.send(intent_id, fault if i == victim else "none", rng):
                break  # the process died mid-run: the rest is left to recovery
        for _ in range(3):
            self._note_intents(run_id, history)
            for intent_id in started:
                await self._recover_until_final(intent_id, rng)
            with session_scope(self.engine) as session:
                payruns.finish(session, run_id, at=self.clock.now())
            started = await self._confirm_run(run_id, payer, rng, label, figures, retry=True)
            if not started:
                break
            figures.repaid += len(started)
            for intent_id in started:
                await self.send(intent_id, "none", rng)
        self._note_intents(run_id, history)
        for bill in bills:
            assert bill.amount_due is not None
            self._check(bill.id, bill.amount_due, history[bill.id], label, figures)
        return figures

    def _draft(self, bills: list[Bill], payer: str) -> Any:
        offered = [payruns.Offered(b.id, b.reference, None, b.currency, b.amount_due or Decimal(0),
                                   b.issue_date) for b in bills]
        choices = {}
        for bill in bills:
            account = self._account_for(bill.currency)
            assert account is not None
            choices[bill.currency.upper()] = payruns.Choice(account, None, None)
        paid_on = max(self.sandbox.today, *(b.issue_date for b in bills))
        with session_scope(self.engine) as session:
            run_id = payruns.create_draft(session, binding=self.binding, payer_id=payer,
                                          offered=offered, base_currency=None,
                                          at=self.clock.now())
            payruns.save_page(session, run_id=run_id, payer_id=payer,
                              positions=range(len(offered)), selected=set(range(len(offered))),
                              settings=(paid_on, choices), at=self.clock.now())
        return run_id

    async def _confirm_run(self, run_id: Any, payer: str, rng: random.Random, label: str,
                           figures: Figures, *, retry: bool) -> list[Any]:
        """The payer's confirmation (or Retry failed), delivered again by Slack and submitted
        twice at once; the intents the one that took the run started."""
        with session_scope(self.engine, read_only=True) as session:
            run = payruns.get_run(session, run_id)
            assert run is not None
            attempt = run.attempt
            wanted = [i.bill_id for i in (payruns.failed_items(session, run_id) if retry
                                          else payruns.items_of(session, run_id))]
        if not wanted:
            return []
        fresh = {bill_id: await self.bill(bill_id) for bill_id in wanted}
        rid = f"sim-{uuid.uuid4().hex}"
        deliveries = [rid] + ([rid] if rng.random() < 0.25 else []) + (
            [f"sim-{uuid.uuid4().hex}"] if rng.random() < 0.25 else [])

        def deliver(request_id: str) -> payruns.Started | None:
            now = self.clock.now()
            with session_scope(self.engine) as session:
                if not slack_messages.claim_request(session, key=request_id, at=now):
                    return None
            with session_scope(self.engine) as session:
                common: dict[str, Any] = {
                    "run_id": run_id, "user_id": payer, "fresh": fresh, "policy": POLICY,
                    "at": now, "lease_until": now + RUNNER.lease, "request_id": request_id}
                if retry:
                    return payruns.retry_failed(session, attempt=attempt, **common)
                return payruns.start_run(session, **common)

        answers = await asyncio.gather(*(asyncio.to_thread(deliver, r) for r in deliveries))
        taken = [a for a in answers if a is not None and a.taken]
        if len(taken) > 1:
            figures.duplicates += len(taken) - 1
            figures.problems.append(f"{label}: the run was taken {len(taken)} times at once")
        if not taken and not retry:
            figures.problems.append(f"{label}: no confirmation took the run")
        with session_scope(self.engine, read_only=True) as session:
            for item in payruns.items_of(session, run_id):
                reason = item.skip_reason or ""
                if item.selected and item.intent_id is None and "approv" in reason:
                    figures.approvals_lost += 1
                    figures.problems.append(f"{label}: not started: {reason}")
        return list(taken[0].intent_ids) if taken else []

    def _note_intents(self, run_id: Any, history: dict[str, list[Any]]) -> None:
        with session_scope(self.engine, read_only=True) as session:
            for item in payruns.items_of(session, run_id):
                if item.intent_id is not None and item.intent_id not in history[item.bill_id]:
                    history[item.bill_id].append(item.intent_id)


# A scenario runs one trial in a world and returns its figures. Pay runs plug in here.
Scenario = Callable[[SimWorld, str, int], Awaitable[Figures]]


async def single_payment(world: SimWorld, fault: str, seed: int) -> Figures:
    return await world.trial(fault, seed)


async def pay_run(world: SimWorld, fault: str, seed: int) -> Figures:
    return await world.payrun_trial(fault, seed)


SCENARIOS: dict[str, Scenario] = {"single": single_payment, "payrun": pay_run}
# How often each scenario is drawn (a pay run pays 2-4 bills, so it costs about three trials).
WEIGHTS = {"single": 0.7, "payrun": 0.3}


@asynccontextmanager
async def sim_world(engine: Engine, trials: int) -> AsyncIterator[SimWorld]:
    """A sandbox with Open bills enough for `trials` trials (a pay run takes up to 4), called
    in process."""
    clock = FixedClock(START)
    sandbox = SandboxState.seeded(START.date(), bills=5 * trials + 50, clock=clock)
    app = create_app(sandbox, api_key=API_KEY)
    transport = SimTransport(app)
    async with httpx.AsyncClient(transport=transport) as http, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as patient_http:
        yield SimWorld(engine, sandbox, clock, SANDBOX_URL, transport, http, patient_http)


async def run_chunk(engine: Engine, trials: int, rng: random.Random,
                    scenarios: dict[str, Scenario], tally: Counter[str]) -> Figures:
    """`trials` random trials in one world on `engine` (an empty, migrated database)."""
    total = Figures()
    names = sorted(scenarios)
    weights = [WEIGHTS.get(name, 1.0) for name in names]
    async with sim_world(engine, trials) as world:
        for _ in range(trials):
            name, fault = rng.choices(names, weights)[0], rng.choice(SIM_FAULTS)
            tally[f"{name}/{fault}"] += 1
            total.add(await scenarios[name](world, fault, rng.randrange(1 << 30)))
    return total


async def run_sim(trials: int, *, chunk: int = 500, seed: int = 0, workdir: Path,
                  scenarios: dict[str, Scenario] | None = None,
                  tally: Counter[str] | None = None) -> Figures:
    """`trials` trials in chunks, each chunk on a fresh SQLite file under `workdir`."""
    rng = random.Random(seed)
    total = Figures()
    tally = tally if tally is not None else Counter()
    done = 0
    while done < trials:
        size = min(chunk, trials - done)
        engine = make_engine(f"sqlite:///{workdir / f'sim-{done}.db'}")
        try:
            upgrade_database(engine)
            total.add(await run_chunk(engine, size, rng, scenarios or SCENARIOS, tally))
        finally:
            engine.dispose()
        done += size
    return total


def run_job(trials: int, chunk: int, seed: int) -> tuple[Figures, Counter[str]]:
    """One worker process's share of the trials, on its own databases and sandboxes."""
    # Every injected fault logs a warning; thousands of them would cost more than the trials.
    logging.getLogger("billbot").setLevel(logging.ERROR)
    tally: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="billbot-sim-") as tmp:
        figures = asyncio.run(run_sim(trials, chunk=chunk, seed=seed, workdir=Path(tmp),
                                      tally=tally))
    return figures, tally


def main(trials: int, chunk: int, seed: int, jobs: int) -> int:
    started = time.perf_counter()
    shares = [trials // jobs + (1 if j < trials % jobs else 0) for j in range(jobs)]
    figures, tally = Figures(), Counter[str]()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        done = [pool.submit(run_job, share, chunk, seed * 1000 + j)
                for j, share in enumerate(shares) if share]
        for future in done:
            part, part_tally = future.result()
            figures.add(part)
            tally.update(part_tally)
    seconds = time.perf_counter() - started
    print(f"scenarios and faults: {dict(sorted(tally.items()))}")
    runs = sum(n for key, n in tally.items() if key.startswith("payrun/"))
    print(f"trials={figures.trials} (single payments {figures.trials - runs}, pay runs {runs}) "
          f"payments={figures.payments} "
          f"duplicates={figures.duplicates} approvals lost={figures.approvals_lost} "
          f"intents left open={figures.intents_open} unpaid={figures.missing} "
          f"unaudited={figures.unaudited} paid again={figures.repaid} "
          f"jobs={jobs} wall={seconds:.1f}s")
    for problem in figures.problems[:20]:
        print(f"  problem: {problem}")
    return 0 if figures.clean else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=500, help="trials per fresh database")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    sys.exit(main(args.trials, args.chunk, args.seed, max(1, args.jobs)))
