"""No approval is recorded once a bill is paid, void, or has nothing left due."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings
from billbot.services import approvals
from billbot.services.approvals import Outcome
from billbot.services.bindings import Binding
from billbot.services.final_payment import ALREADY_PAID
from billbot.services.payment_runner import PaymentRunner
from billbot.storage.db import session_scope

from .conftest import T0, audit_of, make_bill, start
from .fake_codat import FakeCodat


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


async def test_a_read_that_lags_behind_billbots_full_payment_is_refused_but_a_later_edit_is_not(
        engine: Engine, binding: Binding, policy: PolicySettings, approved_bill: Bill,
        fake: FakeCodat, runner: PaymentRunner) -> None:
    started = start(engine, binding, policy, approved_bill)
    assert started.intent_id
    assert (await runner.execute(started.intent_id, fake)).status == "succeeded"
    # Codat still answers the bill as it was before the payment: billbot's record decides.
    lagging = approve(engine, binding, policy, amountDue=1200.5)
    assert lagging.outcome is Outcome.REFUSED and lagging.message == ALREADY_PAID
    # The payment was deleted in the books later: the bill is Open again, modified since.
    reopened = approve(engine, binding, policy, amountDue=1200.5,
                       sourceModifiedDate="2026-11-23T10:00:00Z")
    assert reopened.outcome is Outcome.RECORDED, reopened.message
