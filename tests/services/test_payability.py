"""Whether a bill may be paid and from which accounts: the rules the Pay button, the pay
modal and start_payment share (services.payability)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from billbot.codat.models import BankAccountOption
from billbot.domain.policy import PolicySettings, Role
from billbot.services.bill_status import BillApprovalState, PaymentView, Rejection
from billbot.services.payability import (
    PAYMENT_IN_PROGRESS,
    amount_problem,
    bill_problem,
    date_problem,
    latest_payment_date,
    payment_accounts,
    payment_problem,
    why_not_payable,
)

from .conftest import T0, make_bill

PAYER = frozenset({Role.PAYER})


def approved(**changes: object) -> BillApprovalState:
    fields: dict[str, object] = dict(bill_id="bill-1", round=1, approvers=("UA",), needed=1,
                                     rejected=None, paid_in_round=Decimal(0), payments=())
    fields.update(changes)
    return BillApprovalState(**fields)  # type: ignore[arg-type]


class TestTheBill:
    def test_only_open_bills_with_a_known_amount_due(self) -> None:
        assert bill_problem(make_bill()) is None
        assert "only open or part-paid" in (bill_problem(make_bill(status="Paid")) or "")
        assert "amount due is unknown" in (bill_problem(make_bill(amountDue=None)) or "")


class TestTheAmount:
    @pytest.mark.parametrize(("amount", "problem"), [
        ("0", "more than zero"), ("-1", "more than zero"), ("NaN", "more than zero"),
        ("100.01", "more than the GBP 100.00 still due"), ("1.005", "at most 2 decimals"),
    ])
    def test_refused(self, amount: str, problem: str) -> None:
        found = amount_problem(Decimal(amount), due=Decimal("100.00"), currency="GBP")
        assert found is not None and problem in found

    def test_the_whole_amount_due_and_less_are_fine(self) -> None:
        for amount in ("100", "100.00", "0.01", "1.50"):
            assert amount_problem(Decimal(amount), due=Decimal(100), currency="GBP") is None
        assert amount_problem(Decimal(5000), due=None, currency="GBP") is None

    def test_the_currency_decides_the_decimals(self) -> None:
        assert "at most 0 decimals" in (amount_problem(Decimal("1.5"), due=None, currency="JPY")
                                        or "")

    def test_payment_problem_is_the_bill_then_the_amount(self) -> None:
        assert "only open" in (payment_problem(make_bill(status="Void"), Decimal(1)) or "")
        assert "still due" in (payment_problem(make_bill(), Decimal(5000)) or "")
        assert payment_problem(make_bill(), Decimal("1200.50")) is None


class TestWhyNotPayable:
    policy = PolicySettings(approvers=frozenset({"UA"}), payers=frozenset({"UP", "UA"}),
                            payer_cannot_approve=True)

    def why(self, state: BillApprovalState, user: str = "UP") -> str | None:
        return why_not_payable(make_bill(), state, user_id=user, policy=self.policy, roles=PAYER)

    def test_an_approved_bill_for_another_payer(self) -> None:
        assert self.why(approved()) is None

    def test_every_reason_in_order(self) -> None:
        rejected = approved(rejected=Rejection(by="UB", reason="dup", at=T0))
        assert "rejected by <@UB>" in (self.why(rejected) or "")
        assert "approved again" in (self.why(approved(lapsed=True)) or "")
        assert "needs 1 approval(s)" in (self.why(approved(approvers=())) or "")
        assert self.why(approved()) is None
        assert self.why(approved(approvers=("UA",)), user="UA") is not None  # approved it

    def test_a_payment_in_progress(self) -> None:


        running = PaymentView(intent_id=uuid.uuid4(), state="calling", amount=Decimal(1),
                              currency="GBP", payer_id="UQ", account_name=None,
                              payment_date=T0.date(), at=T0 + timedelta(minutes=1), reason=None)
        assert self.why(approved(payments=(running,))) == PAYMENT_IN_PROGRESS


def test_accounts_are_active_in_the_bill_or_base_currency() -> None:
    options = [BankAccountOption.model_validate(o) for o in (
        {"id": "gbp", "currency": "GBP", "status": "Active"},
        {"id": "usd", "currency": "usd", "status": "Active"},
        {"id": "eur", "currency": "EUR", "status": "Active"},
        {"id": "old", "currency": "GBP", "status": "Archived"},
        {"id": "none", "status": "Active"},
    )]
    chosen = payment_accounts(options, make_bill(), base_currency="USD")
    assert [a.id for a in chosen] == ["gbp", "usd"]
    assert [a.id for a in payment_accounts(options, make_bill(), None)] == ["gbp"]


def test_a_payment_date_from_the_issue_date_to_a_year_ahead_is_accepted() -> None:
    today = date(2026, 12, 1)
    issued = date(2026, 11, 3)
    assert date_problem(issued, issued_on=issued, today=today) is None
    assert date_problem(date(2027, 12, 1), issued_on=issued, today=today) is None
    assert date_problem(today, issued_on=None, today=today) is None


def test_a_payment_date_before_the_issue_date_or_over_a_year_ahead_is_refused() -> None:
    today = date(2026, 12, 1)
    early = date_problem(date(2026, 11, 2), issued_on=date(2026, 11, 3), today=today)
    assert early is not None and "2026-11-03" in early
    late = date_problem(date(2030, 1, 1), issued_on=date(2026, 11, 3), today=today)
    assert late is not None and "2027-12-01" in late
    assert date_problem(date(2027, 12, 2), issued_on=None, today=today) is not None
    assert latest_payment_date(date(2028, 2, 29)) == date(2029, 2, 28)
