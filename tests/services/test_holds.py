"""Holds in the services, on a real database (SQLite file, and PostgreSQL when configured):
one hold per bill, never on a bill being paid, and approval and payment refused while held
even when they race the hold."""

from __future__ import annotations

from sqlalchemy import Engine

from billbot.domain.policy import PolicySettings
from billbot.services import approvals, holds, payability
from billbot.services.approvals import ApprovalResult, Outcome
from billbot.services.bindings import Binding
from billbot.services.payments import StartOutcome
from billbot.storage.db import session_scope

from .conftest import T0, approve, audit_of, make_bill, run_together, start, track_of

QUESTION = "Which purchase order is this for?"


def hold(engine: Engine, binding: Binding, policy: PolicySettings, user: str,
         question: str = QUESTION) -> ApprovalResult:
    with session_scope(engine) as session:
        return holds.hold(session, bill=make_bill(), binding=binding, user_id=user,
                          question=question, request_id=f"hold-{user}", policy=policy, at=T0)


def release(engine: Engine, binding: Binding, policy: PolicySettings,
            user: str) -> ApprovalResult:
    with session_scope(engine) as session:
        return holds.release(session, bill=make_bill(), binding=binding, user_id=user,
                             request_id=f"release-{user}", policy=policy, at=T0)


class TestHold:
    def test_approvers_and_admins_hold_payers_do_not(self, engine: Engine, binding: Binding,
                                                     policy: PolicySettings) -> None:
        refused = hold(engine, binding, policy, "UP")
        assert refused.outcome == Outcome.REFUSED and refused.message == holds.NOT_ALLOWED
        assert hold(engine, binding, policy, "UX").outcome == Outcome.RECORDED
        assert audit_of(engine, "bill-1") == ["access.refused", "hold.placed"]

    def test_one_hold_at_a_time(self, engine: Engine, binding: Binding,
                                policy: PolicySettings) -> None:
        results = run_together(4, lambda i: hold(engine, binding, policy, ("UA", "UB", "UC",
                                                                            "UX")[i]))
        assert sorted(r.outcome.value for r in results) == ["already_done"] * 3 + ["recorded"]
        assert audit_of(engine, "bill-1").count("hold.placed") == 1

    def test_a_short_question_is_refused(self, engine: Engine, binding: Binding,
                                         policy: PolicySettings) -> None:
        assert hold(engine, binding, policy, "UA", "  ? ").outcome == Outcome.REFUSED
        assert holds.question_problem("x" * (holds.QUESTION_MAX_CHARS + 1))

    def test_a_bill_being_paid_is_not_held(self, engine: Engine, binding: Binding,
                                           policy: PolicySettings) -> None:
        approve(engine, binding, policy, make_bill(), "UA")
        assert start(engine, binding, policy, make_bill()).outcome == StartOutcome.STARTED
        result = hold(engine, binding, policy, "UB")
        assert result.outcome == Outcome.REFUSED and result.message == holds.PAYING
        assert track_of(engine).held_by is None


class TestHeldBills:
    def test_approve_and_pay_are_refused_while_held(self, engine: Engine, binding: Binding,
                                                    policy: PolicySettings) -> None:
        approve(engine, binding, policy, make_bill(), "UA")
        hold(engine, binding, policy, "UB")
        with session_scope(engine) as session:
            result = approvals.approve(session, bill=make_bill(), binding=binding,
                                       user_id="UC", request_id="r", policy=policy, at=T0)
        assert result.outcome == Outcome.REFUSED and "on hold" in result.message
        assert result.state.held is not None and result.state.held.by == "UB"
        why = payability.why_not_payable(make_bill(), result.state, user_id="UP",
                                         policy=policy, roles=frozenset())
        assert why is not None and "on hold" in why
        started = start(engine, binding, policy, make_bill())
        assert started.outcome == StartOutcome.REFUSED and "on hold" in started.message

        assert release(engine, binding, policy, "UA").outcome == Outcome.REFUSED  # not theirs
        assert release(engine, binding, policy, "UB").outcome == Outcome.RECORDED
        assert release(engine, binding, policy, "UB").outcome == Outcome.ALREADY_DONE
        assert start(engine, binding, policy, make_bill()).outcome == StartOutcome.STARTED

    def test_a_hold_racing_a_payment_leaves_one_of_them(self, engine: Engine, binding: Binding,
                                                        policy: PolicySettings) -> None:
        """Hold and Pay at the same instant, many times: never a held bill being paid."""
        for n in range(6):
            bill_id = f"race-{n}"
            bill = make_bill(bill_id)
            approve(engine, binding, policy, bill, "UA")

            def act(i: int, bill_id: str = bill_id) -> object:
                if i == 1:
                    return start(engine, binding, policy, make_bill(bill_id))
                with session_scope(engine) as session:
                    return holds.hold(session, bill=make_bill(bill_id), binding=binding,
                                      user_id="UB", question=QUESTION, request_id=None,
                                      policy=policy, at=T0)

            run_together(2, act)
            track = track_of(engine, bill_id)
            assert (track.held_by is None) != (track.open_intent_id is None)
