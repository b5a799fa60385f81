"""The payment state machine against a scripted Codat: start, execute, retry, recover."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings, Role
from billbot.services import approvals, roles
from billbot.services.bill_status import Outcome
from billbot.services.bindings import Binding
from billbot.services.payment_runner import UNREACHABLE, PaymentRunner
from billbot.services.payments import StartOutcome
from billbot.storage.db import session_scope

from .conftest import (
    T0,
    approve,
    audit_of,
    intent_rows,
    make_bill,
    run_together,
    start,
    track_of,
)
from .fake_codat import FakeCodat


class TestStart:
    def test_commits_an_intent_with_a_fresh_key_before_any_call(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill
    ) -> None:
        result = start(engine, binding, policy, approved_bill)
        assert result.outcome == StartOutcome.STARTED and result.intent_id is not None
        [intent] = intent_rows(engine)
        assert intent.id == result.intent_id and intent.state == "created"
        assert uuid.UUID(intent.idempotency_key).version == 4
        assert intent.amount == Decimal("1200.5") and intent.first_sent_at is None
        assert track_of(engine).open_intent_id == intent.id
        assert result.state.payment_in_progress
        assert audit_of(engine, "bill-1")[-1] == "payment.started"

    @pytest.mark.parametrize(("setup", "expected"), [
        ("unapproved", "not been approved"),
        ("non_payer", "Only payers"),
        ("rejected", "rejected"),
        ("changed", "changed in the accounting software"),
        ("too_much", "more than"),
        ("zero", "more than zero"),
        ("decimals", "at most 2 decimals"),
        ("paid", "only open or part-paid"),
        ("unknown_due", "amount due is unknown"),
        ("dual", "needs 2 approvals and has 1"),
        ("self_approved", "someone else"),
    ])
    def test_refusals_create_nothing_and_are_audited(
        self, engine: Engine, binding: Binding, policy: PolicySettings, setup: str,
        expected: str
    ) -> None:
        bill = make_bill(amountDue=None) if setup == "unknown_due" else make_bill()
        pay_as, amount = "UP", None if setup != "unknown_due" else Decimal(1)
        if setup != "unapproved":
            approve(engine, binding, policy, bill)
        if setup == "non_payer":
            pay_as = "UB"
        elif setup == "rejected":
            with session_scope(engine) as session:
                approvals.reject(session, bill=bill, binding=binding, user_id="UB",
                                 reason="not our supplier", request_id=None, policy=policy, at=T0)
        elif setup == "changed":
            bill = make_bill(dueDate="2026-12-30")
        elif setup in ("too_much", "zero", "decimals"):
            amount = {"too_much": Decimal("1200.51"), "zero": Decimal(0),
                      "decimals": Decimal("10.001")}[setup]
        elif setup == "paid":
            bill = make_bill(status="Paid")
        elif setup == "dual":
            policy = PolicySettings(approvers=policy.approvers, payers=policy.payers,
                                    dual_approval_over=Decimal(1000))
        elif setup == "self_approved":
            pay_as = "UA"  # the default forbids paying what one approved
        result = start(engine, binding, policy, bill, user=pay_as, amount=amount)
        assert result.outcome == StartOutcome.REFUSED
        assert expected in result.message
        assert intent_rows(engine) == []
        assert audit_of(engine, "bill-1")[-1] in ("payment.refused", "access.refused")

    def test_a_second_payment_while_one_is_open_is_refused(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill
    ) -> None:
        assert start(engine, binding, policy, approved_bill).outcome == StartOutcome.STARTED
        again = start(engine, binding, policy, approved_bill, user="UQ")
        assert again.outcome == StartOutcome.IN_PROGRESS and "in progress" in again.message
        assert len(intent_rows(engine)) == 1

    def test_approvals_wait_while_a_payment_is_open(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill
    ) -> None:
        start(engine, binding, policy, approved_bill)
        with session_scope(engine) as session:
            result = approvals.reject(session, bill=approved_bill, binding=binding,
                                      user_id="UB", reason="stop this payment", request_id=None,
                                      policy=policy, at=T0)
        assert result.outcome == Outcome.REFUSED and "in progress" in result.message

    def test_fifty_concurrent_starts_make_exactly_one_intent(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill
    ) -> None:
        """50 threads, each its own session and transaction, click Pay at once."""
        payers = ["UP", "UQ", "UA"]  # UA approved it: refused, never a second intent
        results = run_together(50, lambda i: start(engine, binding, policy, approved_bill,
                                                   user=payers[i % 3]))
        outcomes = [r.outcome for r in results]
        assert outcomes.count(StartOutcome.STARTED) == 1
        assert outcomes.count(StartOutcome.IN_PROGRESS) + outcomes.count(
            StartOutcome.REFUSED) == 49
        assert len(intent_rows(engine)) == 1
        assert len({r.intent_id for r in results if r.intent_id}) == 1


class TestExecute:
    async def test_happy_path(self, engine: Engine, binding: Binding, policy: PolicySettings,
                              approved_bill: Bill, fake: FakeCodat,
                              runner: PaymentRunner) -> None:
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        outcome = await runner.execute(started.intent_id, fake)
        assert outcome.status == "succeeded" and outcome.remote_payment_id == "pay-1"
        assert (outcome.channel_id, outcome.message_ts, outcome.payer_id) == (
            "CBILLS", "1700000000.000100", "UP")
        [call] = fake.calls
        assert call.body == {"amount": 1200.5, "date": "2026-11-22T00:00:00",
                             "accountRef": {"id": "acc-gbp"}}
        assert call.key == intent_rows(engine)[0].idempotency_key
        track = track_of(engine)
        assert track.open_intent_id is None and track.paid_in_round == Decimal("1200.5")
        assert audit_of(engine, "bill-1")[-3:] == [
            "payment.started", "payment.calling", "payment.succeeded"]

    async def test_final_error_fails_with_codats_reason_and_frees_the_bill(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, runner: PaymentRunner
    ) -> None:
        fake.script = ["400:Account is archived"]
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        outcome = await runner.execute(started.intent_id, fake)
        assert outcome.status == "failed" and outcome.reason == "Account is archived"
        assert "Account is archived" in outcome.message
        assert track_of(engine).open_intent_id is None
        assert audit_of(engine, "bill-1")[-2:] == ["payment.calling", "payment.failed"]
        # A new attempt is allowed, with a new key.
        again = start(engine, binding, policy, approved_bill)
        assert again.outcome == StartOutcome.STARTED
        keys = {i.idempotency_key for i in intent_rows(engine)}
        assert len(keys) == 2

    async def test_unknown_outcomes_are_retried_with_the_same_key(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, runner: PaymentRunner
    ) -> None:
        fake.script = ["unknown", "lost"]  # then "ok": replays the lost answer
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        outcome = await runner.execute(started.intent_id, fake)
        assert outcome.status == "succeeded"
        assert len(fake.calls) == 3 and len({c.key for c in fake.calls}) == 1
        assert len(fake.applied) == 1
        assert audit_of(engine, "bill-1")[-7:] == [
            "payment.started", "payment.calling", "payment.unknown", "payment.calling",
            "payment.unknown", "payment.calling", "payment.succeeded"]

    async def test_still_unknown_after_retries_stays_open(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, runner: PaymentRunner
    ) -> None:
        fake.script = ["unknown"] * 3
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        outcome = await runner.execute(started.intent_id, fake)
        assert outcome.status == "pending" and "not confirmed" in outcome.message
        [intent] = intent_rows(engine)
        assert intent.state == "unknown" and intent.attempts == 3
        assert track_of(engine).open_intent_id == intent.id
        # Nobody can start another payment meanwhile.
        assert start(engine, binding, policy, approved_bill).outcome == StartOutcome.IN_PROGRESS

    async def test_never_sent_fails_cleanly(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, runner: PaymentRunner
    ) -> None:
        fake.script = ["not_sent"] * 3
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        outcome = await runner.execute(started.intent_id, fake)
        assert outcome.status == "failed" and outcome.reason == UNREACHABLE
        [intent] = intent_rows(engine)
        assert intent.state == "failed" and intent.first_sent_at is None
        assert track_of(engine).open_intent_id is None

    async def test_not_sent_after_an_unknown_attempt_stays_open(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, runner: PaymentRunner
    ) -> None:
        """The first attempt may have landed, so later connect errors cannot close it."""
        fake.script = ["unknown", "not_sent", "not_sent"]
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        outcome = await runner.execute(started.intent_id, fake)
        assert outcome.status == "pending"
        [intent] = intent_rows(engine)
        assert intent.state == "unknown" and intent.first_sent_at is not None

    async def test_two_executions_of_one_intent_send_once(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, runner: PaymentRunner
    ) -> None:
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        first, second = await asyncio.gather(runner.execute(started.intent_id, fake),
                                             runner.execute(started.intent_id, fake))
        assert {first.status, second.status} <= {"succeeded", "pending"}
        assert "succeeded" in {first.status, second.status}
        assert len(fake.calls) == 1

    async def test_payer_losing_the_role_before_the_call_stops_it(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, runner: PaymentRunner
    ) -> None:
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        with session_scope(engine) as session:
            roles.set_role(session, policy, user_id="UP", role=Role.PAYER, present=False,
                           actor="UX", request_id=None, at=T0)
        outcome = await runner.execute(started.intent_id, fake)
        assert outcome.status == "failed" and "no longer allowed" in outcome.message
        assert fake.calls == []

    async def test_partial_payment_keeps_the_approval_of_the_remainder(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, runner: PaymentRunner
    ) -> None:
        started = start(engine, binding, policy, approved_bill, amount=Decimal("200.5"))
        assert started.intent_id
        assert (await runner.execute(started.intent_id, fake)).status == "succeeded"
        after = fake.bills["bill-1"]
        assert after.amount_due == Decimal(1000) and after.status == "PartiallyPaid"
        with session_scope(engine, read_only=True) as session:
            state = approvals.state_of(session, bill=after, binding=binding, policy=policy)
        assert state.is_approved and not state.lapsed
        assert state.paid_in_round == Decimal("200.5")
        assert state.last_payment is not None and state.last_payment.state == "succeeded"
        rest = start(engine, binding, policy, after)
        assert rest.outcome == StartOutcome.STARTED and rest.intent_id
        assert (await runner.execute(rest.intent_id, fake)).status == "succeeded"
        assert fake.bills["bill-1"].amount_due == 0
        assert len(fake.applied) == 2

    async def test_a_payment_made_outside_billbot_voids_the_approval(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat
    ) -> None:
        fake.pay_directly("bill-1", Decimal(100))
        result = start(engine, binding, policy, fake.bills["bill-1"])
        assert result.outcome == StartOutcome.REFUSED and "approving again" in result.message


CrashSetup = Callable[[], Any]
