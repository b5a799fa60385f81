"""The digest's one-pass fold gives what sorting the whole due list gave: the same most
urgent rows in the same order, every other due bill indexed once, the same header figures."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billbot.codat.models import Bill, BillStatus
from billbot.domain.copies import shown_of
from billbot.domain.digest import select_due_bills, summarise
from billbot.domain.due_fold import fold_due

TODAY = date(2026, 12, 7)
STATUSES = [BillStatus.OPEN, BillStatus.PARTIALLY_PAID, BillStatus.PAID, BillStatus.VOID,
            BillStatus.DRAFT]


def bill(i: int, *, due: int, status: BillStatus, supplier: int, currency: str,
         amount: str | None) -> Bill:
    return Bill.model_validate({
        "id": f"b{i}", "reference": f"INV-{i % 4}",  # references repeat: ties go to the id
        "supplierRef": {"id": f"s{supplier}", "supplierName": f"Supplier {supplier}"},
        "issueDate": TODAY - timedelta(days=40), "dueDate": TODAY + timedelta(days=due),
        "currency": currency, "status": status,
        "totalAmount": Decimal(amount) if amount else None,
        "amountDue": Decimal(amount) if amount else None})


bills_strategy = st.lists(st.tuples(
    st.integers(-20, 20), st.sampled_from(STATUSES), st.integers(0, 3),
    st.sampled_from(["GBP", "USD"]), st.sampled_from(["10.00", "0.01", None, "999.99"]),
), max_size=300).map(lambda rows: [
    bill(i, due=d, status=s, supplier=p, currency=c, amount=a)
    for i, (d, s, p, c, a) in enumerate(rows)])


@settings(max_examples=60, deadline=None)
@given(bills=bills_strategy, rows=st.sampled_from([0, 1, 3, 40, 500]),
       within=st.sampled_from([0, 7]))
def test_the_fold_matches_the_sorted_due_list(bills: list[Bill], rows: int, within: int) -> None:
    due = select_due_bills(bills, today=TODAY, within_days=within)
    folded = fold_due(iter(bills), today=TODAY, within_days=within, rows=rows)
    assert [b.id for b in folded.top] == [b.id for b in due[:rows]]
    assert sorted(folded.rest, key=lambda s: s.bill_id) == \
        sorted((shown_of(b) for b in due[rows:]), key=lambda s: s.bill_id)
    assert folded.summary == summarise(due, today=TODAY)
    assert folded.count == len(due)


def test_a_long_ledger_keeps_only_the_rows_as_bills() -> None:
    # 5,000 due bills in reverse urgency: each trim must keep the earliest seen so far.
    bills = [bill(i, due=-(i % 900), status=BillStatus.OPEN, supplier=i % 7, currency="GBP",
                  amount="1.00") for i in range(5_000)]
    folded = fold_due(bills, today=TODAY, within_days=7, rows=40)
    assert [b.id for b in folded.top] == [b.id for b in select_due_bills(
        bills, today=TODAY, within_days=7)[:40]]
    assert len(folded.rest) == 4_960
    assert folded.summary.totals == {"GBP": Decimal("5000.00")}
    assert folded.summary.overdue == 5_000 - 6  # due today: i = 0, 900, 1800 ...
