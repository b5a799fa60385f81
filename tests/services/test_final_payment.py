"""No approval is recorded once a bill is paid, void, or has nothing left due."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from billbot.domain.policy import PolicySettings
from billbot.services import approvals
from billbot.services.approvals import Outcome
from billbot.services.bindings import Binding
from billbot.services.final_payment import ALREADY_PAID
from billbot.storage.db import session_scope

from .conftest import T0, audit_of, make_bill


def approve(engine: Engine, binding: Binding, policy: PolicySettings,
            **bill: Any) -> approvals.ApprovalResult:
    with session_scope(engine) as session:
        return approvals.approve(session, bill=make_bill(**bill), binding=binding,
                                 user_id="UA", request_id="req-1", policy=policy, at=T0)


def test_a_paid_bill_cannot_be_approved(engine: Engine, binding: Binding,
                                        policy: PolicySettings) -> None:
    result = approve(engine, binding, policy, status="Paid", amountDue=0)
    assert result.outcome is Outcome.REFUSED and result.message == ALREADY_PAID
    assert "approval.recorded" not in audit_of(engine)


def test_an_open_bill_with_nothing_due_cannot_be_approved(engine: Engine, binding: Binding,
                                                          policy: PolicySettings) -> None:
    assert approve(engine, binding, policy, amountDue=0).outcome is Outcome.REFUSED


def test_a_void_bill_is_refused_with_its_status(engine: Engine, binding: Binding,
                                                policy: PolicySettings) -> None:
    result = approve(engine, binding, policy, status="Void")
    assert result.outcome is Outcome.REFUSED and "void" in result.message


def test_an_open_bill_is_approved(engine: Engine, binding: Binding,
                                  policy: PolicySettings) -> None:
    assert approve(engine, binding, policy).outcome is Outcome.RECORDED
