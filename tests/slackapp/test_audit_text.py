"""Audit lines name the bill as people know it and people as mentions."""

from __future__ import annotations

from datetime import UTC, datetime

from billbot.codat.models import Bill
from billbot.slackapp.audit_text import audit_text, matches_text
from billbot.storage.tables import AuditLog

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
BILL = Bill.model_validate({
    "id": "b-1", "reference": "INV-1", "supplierRef": {"id": "s", "supplierName": "Acme <Ltd>"},
    "issueDate": "2026-11-01T00:00:00", "dueDate": "2026-11-25T00:00:00", "currency": "GBP",
    "status": "Paid", "totalAmount": 1500.01, "amountDue": 0})


def entry(action: str, actor: str = "UA", **detail: object) -> AuditLog:
    return AuditLog(at=AT, actor=actor, action=action, company_id="c", connection_id="k",
                    bill_id="b-1", detail=dict(detail),
                    bill_version={"totalAmount": "1500.01", "currency": "GBP"})


def test_a_payment_line_names_bill_supplier_amount_and_payer() -> None:
    text = audit_text([entry("payment.succeeded", actor="billbot", payer_id="UP",
                             amount="250", currency="GBP")], reference="INV-1",
                      bills={"b-1": BILL})
    line = text.splitlines()[1]
    assert "*INV-1* · Acme &lt;Ltd&gt; · GBP 1,500.01" in line
    assert "payment of GBP 250.00 by <@UP>" in line and "b-1" not in line


def test_without_the_bill_the_recorded_reference_and_amount_are_shown() -> None:
    line = audit_text([entry("rejection.overridden", actor="UX", reference="INV-1",
                             rejected_by="UB", reject_reason="dup", reason="checked it")]
                      ).splitlines()[1]
    assert "<@UX>" in line and "*INV-1* · GBP 1,500.01" in line
    assert "rejected by <@UB> “dup”" in line and "reason “checked it”" in line


def test_several_matches_are_listed_briefly() -> None:
    text = matches_text([BILL] * 12, "acme", shown=10)
    assert text.startswith("12 bills match `acme`") and text.endswith("…and 2 more.")
    assert "*INV-1* · Acme &lt;Ltd&gt; · GBP 1,500.01 · Paid" in text


def test_mentions_in_billbot_refusals_stay_mentions() -> None:
    line = audit_text([entry("access.refused", reason="<@UB> rejected this bill: “<b>”")]
                      ).splitlines()[1]
    assert "reason “<@UB> rejected this bill: “&lt;b&gt;”" in line
