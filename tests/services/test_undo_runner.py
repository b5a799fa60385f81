"""services/undo_runner.py against the Codat sandbox's async API over HTTP, on a real
database: a delete whose answer is lost is looked up (pending, then gone) and never sent
twice; one that provably never left is sent once; a Failed push is a failed request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from billbot.clock import FixedClock
from billbot.codat import CodatClient
from billbot.codat.async_api import (
    AsyncBillPayClient,
    AsyncBillPayment,
    FollowPolicy,
    PaymentLine,
    PaymentLink,
    PushStatus,
)
from billbot.codat.models import IdRef, SupplierRef
from billbot.sandbox.codat import FaultKind
from billbot.services import undo
from billbot.services.bindings import Binding
from billbot.services.undo_runner import UndoRunner
from billbot.storage.db import session_scope
from billbot.storage.tables import BillUndo
from tests.codat.conftest import FAST, GBP_BILL
from tests.plugins.openapi_contract import CodatSandbox

T = TypeVar("T")
DELETE_PATH = r"/push/billPayments/[^/]+$"
LEASE = timedelta(minutes=2)


async def _no_sleep(_: float) -> None:
    return None


def _client(http: httpx.AsyncClient, sandbox: CodatSandbox, *,
            timeout: float = 5) -> AsyncBillPayClient:
    sync = CodatClient(http, api_key=sandbox.api_key, base_url=sandbox.base_url, retry=FAST,
                       timeout=timeout)
    return AsyncBillPayClient(sync, sleep=_no_sleep,
                              follow_policy=FollowPolicy(initial_delay=0.01, budget=0.05))


@pytest.fixture
async def client(codat_sandbox: CodatSandbox) -> AsyncIterator[AsyncBillPayClient]:
    async with httpx.AsyncClient() as http:
        yield _client(http, codat_sandbox)


class _Db:
    """`Billbot.db` for the runner: one transaction per step."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def __call__(self, work: Callable[[Session], T]) -> T:
        with session_scope(self._engine) as session:
            return work(session)


def _db(engine: Engine) -> _Db:
    return _Db(engine)


async def _recorded_payment(client: AsyncBillPayClient, sandbox: CodatSandbox) -> str:
    company, connection = sandbox.company_id, sandbox.connection_id
    bill = await client.get_bill(company, connection, GBP_BILL)
    options = await client.get_payment_mapping_options(company, connection)
    account = next(a.id for a in options.bank_accounts if a.currency == "GBP")
    amount = Decimal("20.00")
    pushed = await client.push_bill_payment(company, connection, AsyncBillPayment(
        supplier_ref=SupplierRef(id=bill.supplier_ref.id), account_ref=IdRef(id=account),
        total_amount=amount, currency="GBP", date="2026-12-01T00:00:00",
        reference="billbot-undo-test", lines=[PaymentLine(amount=amount, links=[
            PaymentLink(type="Bill", id=bill.id, amount=-amount)])]))
    done = await client.follow(company, pushed)
    assert done.status is PushStatus.SUCCESS and done.record_id
    return done.record_id


def _claim(engine: Engine, sandbox: CodatSandbox, payment_id: str, owner: str,
           now: datetime) -> undo.Claim:
    binding = Binding(channel_id="C1", company_id=sandbox.company_id,
                      connection_id=sandbox.connection_id, bound_by="UX", bound_at=now,
                      codat_api="async")
    with session_scope(engine) as session:
        return undo.claim(session, kind=undo.PAYMENT, binding=binding, bill_id=GBP_BILL,
                          target_id=payment_id, intent_id=None, actor="UX", reason="wrong",
                          request_id="r1", bill_version={}, now=now, lease_for=LEASE,
                          owner=owner)


def _deletes(sandbox: CodatSandbox) -> int:
    with sandbox.state.lock:
        return sum(1 for r in sandbox.state.requests
                   if r.method == "DELETE" and "/push/billPayments/" in r.path)


def _row(engine: Engine, claim: undo.Claim) -> BillUndo:
    with session_scope(engine, read_only=True) as session:
        row = session.get(BillUndo, claim.undo.id)
        assert row is not None
        return row


async def test_a_lost_answer_is_looked_up_and_never_sent_twice(
        engine: Engine, client: AsyncBillPayClient, codat_sandbox: CodatSandbox) -> None:
    payment_id = await _recorded_payment(client, codat_sandbox)
    clock = FixedClock(datetime.now(UTC))
    state = codat_sandbox.state
    state.faults.lose_response_hold_seconds = 1.0
    state.faults.next(FaultKind.LOSE_RESPONSE, 1, path=DELETE_PATH)
    first = _claim(engine, codat_sandbox, payment_id, "o1", clock.now())
    async with httpx.AsyncClient() as http:
        impatient = _client(http, codat_sandbox, timeout=0.3)
        outcome = await UndoRunner(_db(engine), impatient, clock, "o1").run(first.undo)
    assert outcome.state == "unknown" and _row(engine, first).state == "unknown"
    assert _deletes(codat_sandbox) == 1
    # The next admin's submit resumes it: the delete is found pending (not sent again), then
    # gone from the books once it settles.
    outcomes = []
    for owner in ("o2", "o3", "o4"):
        again = _claim(engine, codat_sandbox, payment_id, owner, clock.now())
        assert again.mine and again.undo.id == first.undo.id
        outcomes.append((await UndoRunner(_db(engine), client, clock, owner).run(
            _row(engine, again))).state)
        if outcomes[-1] == "succeeded":
            break
    assert outcomes[-1] == "succeeded", outcomes
    assert _deletes(codat_sandbox) == 1
    assert payment_id not in state.main_ledger.bill_payments
    assert _row(engine, first).state == "succeeded"


async def test_a_request_that_never_left_is_sent_once(
        engine: Engine, client: AsyncBillPayClient, codat_sandbox: CodatSandbox) -> None:
    payment_id = await _recorded_payment(client, codat_sandbox)
    clock = FixedClock(datetime.now(UTC))
    first = _claim(engine, codat_sandbox, payment_id, "o1", clock.now())
    with session_scope(engine) as session:  # a crash right after this commit
        assert undo.mark_sent(session, first.undo.id, owner="o1", now=clock.now())
    clock.set(clock.now() + LEASE)
    again = _claim(engine, codat_sandbox, payment_id, "o2", clock.now())
    assert again.mine
    outcome = await UndoRunner(_db(engine), client, clock, "o2").run(_row(engine, again))
    assert outcome.state == "succeeded" and _deletes(codat_sandbox) == 1
    assert payment_id not in codat_sandbox.state.main_ledger.bill_payments


async def test_a_failed_push_is_a_failed_request_and_nothing_changes(
        engine: Engine, client: AsyncBillPayClient, codat_sandbox: CodatSandbox) -> None:
    payment_id = await _recorded_payment(client, codat_sandbox)
    clock = FixedClock(datetime.now(UTC))
    with codat_sandbox.state.lock:
        codat_sandbox.state.pushes.settings.fail_next = 1
    first = _claim(engine, codat_sandbox, payment_id, "o1", clock.now())
    outcome = await UndoRunner(_db(engine), client, clock, "o1").run(first.undo)
    assert outcome.state == "failed" and "sandbox fault" in outcome.message
    assert _row(engine, first).state == "failed"
    assert payment_id in codat_sandbox.state.main_ledger.bill_payments
