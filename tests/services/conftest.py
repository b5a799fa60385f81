"""Fixtures for the money services: a bound channel, a policy, bills as Codat sends them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from billbot.clock import FixedClock
from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings
from billbot.services import bindings
from billbot.services.bindings import Binding
from billbot.storage.db import session_scope
from billbot.storage.tables import AuditLog

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
