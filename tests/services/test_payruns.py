"""services.payruns on a real database: a draft is confirmed once (concurrent confirmations
race on one conditional update), every selected bill gets its own intent and key in that
transaction, and `Retry failed` starts only the failed bills, once per attempt."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine, update

from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings
from billbot.services import payruns
from billbot.services.bindings import Binding
from billbot.services.payruns import Choice, Offered
from billbot.storage.db import session_scope
from billbot.storage.tables import PaymentIntent
from tests.services.conftest import (
    PAYMENT_DATE,
    T0,
    approve,
    intent_rows,
    make_bill,
    run_together,
)

LEASE = T0 + timedelta(minutes=2)


def draft(engine: Engine, binding: Binding, bills: list[Bill]) -> uuid.UUID:
    offered = [Offered(b.id, b.reference, "Northwind", b.currency, b.amount_due or Decimal(0),
                       b.issue_date) for b in bills]
    with session_scope(engine) as session:
        run_id = payruns.create_draft(session, binding=binding, payer_id="UP", offered=offered,
                                      base_currency="GBP", at=T0)
        assert payruns.save_page(
            session, run_id=run_id, payer_id="UP", positions=range(len(bills)),
            selected=set(range(len(bills))),
            settings=(PAYMENT_DATE, {"GBP": Choice("acc-gbp", "Business Current", None)}),
            at=T0)
    return run_id


def confirm(engine: Engine, run_id: uuid.UUID, bills: list[Bill],
            policy: PolicySettings) -> payruns.Started:
    with session_scope(engine) as session:
        return payruns.start_run(session, run_id=run_id, user_id="UP",
                                 fresh={b.id: b for b in bills}, policy=policy, at=T0,
                                 lease_until=LEASE, request_id="r")


def test_concurrent_confirmations_start_each_bill_once(
        engine: Engine, binding: Binding, policy: PolicySettings) -> None:
    bills = [make_bill(f"bill-{i}") for i in range(5)]
    for bill in bills:
        approve(engine, binding, policy, bill)
    run_id = draft(engine, binding, bills)
    results = run_together(4, lambda _: confirm(engine, run_id, bills, policy))
    assert sorted(r.taken for r in results) == [False, False, False, True]
    intents = intent_rows(engine)
    assert len(intents) == 5 and len({i.idempotency_key for i in intents}) == 5
    with session_scope(engine, read_only=True) as session:
        progress = payruns.progress(session, run_id)
    assert progress is not None and progress.pending == 5 and progress.failed == 0


def test_a_bill_changed_since_the_review_is_not_started(
        engine: Engine, binding: Binding, policy: PolicySettings) -> None:
    bills = [make_bill(f"bill-{i}") for i in range(3)]
    for bill in bills:
        approve(engine, binding, policy, bill)
    run_id = draft(engine, binding, bills)
    changed = make_bill("bill-2", amountDue=100)
    started = confirm(engine, run_id, [*bills[:2], changed], policy)
    assert started.taken and len(started.intent_ids) == 2
    with session_scope(engine, read_only=True) as session:
        failed = payruns.failed_items(session, run_id)
    assert [i.bill_id for i in failed] == ["bill-2"]
    assert failed[0].skip_reason and "changed since the review" in failed[0].skip_reason


def test_retry_failed_runs_once_per_attempt_and_only_the_failed(
        engine: Engine, binding: Binding, policy: PolicySettings) -> None:
    bills = [make_bill(f"bill-{i}") for i in range(3)]
    for bill in bills:
        approve(engine, binding, policy, bill)
    run_id = draft(engine, binding, bills)
    confirm(engine, run_id, [*bills[:2], make_bill("bill-2", amountDue=100)], policy)
    with session_scope(engine) as session:
        # The two started intents end (succeeded); the run is finished with one failure.
        session.exec(update(PaymentIntent).values(state="succeeded"))
        assert payruns.finish(session, run_id, at=T0)
        run = payruns.get_run(session, run_id)
        assert run is not None
        attempt = run.attempt

    def retry(_: int) -> payruns.Started:
        with session_scope(engine) as session:
            return payruns.retry_failed(session, run_id=run_id, attempt=attempt, user_id="UP",
                                        fresh={b.id: b for b in bills}, policy=policy, at=T0,
                                        lease_until=LEASE, request_id="r2")

    results = run_together(3, retry)
    assert sorted(len(r.intent_ids) for r in results) == [0, 0, 1]
    assert len(intent_rows(engine)) == 3
    # A button showing an attempt already retried starts nothing.
    assert not retry(0).taken
