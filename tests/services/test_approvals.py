"""Approve and reject on a real database (SQLite file, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, func
from sqlmodel import select

from billbot.domain.policy import PolicySettings
from billbot.domain.versions import BillVersion
from billbot.services import approvals
from billbot.services.approvals import Outcome
from billbot.services.bindings import Binding
from billbot.storage.db import session_scope
from billbot.storage.tables import Approval, AuditLog

from .conftest import T0, audit_of, make_bill, run_together


def approve(engine: Engine, binding: Binding, policy: PolicySettings, user: str,
            bill: Any = None, at: Any = T0) -> approvals.ApprovalResult:
    with session_scope(engine) as session:
        return approvals.approve(session, bill=bill or make_bill(), binding=binding, user_id=user,
                                 request_id=f"req-{user}", policy=policy, at=at)


def reject(engine: Engine, binding: Binding, policy: PolicySettings, user: str,
           reason: str | None = "duplicate invoice", bill: Any = None) -> approvals.ApprovalResult:
    with session_scope(engine) as session:
        return approvals.reject(session, bill=bill or make_bill(), binding=binding, user_id=user,
                                reason=reason, request_id=f"req-{user}", policy=policy, at=T0)


def lift(engine: Engine, binding: Binding, policy: PolicySettings, user: str,
         reason: str | None = None) -> approvals.ApprovalResult:
    with session_scope(engine) as session:
        return approvals.lift_rejection(session, bill=make_bill(), binding=binding, user_id=user,
                                        reason=reason, request_id=f"req-lift-{user}",
                                        policy=policy, at=T0)


def approval_rows(engine: Engine) -> int:
    with session_scope(engine, read_only=True) as session:
        return session.exec(select(func.count()).select_from(Approval)).one()


class TestApprove:
    def test_an_approver_approves(self, engine: Engine, binding: Binding,
                                  policy: PolicySettings) -> None:
        result = approve(engine, binding, policy, "UA")
        assert result.outcome == Outcome.RECORDED
        assert str(result.outcome) == "recorded"  # handlers compare with the plain string
        assert result.state.approvers == ("UA",)
        assert result.state.is_approved and result.state.needed == 1
        assert audit_of(engine, "bill-1") == ["approval.recorded"]

    def test_anyone_else_is_refused_and_audited(self, engine: Engine, binding: Binding,
                                                policy: PolicySettings) -> None:
        result = approve(engine, binding, policy, "UP")
        assert result.outcome == Outcome.REFUSED
        assert "Only approvers" in result.message
        assert not result.state.is_approved and result.state.approvers == ()
        assert approval_rows(engine) == 0
        assert audit_of(engine, "bill-1") == ["access.refused"]

    def test_a_second_click_changes_nothing(self, engine: Engine, binding: Binding,
                                            policy: PolicySettings) -> None:
        approve(engine, binding, policy, "UA")
        again = approve(engine, binding, policy, "UA")
        assert again.outcome == Outcome.ALREADY_DONE
        assert "already approved" in again.message
        assert again.state.approvers == ("UA",)
        assert approval_rows(engine) == 1
        assert audit_of(engine, "bill-1") == ["approval.recorded"]


class TestDualApproval:
    def test_two_different_approvers_are_needed(self, engine: Engine, binding: Binding,
                                                dual_policy: PolicySettings) -> None:
        first = approve(engine, binding, dual_policy, "UA")
        assert first.state.needed == 2 and not first.state.is_approved
        assert "1 of 2" in first.message
        assert approve(engine, binding, dual_policy, "UA").outcome == Outcome.ALREADY_DONE
        second = approve(engine, binding, dual_policy, "UB")
        assert second.state.approvers == ("UA", "UB") and second.state.is_approved

    def test_below_the_threshold_one_is_enough(self, engine: Engine, binding: Binding,
                                               dual_policy: PolicySettings) -> None:
        small = make_bill(totalAmount=999, amountDue=999)
        assert approve(engine, binding, dual_policy, "UA", bill=small).state.is_approved


class TestLapse:
    @pytest.mark.parametrize("change", [
        {"totalAmount": 1300, "amountDue": 1300}, {"amountDue": 100},
        {"dueDate": "2026-12-31"}, {"currency": "EUR"}, {"supplierRef": {"id": "sup-2"}},
    ])
    def test_a_changed_bill_needs_approving_again(
        self, engine: Engine, binding: Binding, policy: PolicySettings, change: dict[str, Any]
    ) -> None:
        approve(engine, binding, policy, "UA")
        changed = make_bill(**change)
        with session_scope(engine, read_only=True) as session:
            seen = approvals.state_of(session, bill=changed, binding=binding, policy=policy)
        assert seen.lapsed and seen.approvers == () and not seen.is_approved
        result = approve(engine, binding, policy, "UB", bill=changed)
        assert result.outcome == Outcome.RECORDED
        assert result.state.approvers == ("UB",) and not result.state.lapsed
        assert result.state.round == 2
        assert audit_of(engine, "bill-1") == [
            "approval.recorded", "approval.lapsed", "approval.recorded"]
        # The earlier approver may approve the new version.
        assert approve(engine, binding, policy, "UA", bill=changed).outcome == Outcome.RECORDED

    def test_an_unchanged_bill_keeps_its_approval(self, engine: Engine, binding: Binding,
                                                  policy: PolicySettings) -> None:
        approve(engine, binding, policy, "UA")
        touched = make_bill(sourceModifiedDate="2026-11-20T08:00:00Z")
        with session_scope(engine, read_only=True) as session:
            state = approvals.state_of(session, bill=touched, binding=binding, policy=policy)
        assert state.is_approved and state.approvers == ("UA",)


class TestReject:
    def test_rejecting_needs_an_approver_and_a_reason(self, engine: Engine, binding: Binding,
                                                      policy: PolicySettings) -> None:
        assert reject(engine, binding, policy, "UP").outcome == Outcome.REFUSED
        no_reason = reject(engine, binding, policy, "UA", reason="  ")
        assert no_reason.outcome == Outcome.REFUSED and "Say why" in no_reason.message
        short = reject(engine, binding, policy, "UA", reason="  too short ")
        assert short.outcome == Outcome.REFUSED and "10 characters" in short.message
        assert approval_rows(engine) == 0
        assert audit_of(engine) == ["binding.set", "access.refused", "access.refused",
                                    "access.refused"]

    def test_a_rejection_stands_against_another_approvers_approve(
            self, engine: Engine, binding: Binding, dual_policy: PolicySettings) -> None:
        approve(engine, binding, dual_policy, "UA")
        rejected = reject(engine, binding, dual_policy, "UB", reason="wrong supplier")
        assert rejected.outcome == Outcome.RECORDED
        assert rejected.state.rejected is not None
        assert (rejected.state.rejected.by, rejected.state.rejected.reason) == (
            "UB", "wrong supplier")
        assert rejected.state.approvers == () and not rejected.state.is_approved
        assert reject(engine, binding, dual_policy, "UB", reason="wrong supplier").outcome == (
            Outcome.ALREADY_DONE)
        # UA's Approve is refused: told who rejected it and why; the rejection stands.
        refused = approve(engine, binding, dual_policy, "UA")
        assert refused.outcome == Outcome.REFUSED
        assert "<@UB>" in refused.message and "wrong supplier" in refused.message
        assert refused.state.rejected is not None and refused.state.approvers == ()
        # The rejecter's own Approve does not flip it either.
        own = approve(engine, binding, dual_policy, "UB")
        assert own.outcome == Outcome.REFUSED and "Withdraw rejection" in own.message
        assert audit_of(engine, "bill-1") == [
            "approval.recorded", "rejection.recorded", "access.refused", "access.refused"]

    def test_the_rejecter_withdraws_and_the_bill_is_approved_afresh(
            self, engine: Engine, binding: Binding, dual_policy: PolicySettings) -> None:
        approve(engine, binding, dual_policy, "UA")
        reject(engine, binding, dual_policy, "UB", reason="wrong supplier")
        withdrawn = lift(engine, binding, dual_policy, "UB")
        assert withdrawn.outcome == Outcome.RECORDED and withdrawn.state.rejected is None
        assert withdrawn.state.approvers == ()  # approvals before the rejection stay void
        assert lift(engine, binding, dual_policy, "UB").outcome == Outcome.ALREADY_DONE
        approve(engine, binding, dual_policy, "UA")
        assert approve(engine, binding, dual_policy, "UB").state.is_approved
        assert audit_of(engine, "bill-1") == [
            "approval.recorded", "rejection.recorded", "rejection.withdrawn",
            "approval.recorded", "approval.recorded"]

    def test_only_an_admin_with_a_reason_overrides_someone_elses_rejection(
            self, engine: Engine, binding: Binding, dual_policy: PolicySettings) -> None:
        reject(engine, binding, dual_policy, "UB", reason="wrong supplier")
        other = lift(engine, binding, dual_policy, "UA")
        assert other.outcome == Outcome.REFUSED and "<@UB>" in other.message
        no_reason = lift(engine, binding, dual_policy, "UX", reason="ok")
        assert no_reason.outcome == Outcome.REFUSED and "10 characters" in no_reason.message
        overridden = lift(engine, binding, dual_policy, "UX", reason="checked with them")
        assert overridden.outcome == Outcome.RECORDED and overridden.state.rejected is None
        with session_scope(engine, read_only=True) as session:
            entry = session.exec(select(AuditLog).where(
                AuditLog.action == "rejection.overridden")).one()
        assert entry.detail["rejected_by"] == "UB"
        assert entry.detail["reason"] == "checked with them"


class TestConcurrency:
    def test_two_approvers_at_once_both_count(self, engine: Engine, binding: Binding,
                                              dual_policy: PolicySettings) -> None:
        run_together(2, lambda i: approve(engine, binding, dual_policy, ["UA", "UB"][i]))
        with session_scope(engine, read_only=True) as session:
            state = approvals.state_of(session, bill=make_bill(), binding=binding,
                                       policy=dual_policy)
        assert sorted(state.approvers) == ["UA", "UB"] and state.is_approved

    def test_a_storm_of_double_clicks_counts_once(self, engine: Engine, binding: Binding,
                                                  policy: PolicySettings) -> None:
        results = run_together(20, lambda _: approve(engine, binding, policy, "UA"))
        outcomes = sorted(r.outcome for r in results)
        assert outcomes.count(Outcome.RECORDED) == 1
        assert outcomes.count(Outcome.ALREADY_DONE) == 19
        assert approval_rows(engine) == 1

    def test_approvers_racing_a_bill_change(self, engine: Engine, binding: Binding,
                                            policy: PolicySettings) -> None:
        """Clicks that read the bill before and after a change race: whichever version the
        round ends on, every approval it lists was given against exactly that version."""
        old, new = make_bill(), make_bill(amountDue=50)
        users = ["UA", "UB", "UC"]
        run_together(6, lambda i: approve(engine, binding, policy, users[i % 3],
                                          bill=old if i % 2 else new))
        with session_scope(engine, read_only=True) as session:
            seen = {name: approvals.state_of(session, bill=bill, binding=binding, policy=policy)
                    for name, bill in (("old", old), ("new", new))}
            current = [name for name, state in seen.items() if not state.lapsed]
            assert len(current) == 1
            state = seen[current[0]]
            version = BillVersion.of(old if current[0] == "old" else new).to_json()
            rows = session.exec(select(Approval).where(Approval.round == state.round)).all()
        assert state.approvers and sorted(state.approvers) == sorted(r.user_id for r in rows)
        assert all(r.bill_version == version for r in rows)


class TestStatesOf:
    @pytest.mark.parametrize("count", [3, 600])
    def test_a_whole_digest_in_three_queries(self, engine: Engine, binding: Binding,
                                             policy: PolicySettings, count: int) -> None:
        bills = [make_bill(f"b{i}") for i in range(count)]
        approve(engine, binding, policy, "UA", bill=bills[1])
        reject(engine, binding, policy, "UB", bill=bills[2])
        statements: list[str] = []

        def count_statements(*args: Any) -> None:
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", count_statements)
        try:
            with session_scope(engine, read_only=True) as session:
                states = approvals.states_of(session, bills=bills, binding=binding,
                                             policy=policy)
        finally:
            event.remove(engine, "before_cursor_execute", count_statements)
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3
        assert len(states) == count
        assert states["b0"].approvers == () and states["b0"].round == 0
        assert states["b1"].is_approved and states["b1"].approvers == ("UA",)
        assert states["b2"].rejected is not None and states["b2"].rejected.by == "UB"

    def test_matches_state_of(self, engine: Engine, binding: Binding,
                              dual_policy: PolicySettings) -> None:
        bill = make_bill()
        approve(engine, binding, dual_policy, "UA", at=T0 + timedelta(minutes=1))
        with session_scope(engine, read_only=True) as session:
            one = approvals.state_of(session, bill=bill, binding=binding, policy=dual_policy)
            many = approvals.states_of(session, bills=[bill], binding=binding,
                                       policy=dual_policy)
        assert many == {"bill-1": one}
        assert one.paid_in_round == Decimal(0)
