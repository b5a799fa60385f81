"""Row rendering at the edges: user text that cannot format or mention, clipping per field
that never splits an escape, totals after several payments, many currencies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from billbot.codat.models import Bill
from billbot.domain.digest import DigestSummary
from billbot.slackapp.blocks import bill_row
from billbot.slackapp.digest_header import totals_text
from billbot.slackapp.mrkdwn import BACKTICK_LOOKALIKE, ZERO_WIDTH, clip_mrkdwn, user_text
from billbot.slackapp.row_model import PaymentState, PaymentSummary, RowState

TODAY = date(2026, 11, 22)


def make(**changes: Any) -> Bill:
    data: dict[str, Any] = {
        "id": "b1", "reference": "INV-1", "supplierRef": {"id": "s1", "supplierName": "Acme"},
        "issueDate": "2026-11-01T00:00:00", "dueDate": "2026-11-10T00:00:00",
        "currency": "GBP", "status": "Open", "totalAmount": "1000.00", "amountDue": "1000.00"}
    data.update(changes)
    return Bill.model_validate(data)


def paid(amount: str) -> PaymentSummary:
    return PaymentSummary(state=PaymentState.SUCCEEDED, amount=Decimal(amount), currency="GBP",
                          payer_id="U0PAT", at=datetime(2026, 11, 22, tzinfo=UTC))


def text_of(bill: Bill, state: RowState | None = None) -> str:
    return str(bill_row(bill, state or RowState(), today=TODAY)[0]["text"]["text"])


def test_user_text_neither_formats_nor_mentions() -> None:
    out = user_text("*bold* _it_ ~x~ `code` <!here> <@U123> a&b", 200)
    assert "<" not in out and ">" not in out
    assert "&lt;!here&gt;" in out and "a&amp;b" in out
    for marker in "*_~":
        assert f"{ZERO_WIDTH}{marker}{ZERO_WIDTH}" in out
    assert "`" not in out and f"{BACKTICK_LOOKALIKE}code{BACKTICK_LOOKALIKE}" in out


def test_clipping_never_splits_an_escape() -> None:
    out = user_text("&" * 50, 10)
    assert out.count("&amp;") == 9 and out.endswith("…")
    assert clip_mrkdwn("abc &amp; def", 7) == "abc …"
    assert clip_mrkdwn("short", 10) == "short"


def test_a_huge_supplier_and_reference_leave_amount_due_date_and_status_visible() -> None:
    bill = make(reference="R&" * 2000, supplierRef={"id": "s1", "supplierName": "*" * 5000})
    text = text_of(bill, RowState(approvers=("U0ANN",)))
    assert len(text) <= 3000
    assert "*GBP 1,000.00* due" in text and "12 days overdue" in text
    assert "Approved by <@U0ANN>" in text


def test_three_partial_payments_show_their_total_and_count() -> None:
    bill = make(status="PartiallyPaid", amountDue="99.97")
    state = RowState(approvers=("U0ANN",), payments=(paid("300.01"), paid("300.01"),
                                                      paid("300.01")),
                     last_payment=paid("300.01"))
    text = text_of(bill, state)
    assert "Paid GBP 900.03 in 3 payments" in text and "*GBP 99.97* remains" in text


def test_a_paid_bill_is_never_overdue() -> None:
    text = text_of(make(status="Paid", amountDue="0"),
                   RowState(approvers=("U0ANN",), payments=(paid("1000.00"),),
                            last_payment=paid("1000.00")))
    assert "overdue" not in text and ":red_circle:" not in text
    assert "Paid* GBP 1,000.00 in 1 payment" in text


def test_a_header_of_200_currencies_names_a_few_and_counts_the_rest() -> None:
    totals = {f"C{i:02d}"[:3]: Decimal("1234567.89") for i in range(200)}
    text = totals_text(DigestSummary(count=200, overdue=0, totals=totals, unknown_amounts=0))
    assert text.endswith(f"and {len(totals) - 6} more currencies")
    assert text.count("*") % 2 == 0 and len(text) < 300


def test_a_payment_through_the_async_api_says_recording_until_the_books_confirm() -> None:
    """Codat has the push operation; the row says Recording… (not paid) until it succeeds."""
    pending = PaymentSummary(state=PaymentState.IN_PROGRESS, amount=Decimal("250.00"),
                             currency="GBP", payer_id="U0PAT", recording=True)
    text = text_of(make(), RowState(last_payment=pending, payments=(pending,)))
    assert "Recording… payment of GBP 250.00 by <@U0PAT>" in text
    assert "waiting for the books to confirm it" in text and "Paid" not in text
    sync = PaymentSummary(state=PaymentState.IN_PROGRESS, amount=Decimal("250.00"),
                          currency="GBP", payer_id="U0PAT")
    assert "Recording" not in text_of(make(), RowState(last_payment=sync, payments=(sync,)))


def test_a_credit_note_allocation_is_told_apart_from_money_paid() -> None:
    """A credit note's part took money off the bill, none out of the bank account."""
    def credit(amount: str, covered: str) -> PaymentSummary:
        return replace(paid(amount), credit_amount=Decimal(covered))

    alone = credit("40.00", "40.00")
    text = text_of(make(amountDue="960.00"), RowState(payments=(alone,), last_payment=alone))
    assert ":receipt: Credit GBP 40.00 applied by <@U0PAT>" in text
    assert "Paid" not in text and "*GBP 960.00* remains" in text
    mixed = credit("1000.00", "40.00")
    text = text_of(make(status="Paid", amountDue="0"),
                   RowState(payments=(mixed,), last_payment=mixed))
    assert ":moneybag: *Paid* GBP 960.00 in 1 payment and credit GBP 40.00 applied by <@U0PAT>" in text
    settled = credit("1000.00", "1000.00")
    text = text_of(make(status="Paid", amountDue="0"),
                   RowState(payments=(settled,), last_payment=settled))
    assert ":receipt: *Credit* GBP 1,000.00 applied by <@U0PAT>" in text
