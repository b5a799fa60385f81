"""A 200-bill pay run in a real `billbot run` process, under injected 503s and lost
responses, SIGKILLed mid-run; a restarted process (its recovery tick) finishes the rest:
exactly one payment per bill, no intent left open, the run's message matching the books."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from billbot.codat.client import CodatClient
from billbot.domain.policy import PolicySettings
from billbot.services import approvals, bindings, payruns
from billbot.storage.db import make_engine, session_scope
from billbot.storage.tables import PayRun
from tests.process.harness import ANN, BEN, CHANNEL, CODAT_KEY, PAT, eventually, process_world
from tests.support.payrun_steps import form_of, review_of, run_messages, run_text, through_the_pages

pytestmark = pytest.mark.slow

BILLS = 200
POLICY = PolicySettings(approvers=frozenset({ANN, BEN}), payers=frozenset({PAT, ANN}))


async def approve_every_open_bill(world: object, database_url: str, codat_url: str) -> list[str]:
    """The approvals, recorded by the approval service (as Approve records them)."""
    http = world.http  # type: ignore[attr-defined]
    sandbox = world.sandbox  # type: ignore[attr-defined]
    codat = CodatClient(http, api_key=CODAT_KEY, base_url=codat_url)
    engine = make_engine(database_url)
    try:
        with session_scope(engine, read_only=True) as session:
            binding = bindings.get_binding(session, channel_id=CHANNEL)
        assert binding is not None
        bills = await codat.list_bills(sandbox.main_company_id, sandbox.main_connection_id)
        for bill in bills:
            with session_scope(engine) as session:
                result = approvals.approve(session, bill=bill, binding=binding, user_id=ANN,
                                           request_id=None, policy=POLICY,
                                           at=sandbox.clock.now())
                assert result.state.is_approved, result.message
        return [b.id for b in bills if b.amount_due]
    finally:
        engine.dispose()


def run_row(database_url: str) -> PayRun | None:
    engine = make_engine(database_url)
    try:
        with session_scope(engine, read_only=True) as session:
            return session.exec(select(PayRun).where(PayRun.state != "draft")).first()
    finally:
        engine.dispose()


async def test_a_pay_run_killed_mid_run_is_finished_once_after_restart(
    tmp_path: Path, database_url: str
) -> None:
    async with process_world(tmp_path, database_url) as world:
        world.sandbox.reseed(bills=BILLS, due_soon=BILLS)
        doomed = await world.start_bot("doomed")
        bill_ids = await approve_every_open_bill(world, database_url, world.served[0].base_url)
        faults = world.sandbox.faults
        faults.reseed(5)
        faults.latency_ms = 20  # a run long enough to be killed in the middle
        faults.error_rate = 0.1
        faults.lose_response_rate = 0.05
        faults.lose_response_hold_seconds = 0.3
        driver = world.driver(doomed)
        started = time.monotonic()
        assert (await driver.slash_command(PAT, CHANNEL, "payrun")).status == 200
        await eventually(lambda: form_of(driver, PAT), within=120, what="the pay-run form")
        await through_the_pages(driver, PAT)
        assert review_of(driver, PAT) is not None
        await driver.submit_view(PAT, {})
        await eventually(lambda: len(world.sandbox.payments) >= BILLS // 4, within=300,
                         what=f"a quarter of the payments:\n{doomed.output()}")
        doomed.proc.kill()  # SIGKILL, mid-run
        doomed.proc.wait(timeout=10)
        at_kill = len(world.sandbox.payments)
        restarted = await world.start_bot("restarted")
        await eventually(lambda: (run := run_row(database_url)) is not None
                         and run.state == "finished", within=600,
                         what=f"the run to be finished:\n{restarted.output()}")
        total = len(bill_ids)
        await eventually(lambda: run_messages(world.workspace, CHANNEL) and (
            f"{total} of {total} recorded" in run_text(run_messages(world.workspace, CHANNEL)[-1])),
            within=120, what="the run's message")
        wall = time.monotonic() - started
        paid = Counter(p.bill_id for p in world.sandbox.payments)
        duplicates = sum(n - 1 for n in paid.values())
        intents = world.intents()
        left_open = sum(i.state in ("created", "calling", "unknown") for i in intents)
        print(f"\npay run killed mid-run: bills={total} payments={sum(paid.values())} "
              f"(at the kill: {at_kill}) duplicates={duplicates} left open={left_open} "
              f"wall time={wall:.1f}s")
        assert set(paid) == set(bill_ids) and duplicates == 0 and left_open == 0
        run = run_row(database_url)
        assert run is not None
        engine = make_engine(database_url)
        try:
            with session_scope(engine, read_only=True) as session:
                summary = payruns.progress(session, run.id)
        finally:
            engine.dispose()
        assert summary is not None and summary.recorded == total and summary.failed == 0
