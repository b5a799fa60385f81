"""Payments end to end against the Codat sandbox over real HTTP, with its injected faults.

Every exchange goes through the OpenAPI contract recorder (`codat_sandbox` fixture).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine

from billbot.clock import FixedClock
from billbot.codat.client import CodatClient
from billbot.codat.models import Bill
from billbot.codat.retry import RetryPolicy
from billbot.domain.policy import PolicySettings
from billbot.sandbox.codat.faults import FaultKind
from billbot.services import approvals, bindings
from billbot.services.bindings import Binding
from billbot.services.payment_runner import PaymentRunner, RunnerSettings
from billbot.services.payments import StartOutcome, StartResult, start_payment
from billbot.storage.audit import BillRef
from billbot.storage.db import session_scope
from tests.plugins.openapi_contract import CodatSandbox

from .conftest import T0, audit_of, run_together

GBP_BILL = "7110700008"  # Open, GBP 7,267.20
PART_PAID_BILL = "7110700009"  # PartiallyPaid, GBP 2,500.00 of 5,000.00 due
GBP_ACCOUNT = "56f518ef-0594-5946-8283-752772c842dd"
ARCHIVED_ACCOUNT = "4c2227bc-c908-55db-986c-aa7a3e40c5c6"
PAYMENT_PATH = r"/payment$"


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def sandbox_binding(engine: Engine, codat_sandbox: CodatSandbox) -> Binding:
    with session_scope(engine) as session:
        return bindings.ensure_default_binding(
            session, channel_id="CBILLS", company_id=codat_sandbox.company_id,
            connection_id=codat_sandbox.connection_id, at=T0)


@pytest.fixture
async def impatient_client(codat_sandbox: CodatSandbox) -> AsyncIterator[CodatClient]:
    """No retries of its own and a short timeout: faults surface to the payment runner."""
    async with httpx.AsyncClient() as http:
        yield CodatClient(http, api_key=codat_sandbox.api_key, base_url=codat_sandbox.base_url,
                          timeout=0.5, retry=RetryPolicy.none())


@pytest.fixture
def runner(engine: Engine, clock: FixedClock, policy: PolicySettings) -> PaymentRunner:
    return PaymentRunner(engine, clock, policy=policy, sleep=no_sleep)


class Desk:
    """One finance desk: approve a fresh bill, then pay it."""

    def __init__(self, engine: Engine, binding: Binding, policy: PolicySettings,
                 codat: CodatClient, sandbox: CodatSandbox) -> None:
        self.engine, self.binding, self.policy = engine, binding, policy
        self.codat, self.sandbox = codat, sandbox

    async def bill(self, bill_id: str) -> Bill:
        return await self.codat.get_bill(self.binding.company_id, self.binding.connection_id,
                                         bill_id)

    async def approve(self, bill_id: str, user: str = "UA") -> Bill:
        bill = await self.bill(bill_id)
        with session_scope(self.engine) as session:
            result = approvals.approve(session, bill=bill, binding=self.binding, user_id=user,
                                       request_id=None, policy=self.policy, at=T0)
        assert result.outcome == "recorded", result.message
        return bill

    def start(self, bill: Bill, amount: Decimal, account: str = GBP_ACCOUNT,
              user: str = "UP") -> StartResult:
        with session_scope(self.engine) as session:
            return start_payment(
                session, bill_ref=BillRef(self.binding.company_id, self.binding.connection_id,
                                          bill.id),
                fresh_bill=bill, user_id=user, request_id=None, amount=amount,
                account_id=account, account_name="Business Current Account",
                payment_date=self.sandbox.state.today, channel_id="CBILLS", message_ts="1.1",
                policy=self.policy, at=T0)

    def payments(self, bill_id: str) -> list[str]:
        """The idempotency keys of the payments the sandbox recorded for a bill."""
        return [p.idempotency_key or "" for p in self.sandbox.state.payments
                if p.bill_id == bill_id]


@pytest.fixture
def desk(engine: Engine, sandbox_binding: Binding, policy: PolicySettings,
         codat_client: CodatClient, codat_sandbox: CodatSandbox) -> Desk:
    return Desk(engine, sandbox_binding, policy, codat_client, codat_sandbox)


async def test_pay_a_bill_in_full(desk: Desk, runner: PaymentRunner,
                                  codat_client: CodatClient) -> None:
    bill = await desk.approve(GBP_BILL)
    started = desk.start(bill, Decimal("7267.20"))
    assert started.outcome == StartOutcome.STARTED and started.intent_id
    outcome = await runner.execute(started.intent_id, codat_client)
    assert outcome.status == "succeeded" and outcome.remote_payment_id
    assert len(desk.payments(GBP_BILL)) == 1
    after = await desk.bill(GBP_BILL)
    assert after.status == "Paid" and after.amount_due == 0
    with session_scope(desk.engine, read_only=True) as session:
        state = approvals.state_of(session, bill=after, binding=desk.binding,
                                   policy=desk.policy)
    assert state.paid_in_round == Decimal("7267.20") and not state.payment_in_progress


async def test_partial_payments_keep_the_approval(desk: Desk, runner: PaymentRunner,
                                                  codat_client: CodatClient) -> None:
    bill = await desk.approve(PART_PAID_BILL)
    first = desk.start(bill, Decimal(1000))
    assert first.intent_id
    assert (await runner.execute(first.intent_id, codat_client)).status == "succeeded"
    rest = await desk.bill(PART_PAID_BILL)
    assert rest.amount_due == Decimal(1500)
    second = desk.start(rest, Decimal(1500))  # no new approval needed
    assert second.outcome == StartOutcome.STARTED and second.intent_id
    assert (await runner.execute(second.intent_id, codat_client)).status == "succeeded"
    assert (await desk.bill(PART_PAID_BILL)).status == "Paid"
    assert len(set(desk.payments(PART_PAID_BILL))) == 2


async def test_codats_final_refusal_is_shown_and_frees_the_bill(
    desk: Desk, runner: PaymentRunner, codat_client: CodatClient
) -> None:
    bill = await desk.approve(GBP_BILL)
    started = desk.start(bill, Decimal(100), account=ARCHIVED_ACCOUNT)
    assert started.intent_id
    outcome = await runner.execute(started.intent_id, codat_client)
    assert outcome.status == "failed" and outcome.reason
    assert outcome.reason in outcome.message
    assert desk.payments(GBP_BILL) == []
    # The bill is re-read and paid with a new key.
    again = desk.start(await desk.bill(GBP_BILL), Decimal(100))
    assert again.outcome == StartOutcome.STARTED


@pytest.mark.parametrize("fault", [FaultKind.SERVER_ERROR, FaultKind.LOSE_RESPONSE])
async def test_unknown_outcome_is_retried_with_the_same_key(
    desk: Desk, runner: PaymentRunner, impatient_client: CodatClient,
    codat_sandbox: CodatSandbox, fault: FaultKind
) -> None:
    """A 500 (not applied) or a lost response (applied): either way, one payment."""
    codat_sandbox.state.faults.lose_response_hold_seconds = 2.0
    codat_sandbox.state.faults.next(fault, 1, path=PAYMENT_PATH)
    bill = await desk.approve(GBP_BILL)
    started = desk.start(bill, Decimal("7267.20"))
    assert started.intent_id
    outcome = await runner.execute(started.intent_id, impatient_client)
    assert outcome.status == "succeeded"
    keys = [r.idempotency_key for r in codat_sandbox.state.requests
            if r.method == "POST" and r.path.endswith("/payment")]
    assert len(keys) == 2 and len(set(keys)) == 1
    assert len(desk.payments(GBP_BILL)) == 1
    assert audit_of(desk.engine, GBP_BILL)[-4:] == [
        "payment.calling", "payment.unknown", "payment.calling", "payment.succeeded"]


async def test_recovery_finishes_a_payment_whose_answer_was_lost(
    desk: Desk, engine: Engine, clock: FixedClock, policy: PolicySettings,
    impatient_client: CodatClient, codat_client: CodatClient, codat_sandbox: CodatSandbox
) -> None:
    """The bot learned nothing (answer lost, then it stopped); recovery resends the key."""
    codat_sandbox.state.faults.lose_response_hold_seconds = 2.0
    codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, 1, path=PAYMENT_PATH)
    once = PaymentRunner(engine, clock, policy=policy, sleep=no_sleep,
                         settings=RunnerSettings(retry_delays=()))
    bill = await desk.approve(GBP_BILL)
    started = desk.start(bill, Decimal("7267.20"))
    assert started.intent_id
    assert (await once.execute(started.intent_id, impatient_client)).status == "pending"
    assert len(desk.payments(GBP_BILL)) == 1  # Codat has it; billbot does not know yet
    [outcome] = await once.recover(codat_client, T0 + timedelta(minutes=5))
    assert outcome.status == "succeeded" and outcome.intent_id == started.intent_id
    assert len(desk.payments(GBP_BILL)) == 1


async def test_fifty_concurrent_pay_clicks_pay_once(
    desk: Desk, runner: PaymentRunner, codat_client: CodatClient
) -> None:
    bill = await desk.approve(GBP_BILL)
    results = run_together(50, lambda i: desk.start(bill, Decimal("7267.20"),
                                                    user=("UP", "UQ")[i % 2]))
    started = [r.intent_id for r in results if r.outcome == StartOutcome.STARTED]
    assert len(started) == 1
    assert sum(r.outcome == StartOutcome.IN_PROGRESS for r in results) == 49
    intent_id = started[0]
    assert isinstance(intent_id, uuid.UUID)
    assert (await runner.execute(intent_id, codat_client)).status == "succeeded"
    assert len(desk.payments(GBP_BILL)) == 1
