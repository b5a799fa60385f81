"""PaymentRunner recovery: intents left open are finished once, leases are respected, and
every transition is audited."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from billbot import tenancy
from billbot.clock import FixedClock
from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings, Role
from billbot.services import approvals, intents, roles
from billbot.services.bindings import Binding
from billbot.services.payment_runner import PaymentRunner, RunnerSettings
from billbot.storage.db import session_scope
from billbot.storage.tables import PaymentIntent

from .conftest import (
    T0,
    audit_of,
    intent_rows,
    make_bill,
    no_sleep,
    start,
    track_of,
)
from .fake_codat import FakeCodat


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


async def test_an_unsent_intent_is_resumed_in_its_own_workspace(
    engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
    fake: FakeCodat, clock: FixedClock
) -> None:
    """OAuth mode: the recovery tick runs outside any workspace, but a payer's role lives in
    the workspace the payment was started from; the intent is re-checked there, not refused
    as if the payer had lost the role."""
    team = tenancy.Workspace("T0TEAMA")
    with tenancy.acting_for(team), session_scope(engine) as session:
        assert roles.set_role(session, policy, user_id="UR", role=Role.PAYER, present=True,
                              actor="UX", request_id=None, at=T0)
    with tenancy.acting_for(team):
        started = start(engine, binding, policy, approved_bill, user="UR")
    assert started.intent_id
    [row] = intent_rows(engine)
    assert row.team_id == "T0TEAMA"
    # The process died before claiming it: another replica's recovery finishes it.
    recovering = PaymentRunner(engine, clock, policy=policy, sleep=no_sleep,
                               settings=RunnerSettings(retry_delays=()))
    [outcome] = await recovering.recover(fake, T0 + timedelta(minutes=5))
    assert outcome.status == "succeeded", outcome
    assert len(fake.applied) == 1
