"""Fixtures for the money services: a bound channel, a policy, bills as Codat sends them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from billbot.clock import FixedClock
from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings
from billbot.services import approvals, bindings
from billbot.services.bill_status import Outcome
from billbot.services.bindings import Binding
from billbot.services.payment_runner import PaymentRunner
from billbot.services.payments import StartResult, start_payment
from billbot.storage.audit import BillRef
from billbot.storage.db import session_scope
from billbot.storage.tables import AuditLog, BillTrack, PaymentIntent

from .fake_codat import FakeCodat

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
COMPANY = "8a210b68-6988-11ed-a1eb-0242ac120002"
CONNECTION = "2e9d2c44-f675-40ba-8049-353bfcb5e171"

BillFactory = Callable[..., Bill]


def make_bill(bill_id: str = "bill-1", **changes: Any) -> Bill:
    data: dict[str, Any] = {
        "id": bill_id, "reference": f"INV-{bill_id}",
        "supplierRef": {"id": "sup-1", "supplierName": "Northwind"},
        "issueDate": "2026-11-01T00:00:00", "dueDate": "2026-11-25T00:00:00",
        "currency": "GBP", "status": "Open", "totalAmount": 1200.5, "amountDue": 1200.5,
        "sourceModifiedDate": "2026-11-01T10:00:00Z",
    }
    data.update(changes)
    return Bill.model_validate(data)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def policy() -> PolicySettings:
    return PolicySettings(approvers=frozenset({"UA", "UB", "UC"}),
                          payers=frozenset({"UP", "UQ", "UA"}), admins=frozenset({"UX"}))


@pytest.fixture
def dual_policy(policy: PolicySettings) -> PolicySettings:
    return PolicySettings(approvers=policy.approvers, payers=policy.payers, admins=policy.admins,
                          dual_approval_over=Decimal(1000))


@pytest.fixture
def binding(engine: Engine) -> Binding:
    with session_scope(engine) as session:
        return bindings.ensure_default_binding(session, channel_id="CBILLS", company_id=COMPANY,
                                               connection_id=CONNECTION, at=T0)


def audit_actions(session: Session, bill_id: str | None = None) -> list[str]:
    query = select(AuditLog).order_by(col(AuditLog.id))
    if bill_id is not None:
        query = query.where(AuditLog.bill_id == bill_id)
    return [entry.action for entry in session.exec(query).all()]


def audit_of(engine: Engine, bill_id: str | None = None) -> list[str]:
    with session_scope(engine, read_only=True) as session:
        return audit_actions(session, bill_id)


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Start `count` threads at one barrier; re-raise the first failure."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


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
