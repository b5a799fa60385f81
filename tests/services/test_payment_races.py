"""Reads of the bill that a concurrent payment overtook, and the shown-outcome slack_messages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine

from billbot.clock import FixedClock
from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings
from billbot.services import intents
from billbot.services.bindings import Binding
from billbot.services.payment_runner import PaymentRunner
from billbot.services.payments import JUST_PAID, StartOutcome
from billbot.storage.db import session_scope

from .conftest import T0, start
from .fake_codat import FakeCodat


async def test_a_read_from_before_our_own_payment_is_told_it_was_just_paid(
    engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
    fake: FakeCodat, runner: PaymentRunner,
) -> None:
    """Two payers read the bill; one pays a part; the other's read is now stale. They are
    told a payment was just recorded, not that the bill changed (their approval stands)."""
    stale = approved_bill
    first = start(engine, binding, policy, stale, amount=Decimal(200))
    assert first.intent_id is not None
    assert (await runner.execute(first.intent_id, fake)).status == "succeeded"
    second = start(engine, binding, policy, stale, user="UQ")
    assert second.outcome is StartOutcome.IN_PROGRESS and second.message == JUST_PAID
    fresh = fake.bills[stale.id]
    third = start(engine, binding, policy, fresh, user="UQ")
    assert third.outcome is StartOutcome.STARTED


async def test_an_edit_in_the_accounting_software_is_still_called_a_change(
    engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
    fake: FakeCodat, runner: PaymentRunner,
) -> None:
    first = start(engine, binding, policy, approved_bill, amount=Decimal(200))
    assert first.intent_id is not None
    await runner.execute(first.intent_id, fake)
    edited = fake.bills[approved_bill.id].model_copy(update={"amount_due": Decimal(999)})
    result = start(engine, binding, policy, edited, user="UQ")
    assert result.outcome is StartOutcome.REFUSED and "changed" in result.message


async def test_unshown_outcomes_wait_for_the_grace_and_are_shown_once(
    engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
    fake: FakeCodat, runner: PaymentRunner, clock: FixedClock,
) -> None:
    started = start(engine, binding, policy, approved_bill)
    assert started.intent_id is not None
    await runner.execute(started.intent_id, fake)
    with session_scope(engine, read_only=True) as session:
        assert intents.unshown_outcomes(session, finished_before=T0 - timedelta(seconds=1),
                                        limit=10) == []
        [unshown] = intents.unshown_outcomes(session, finished_before=T0, limit=10)
    assert unshown.intent_id == started.intent_id and unshown.status == "succeeded"
    with session_scope(engine) as session:
        intents.mark_shown(session, started.intent_id, now=clock.now())
    with session_scope(engine, read_only=True) as session:
        assert intents.unshown_outcomes(session, finished_before=T0 + timedelta(hours=1),
                                        limit=10) == []
