"""services/undo.py on a real database: what may be undone or deleted, the request row that
lets one delete through (concurrent claims, a stopped request taken over), and what an
undone payment changes (no longer paid, the round's approvals still standing)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import col, select

from billbot.domain.policy import PolicySettings
from billbot.services import approvals, intents, undo
from billbot.services.bindings import Binding
from billbot.storage.db import session_scope
from billbot.storage.tables import BillUndo, ChannelBinding, CreatedBill, PaymentIntent

from .conftest import T0, approve, audit_of, make_bill, run_together, start, track_of

WINDOW = timedelta(hours=24)
LEASE = timedelta(minutes=2)


def async_binding(engine: Engine, binding: Binding) -> Binding:
    """The channel's company moved to the async API (as `/bills connect` may bind it)."""
    with session_scope(engine) as session:
        session.exec(update(ChannelBinding).values(codat_api="async"))
    return replace(binding, codat_api="async")


def paid_intent(engine: Engine, binding: Binding, policy: PolicySettings, *,
                amount: Decimal | None = None) -> PaymentIntent:
    """A payment of bill-1 started and recorded as Codat confirmed it (async API)."""
    bill = make_bill()
    approve(engine, binding, policy, bill)
    started = start(engine, binding, policy, bill, amount=amount)
    assert started.intent_id is not None
    with session_scope(engine) as session:
        session.exec(update(PaymentIntent).where(col(PaymentIntent.id) == started.intent_id)
                     .values(codat_api="async"))
        lease = intents.claim(session, started.intent_id, now=T0, lease_for=LEASE)
        assert lease is not None
        intents.finish_succeeded(session, lease, now=T0, remote_payment_id="pay-1", how="test")
        intent = session.get(PaymentIntent, started.intent_id)
        assert intent is not None
        return intent


def claim(engine: Engine, binding: Binding, intent: PaymentIntent, *, actor: str = "UX",
          owner: str = "o1", now: Any = T0) -> undo.Claim:
    with session_scope(engine) as session:
        return undo.claim(session, kind=undo.PAYMENT, binding=binding, bill_id="bill-1",
                          target_id="pay-1", intent_id=intent.id, actor=actor,
                          reason="wrong account", request_id="r1", bill_version={},
                          now=now, lease_for=LEASE, owner=owner)


def test_the_window_counts_from_when_the_payment_succeeded(
        engine: Engine, binding: Binding, policy: PolicySettings) -> None:
    binding = async_binding(engine, binding)
    intent = paid_intent(engine, binding, policy)
    with session_scope(engine, read_only=True) as session:
        found = undo.undoable_intent(session, binding, "bill-1")
    assert found is not None and found.id == intent.id
    assert undo.undo_problem(found, now=T0 + WINDOW, window=WINDOW) is None
    late = undo.undo_problem(found, now=T0 + WINDOW + timedelta(seconds=1), window=WINDOW)
    assert late is not None and "24 hours" in late
    assert undo.undo_problem(None, now=T0, window=WINDOW) == undo.NO_PAYMENT


def test_concurrent_claims_let_one_request_through(
        engine: Engine, binding: Binding, policy: PolicySettings) -> None:
    binding = async_binding(engine, binding)
    intent = paid_intent(engine, binding, policy)
    claims = run_together(6, lambda i: claim(engine, binding, intent, owner=f"o{i}"))
    assert sum(1 for c in claims if c.mine) == 1
    assert all("already undoing" in c.message for c in claims if not c.mine)
    with session_scope(engine, read_only=True) as session:
        assert len(session.exec(select(BillUndo)).all()) == 1


def test_a_stopped_request_is_taken_over_once_its_lease_runs_out(
        engine: Engine, binding: Binding, policy: PolicySettings) -> None:
    binding = async_binding(engine, binding)
    intent = paid_intent(engine, binding, policy)
    first = claim(engine, binding, intent, owner="o1")
    with session_scope(engine) as session:
        assert undo.mark_sent(session, first.undo.id, owner="o1", now=T0)
    assert not claim(engine, binding, intent, owner="o2", now=T0 + LEASE / 2).mine
    later = claim(engine, binding, intent, owner="o3", now=T0 + LEASE)
    assert later.mine and later.undo.id == first.undo.id
    assert later.undo.sent_at == T0  # resumed: it may have reached Codat, so it is looked up


def test_an_undone_payment_no_longer_counts_and_the_approvals_stand(
        engine: Engine, binding: Binding, policy: PolicySettings) -> None:
    binding = async_binding(engine, binding)
    intent = paid_intent(engine, binding, policy, amount=Decimal("200.50"))
    assert track_of(engine).paid_in_round == Decimal("200.50")
    row = claim(engine, binding, intent).undo
    with session_scope(engine) as session:
        assert undo.finish_succeeded(session, row.id, owner="o1", now=T0, how="test")
        assert not undo.finish_succeeded(session, row.id, owner="o1", now=T0, how="again")
    assert track_of(engine).paid_in_round == Decimal(0)
    with session_scope(engine, read_only=True) as session:
        stored = session.get(PaymentIntent, intent.id)
        assert stored is not None and stored.undone_at == T0 and stored.state == "succeeded"
        assert undo.undoable_intent(session, binding, "bill-1") is None
        # The bill owed in full again is the bill the approval was given for.
        state = approvals.state_of(session, bill=make_bill(), binding=binding, policy=policy)
    assert state.approvers == ("UA",) and state.payments == ()
    assert audit_of(engine, "bill-1").count("payment.undone") == 1
    # Done: a later claim finds it done and sends nothing.
    again = claim(engine, binding, intent, owner="o9")
    assert not again.mine and "already undone" in again.message


def test_a_failed_request_leaves_the_payment_and_room_for_another(
        engine: Engine, binding: Binding, policy: PolicySettings) -> None:
    binding = async_binding(engine, binding)
    intent = paid_intent(engine, binding, policy)
    row = claim(engine, binding, intent).undo
    with session_scope(engine) as session:
        assert undo.finish_failed(session, row.id, owner="o1", now=T0, reason="locked period")
    assert track_of(engine).paid_in_round > 0
    assert "payment.undo_failed" in audit_of(engine, "bill-1")
    assert claim(engine, binding, intent, owner="o2").mine


def test_delete_is_refused_for_paid_bills_and_old_bills_created_here(
        engine: Engine, binding: Binding, policy: PolicySettings) -> None:
    binding = async_binding(engine, binding)
    unpaid = make_bill("bill-2")
    with session_scope(engine) as session:
        assert undo.delete_problem(session, binding, unpaid, now=T0, window=WINDOW) is None
        part_paid = make_bill("bill-3", amountDue=100, status="PartiallyPaid")
        assert undo.delete_problem(session, binding, part_paid, now=T0,
                                   window=WINDOW) == undo.PAID_IN_BOOKS
        session.add(CreatedBill(company_id=binding.company_id,
                                connection_id=binding.connection_id, bill_id="bill-2",
                                created_by="UA", created_at=T0, creation_id=uuid.uuid4()))
        session.flush()
        assert undo.delete_problem(session, binding, unpaid, now=T0 + WINDOW,
                                   window=WINDOW) is None
        late = undo.delete_problem(session, binding, unpaid, now=T0 + WINDOW * 2, window=WINDOW)
        assert late is not None and "created in billbot" in late
    paid_intent(engine, binding, policy)
    with session_scope(engine, read_only=True) as session:
        assert undo.delete_problem(session, binding, make_bill(amountDue=0, status="Paid"),
                                   now=T0, window=WINDOW) == undo.PAID_HERE


def test_rows_offer_the_buttons_only_on_async_bindings_within_the_window(
        engine: Engine, binding: Binding, policy: PolicySettings) -> None:
    sync_binding = binding
    binding = async_binding(engine, binding)
    paid_intent(engine, binding, policy)
    paid, unpaid = make_bill(amountDue=0, status="Paid"), make_bill("bill-2")
    with session_scope(engine, read_only=True) as session:
        facts = undo.row_facts(session, binding, [paid, unpaid], now=T0, window=WINDOW)
        later = undo.row_facts(session, binding, [paid], now=T0 + WINDOW * 2, window=WINDOW)
        assert undo.row_facts(session, sync_binding, [paid, unpaid], now=T0,
                              window=WINDOW) == {}
    assert facts["bill-1"].can_undo and not facts["bill-1"].can_delete
    assert facts["bill-2"].can_delete and not facts["bill-2"].can_undo
    assert not later["bill-1"].can_undo
