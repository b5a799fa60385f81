"""The pure money rules: roles, decisions, required approvals, approval validity."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billbot.codat.models import Bill
from billbot.domain.policy import (
    PolicySettings,
    Role,
    apply_grants,
    can_administer,
    can_approve,
    can_lift_rejection,
    can_pay,
    can_reject,
)
from billbot.domain.versions import BillVersion, approval_still_valid

POLICY = PolicySettings(approvers=frozenset({"UA", "UB"}), admins=frozenset({"UX"}))


class TestRoles:
    def test_payers_are_nobody_unless_named(self) -> None:
        assert POLICY.env_roles("UA") == {Role.APPROVER}
        assert POLICY.payer_cannot_approve
        assert POLICY.env_roles("UX") == {Role.ADMIN}
        assert POLICY.env_roles("nobody") == frozenset()

    def test_an_explicit_payer_list_replaces_the_default(self) -> None:
        policy = PolicySettings(approvers=frozenset({"UA"}), payers=frozenset({"UP"}))
        assert policy.env_roles("UA") == {Role.APPROVER}
        assert policy.env_roles("UP") == {Role.PAYER}
        assert PolicySettings(approvers=frozenset({"UA"}), payers=frozenset()).env_roles(
            "UA") == {Role.APPROVER}

    def test_grants_add_and_revocations_remove(self) -> None:
        env = POLICY.env_roles("UA")
        assert apply_grants(env, {Role.PAYER: False, Role.ADMIN: True}) == {
            Role.APPROVER, Role.ADMIN}


class TestDecisions:
    def test_only_approvers_approve(self) -> None:
        assert can_approve({Role.APPROVER})
        refused = can_approve({Role.PAYER, Role.ADMIN})
        assert not refused and "Only approvers" in refused.reason

    def test_rejecting_needs_a_reason(self) -> None:
        assert can_reject({Role.APPROVER}, "duplicate invoice")
        assert not can_reject({Role.APPROVER}, "   ")
        assert not can_reject({Role.PAYER}, "duplicate invoice")
        assert not can_reject({Role.APPROVER}, "  dup inv  ")  # 7 characters once trimmed

    def test_a_rejection_is_lifted_by_its_author_or_an_admin_with_a_reason(self) -> None:
        assert can_lift_rejection("UA", {Role.APPROVER}, "UA", None).reason == "withdraw"
        assert can_lift_rejection("UA", set(), "UA", None)  # even after losing the role
        refused = can_lift_rejection("UB", {Role.APPROVER}, "UA", "a good long reason")
        assert not refused and "<@UA>" in refused.reason
        assert not can_lift_rejection("UX", {Role.ADMIN}, "UA", "too short")
        assert can_lift_rejection("UX", {Role.ADMIN}, "UA", "checked with them").reason == (
            "override")

    def test_only_payers_pay(self) -> None:
        assert can_pay("UA", {Role.PAYER}, POLICY, ["UB"])
        assert not can_pay("UA", {Role.APPROVER}, POLICY, [])

    def test_segregation_of_duties(self) -> None:
        strict = PolicySettings(approvers=frozenset({"UA", "UB"}))  # the default
        refused = can_pay("UA", {Role.PAYER}, strict, ["UA"])
        assert not refused and "someone else" in refused.reason
        assert can_pay("UB", {Role.PAYER}, strict, ["UA"])
        relaxed = PolicySettings(approvers=frozenset({"UA"}), payer_cannot_approve=False)
        assert can_pay("UA", {Role.PAYER}, relaxed, ["UA"])

    def test_admin(self) -> None:
        assert can_administer({Role.ADMIN})
        assert not can_administer({Role.APPROVER, Role.PAYER})


class TestRequiredApprovals:
    def test_single_approval_without_a_threshold(self) -> None:
        assert POLICY.required_approvals(Decimal("1e9")) == 1

    @pytest.mark.parametrize(("due", "needed"), [
        (Decimal("999.99"), 1), (Decimal("1000"), 1), (Decimal("1000.01"), 2), (None, 2),
    ])
    def test_two_above_the_threshold(self, due: Decimal | None, needed: int) -> None:
        policy = PolicySettings(approvers=frozenset({"UA"}), dual_approval_over=Decimal(1000))
        assert policy.required_approvals(due) == needed


def _bill(**changes: object) -> Bill:
    data: dict[str, object] = {
        "id": "b1", "supplierRef": {"id": "s1"}, "issueDate": "2026-11-01",
        "dueDate": "2026-11-30T00:00:00", "currency": "GBP", "status": "Open",
        "totalAmount": 1200.5, "amountDue": 1200.5,
        "sourceModifiedDate": "2026-11-02T10:00:00Z",
    }
    data.update(changes)
    return Bill.model_validate(data)


class TestVersions:
    def test_version_of_a_bill_and_json_round_trip(self) -> None:
        version = BillVersion.of(_bill())
        assert version == BillVersion(
            total_amount=Decimal("1200.5"), amount_due=Decimal("1200.5"),
            due_date=date(2026, 11, 30), currency="GBP", supplier_id="s1",
            source_modified_date=datetime(2026, 11, 2, 10, tzinfo=UTC))
        assert version.to_json()["amountDue"] == "1200.5"
        assert BillVersion.from_json(version.to_json()) == version

    @pytest.mark.parametrize("change", [
        {"totalAmount": 1300}, {"amountDue": 1000}, {"dueDate": "2026-12-01"},
        {"currency": "EUR"}, {"supplierRef": {"id": "s2"}},
    ])
    def test_any_change_voids_the_approval(self, change: dict[str, object]) -> None:
        baseline = BillVersion.of(_bill())
        assert not approval_still_valid(baseline, Decimal(0), BillVersion.of(_bill(**change)))

    def test_a_new_source_modified_date_alone_does_not(self) -> None:
        baseline = BillVersion.of(_bill())
        current = BillVersion.of(_bill(sourceModifiedDate="2026-11-20T00:00:00Z"))
        assert approval_still_valid(baseline, Decimal(0), current)

    def test_billbots_own_partial_payment_keeps_the_approval(self) -> None:
        baseline = BillVersion.of(_bill())
        after = BillVersion.of(_bill(amountDue=200.5, status="PartiallyPaid"))
        assert approval_still_valid(baseline, Decimal(1000), after)
        assert not approval_still_valid(baseline, Decimal(999), after)

    def test_unknown_amount_due(self) -> None:
        baseline = BillVersion.of(_bill(amountDue=None))
        assert approval_still_valid(baseline, Decimal(0), baseline)
        assert not approval_still_valid(baseline, Decimal(0), BillVersion.of(_bill()))
        assert not approval_still_valid(BillVersion.of(_bill()), Decimal(0), baseline)

    @given(
        due=st.decimals(min_value=0, max_value=10**9, places=2),
        paid=st.decimals(min_value=0, max_value=10**9, places=2),
        drift=st.decimals(min_value=-100, max_value=100, places=2),
    )
    def test_valid_exactly_when_payments_explain_amount_due(
        self, due: Decimal, paid: Decimal, drift: Decimal
    ) -> None:
        baseline = BillVersion(Decimal(10**10), due, date(2026, 1, 1), "GBP", "s")
        current = BillVersion(Decimal(10**10), due - paid + drift, date(2026, 1, 1), "GBP", "s")
        assert approval_still_valid(baseline, paid, current) == (drift == 0)
