"""The payment state machine against a scripted Codat: start, execute, retry, recover."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from billbot.clock import FixedClock
from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings, Role
from billbot.services import approvals, intents, roles
from billbot.services.bill_status import Outcome
from billbot.services.bindings import Binding
from billbot.services.payment_runner import UNREACHABLE, PaymentRunner, RunnerSettings
from billbot.services.payments import StartOutcome, StartResult, start_payment
from billbot.storage.audit import BillRef
from billbot.storage.db import session_scope
from billbot.storage.tables import BillTrack, PaymentIntent

from .conftest import T0, audit_of, make_bill
from .fake_codat import FakeCodat
from .test_approvals import run_together

PAYMENT_DATE = date(2026, 11, 22)


async def no_sleep(_: float) -> None:
    return None


def approve(engine: Engine, binding: Binding, policy: PolicySettings, bill: Bill,
            *users: str) -> None:
    for user in users or ("UA",):
        with session_scope(engine) as session:
            result = approvals.approve(session, bill=bill, binding=binding, user_id=user,
                                       request_id=None, policy=policy, at=T0)
        assert result.outcome == Outcome.RECORDED, result.message


def start(engine: Engine, binding: Binding, policy: PolicySettings, bill: Bill, *,
          user: str = "UP", amount: Decimal | None = None, at: Any = T0) -> StartResult:
    with session_scope(engine) as session:
        return start_payment(
            session, bill_ref=BillRef(binding.company_id, binding.connection_id, bill.id),
            fresh_bill=bill, user_id=user, request_id=f"view-{user}",
            amount=amount if amount is not None else bill.amount_due or Decimal(0),
            account_id="acc-gbp",
            account_name="Business Current", payment_date=PAYMENT_DATE, channel_id="CBILLS",
            message_ts="1700000000.000100", policy=policy, at=at)


def intent_rows(engine: Engine) -> list[PaymentIntent]:
    with session_scope(engine, read_only=True) as session:
        return list(session.exec(select(PaymentIntent)).all())


def track_of(engine: Engine, bill_id: str = "bill-1") -> BillTrack:
    with session_scope(engine, read_only=True) as session:
        return session.exec(select(BillTrack).where(BillTrack.bill_id == bill_id)).one()


@pytest.fixture
def fake() -> FakeCodat:
    return FakeCodat()


@pytest.fixture
def runner(engine: Engine, clock: FixedClock, policy: PolicySettings) -> PaymentRunner:
    return PaymentRunner(engine, clock, policy=policy, sleep=no_sleep)


@pytest.fixture
def approved_bill(engine: Engine, binding: Binding, policy: PolicySettings,
                  fake: FakeCodat) -> Bill:
    bill = fake.add(make_bill())
    approve(engine, binding, policy, bill)
    return bill


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
                                 reason="not ours", request_id=None, policy=policy, at=T0)
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
            policy = PolicySettings(approvers=policy.approvers, payers=policy.payers,
                                    payer_cannot_approve=True)
            pay_as = "UA"
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
                                      user_id="UB", reason="stop", request_id=None,
                                      policy=policy, at=T0)
        assert result.outcome == Outcome.REFUSED and "in progress" in result.message

    def test_fifty_concurrent_starts_make_exactly_one_intent(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill
    ) -> None:
        """50 threads, each its own session and transaction, click Pay at once."""
        payers = ["UP", "UQ", "UA"]
        results = run_together(50, lambda i: start(engine, binding, policy, approved_bill,
                                                   user=payers[i % 3]))
        outcomes = [r.outcome for r in results]
        assert outcomes.count(StartOutcome.STARTED) == 1
        assert outcomes.count(StartOutcome.IN_PROGRESS) == 49
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


class TestRecovery:
    """Recovery after a crash: the runner died with the intent open and its lease held."""

    @pytest.fixture
    def recovering(self, engine: Engine, clock: FixedClock,
                   policy: PolicySettings) -> PaymentRunner:
        return PaymentRunner(engine, clock, policy=policy, sleep=no_sleep,
                             settings=RunnerSettings(retry_delays=()))

    def crash_while_calling(self, engine: Engine, intent_id: uuid.UUID,
                            at: Any = T0) -> None:
        """Claim the intent and mark it calling, then 'crash' before anything else."""
        settings = RunnerSettings()
        with session_scope(engine) as session:
            lease = intents.claim(session, intent_id, now=at, lease_for=settings.lease)
            assert lease is not None
            intents.mark_calling(session, lease, now=at, lease_for=settings.lease,
                                 recovery=False)

    async def test_nothing_to_do_while_a_lease_is_live(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, recovering: PaymentRunner
    ) -> None:
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        self.crash_while_calling(engine, started.intent_id)
        assert await recovering.recover(fake, T0 + timedelta(seconds=30)) == []
        assert fake.calls == []

    async def test_resends_with_the_same_key_inside_the_replay_window(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, recovering: PaymentRunner
    ) -> None:
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        # The crash came after Codat applied the payment: it is in Codat, not in billbot.
        fake.script = ["lost"]
        outcome = await recovering.execute(started.intent_id, fake)
        assert outcome.status == "pending"
        self.crash_while_calling(engine, started.intent_id, at=T0 + timedelta(minutes=2))
        [recovered] = await recovering.recover(fake, T0 + timedelta(minutes=10))
        assert recovered.status == "succeeded" and recovered.remote_payment_id == "pay-1"
        assert len(fake.applied) == 1 and len({c.key for c in fake.calls}) == 1
        assert track_of(engine).paid_in_round == Decimal("1200.5")
        assert await recovering.recover(fake, T0 + timedelta(hours=3)) == []

    @pytest.mark.parametrize(("landed", "status", "words"), [
        ("yes", "succeeded", "Paid"),
        ("no", "failed", "did not record it"),
        ("other", "failed", "could not confirm"),
    ])
    async def test_after_the_window_it_decides_from_amount_due_without_sending(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, recovering: PaymentRunner, landed: str, status: str, words: str
    ) -> None:
        started = start(engine, binding, policy, approved_bill, amount=Decimal(200))
        assert started.intent_id
        self.crash_while_calling(engine, started.intent_id)
        if landed == "yes":
            fake.pay_directly("bill-1", Decimal(200))
        elif landed == "other":
            fake.pay_directly("bill-1", Decimal(50))
        [outcome] = await recovering.recover(fake, T0 + timedelta(minutes=76))
        assert outcome.status == status and words in outcome.message
        assert fake.calls == []
        assert fake.bill_reads == 1
        assert track_of(engine).open_intent_id is None
        with session_scope(engine, read_only=True) as session:
            state = approvals.state_of(session, bill=fake.bills["bill-1"], binding=binding,
                                       policy=policy)
        # Confirmed or absent: the approval holds. Unexplained: it lapses.
        assert state.lapsed == (landed == "other")

    async def test_an_unreadable_bill_after_the_window_stays_open(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, recovering: PaymentRunner
    ) -> None:
        started = start(engine, binding, policy, approved_bill)
        assert started.intent_id
        self.crash_while_calling(engine, started.intent_id)
        fake.unreadable = True
        [outcome] = await recovering.recover(fake, T0 + timedelta(hours=2))
        assert outcome.status == "pending" and fake.calls == []
        assert intent_rows(engine)[0].state == "calling"

    async def test_a_never_sent_intent_is_rechecked_then_sent(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, recovering: PaymentRunner
    ) -> None:
        started = start(engine, binding, policy, approved_bill)  # then the process died
        [outcome] = await recovering.recover(fake, T0 + timedelta(minutes=5))
        assert outcome.intent_id == started.intent_id and outcome.status == "succeeded"
        assert fake.bill_reads == 1 and len(fake.applied) == 1

    @pytest.mark.parametrize("why", ["expired", "changed"])
    async def test_a_never_sent_intent_that_went_stale_is_cancelled(
        self, engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, recovering: PaymentRunner, why: str
    ) -> None:
        start(engine, binding, policy, approved_bill)
        later = T0 + (timedelta(hours=2) if why == "expired" else timedelta(minutes=5))
        if why == "changed":
            fake.add(make_bill(dueDate="2027-01-31"))
        [outcome] = await recovering.recover(fake, later)
        assert outcome.status == "failed" and "nothing was paid" in outcome.message
        assert fake.calls == []
        assert track_of(engine).open_intent_id is None


def test_every_transition_is_audited(engine: Engine, binding: Binding, policy: PolicySettings,
                                     approved_bill: Bill, fake: FakeCodat,
                                     clock: FixedClock) -> None:
    """Each state change of an intent has its audit row, in order, in one count."""
    runner = PaymentRunner(engine, clock, policy=policy, sleep=no_sleep)
    fake.script = ["unknown", "not_sent", "ok"]
    started = start(engine, binding, policy, approved_bill)
    assert started.intent_id
    assert asyncio.run(runner.execute(started.intent_id, fake)).status == "succeeded"
    with session_scope(engine, read_only=True) as session:
        count = session.exec(select(func.count()).select_from(PaymentIntent)).one()
    assert count == 1
    assert audit_of(engine, "bill-1") == [
        "approval.recorded", "payment.started", "payment.calling", "payment.unknown",
        "payment.calling", "payment.not_sent", "payment.calling", "payment.succeeded"]


def test_a_worker_that_lost_its_lease_changes_nothing(
    engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill
) -> None:
    """Its lease ran out and another worker took the intent: no transition, no audit row."""
    started = start(engine, binding, policy, approved_bill)
    assert started.intent_id
    lease_for = RunnerSettings().lease
    with session_scope(engine) as session:
        stale = intents.claim(session, started.intent_id, now=T0, lease_for=lease_for)
    with session_scope(engine) as session:
        assert intents.claim(session, started.intent_id, now=T0 + timedelta(minutes=3),
                             lease_for=lease_for)
    assert stale is not None
    later = T0 + timedelta(minutes=4)
    with session_scope(engine) as session:
        assert intents.mark_calling(session, stale, now=later, lease_for=lease_for,
                                    recovery=False) is None
        intents.mark_unknown(session, stale, now=later, error="late")
        intents.mark_not_sent(session, stale, now=later, error="late", sent_before=False)
        outcome = intents.finish_failed(session, stale, now=later, reason="late")
    assert outcome.status == "pending"
    assert intent_rows(engine)[0].state == "created"
    assert audit_of(engine, "bill-1")[-1] == "payment.started"


def test_an_intent_its_creator_has_not_claimed_yet_is_left_to_it_for_a_lease(
    engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill
) -> None:
    """Recovery on another replica must not take over a payment a live process is about to
    send (the gap between committing the intent and claiming it); after a lease it may."""
    result = start(engine, binding, policy, approved_bill)
    lease = timedelta(seconds=120)

    def recoverable(at: Any) -> list[uuid.UUID]:
        with session_scope(engine, read_only=True) as session:
            return intents.expired_leases(session, now=at, limit=10, unclaimed_grace=lease)

    assert recoverable(T0 + timedelta(seconds=1)) == []
    assert recoverable(T0 + lease) == [result.intent_id]
