"""Approve all's modals stay within Slack's limits however many bills a digest shows: 100
blocks a view, 3,000 characters a section and a private_metadata (checked by the local
Slack's own Block Kit checker)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from billbot.codat.models import Bill
from billbot.context_token import ContextSigner, ModalContext
from billbot.sandbox.slack.blockkit import check_view
from billbot.services.bulk_approvals import (
    MAX_CONFIRMED,
    BulkLine,
    bill_key,
    confirmed_token,
    split_tokens,
    totals,
)
from billbot.slackapp.approve_all_blocks import confirmation_view, result_view
from billbot.slackapp.approve_all_picks import narrowed_view, ticked

TODAY = date(2026, 11, 22)


def bill(i: int, *, due: int, currency: str = "GBP", amount: str | None = "100.00") -> Bill:
    return Bill.model_validate({
        "id": f"b{i}", "reference": f"INV-{i}",
        "supplierRef": {"id": f"s{i % 3}", "supplierName": f"Supplier <{i % 3}>"},
        "issueDate": TODAY - timedelta(days=30), "dueDate": TODAY + timedelta(days=due),
        "currency": currency, "status": "Open",
        "totalAmount": Decimal(amount) if amount else None,
        "amountDue": Decimal(amount) if amount else None})

LONG = "Very Long Supplier Name Holdings International " * 4


def many(count: int) -> list[BulkLine]:
    bills = [bill(i, due=i % 9 - 4, currency=("GBP", "USD", "EUR")[i % 3]) for i in range(count)]
    bills = [b.model_copy(update={"reference": f"{LONG}{i}"}) for i, b in enumerate(bills)]
    return [BulkLine(b, None if i % 2 else f"<@U0BEN> rejected it; {LONG}")
            for i, b in enumerate(bills)]


def test_a_confirmation_of_600_bills_fits_one_modal() -> None:
    lines = many(600)
    chosen = [ln.bill for ln in lines if ln.reason is None][:MAX_CONFIRMED]
    kept = {b.id for b in chosen}
    lines = [ln for ln in lines if ln.reason is not None or ln.bill.id in kept]
    signer = ContextSigner(b"k" * 32)
    ctx = ModalContext(bill_id="approve-all", channel_id="C0123456789ABCDEF",
                       message_ts="1796543642.076234", user_id="U0123456789ABCDEF",
                       issued_at=datetime.now(UTC).isoformat(),
                       bills=",".join(confirmed_token(b) for b in chosen))
    sums, unknown = totals(chosen)
    view = confirmation_view(lines, today=TODAY, metadata=signer.dump(ctx), sums=sums,
                             unknown=unknown, left_for_later=300 - MAX_CONFIRMED)
    assert check_view(view) == []
    assert len(view["blocks"]) <= 100
    text = str(view["blocks"])
    assert f"Approve *{len(chosen)} bills*" in text and "more" in text
    assert split_tokens(ctx.bills) == {bill_key(b.id): confirmed_token(b)[10:] for b in chosen}


def test_totals_per_currency_count_unknown_amounts_apart() -> None:
    bills = [bill(1, due=1), bill(2, due=1, currency="USD", amount="0.10"), bill(3, due=1,
                                                                              amount=None)]
    assert totals(bills) == ({"GBP": Decimal("100.00"), "USD": Decimal("0.10")}, 1)


def test_a_result_of_600_bills_fits_one_modal() -> None:
    lines = many(600)
    approved = [ln.bill for ln in lines[:200]]
    pending = [(ln.bill, "Approval recorded: 1 of 2 needed.") for ln in lines[200:400]]
    refused = [(ln.bill, LONG) for ln in lines[400:]]
    view = result_view(approved, pending, refused, today=TODAY)
    assert check_view(view) == []
    assert "200 approved" in str(view["blocks"][0])


def test_only_bills_the_signed_context_lists_can_be_ticked() -> None:
    listed = [confirmed_token(bill(i, due=1)) for i in range(3)]
    forged = "f" * 18
    def option(value: str) -> dict[str, object]:
        return {"text": {"type": "plain_text", "text": "INV"}, "value": value}

    state = {"pick-0": {"bills": {"type": "checkboxes", "selected_options": [
        option(f"{forged}:GBP:1000000"), option(f"{listed[2]}:GBP:100.00"),
        option(f"{listed[0]}:GBP:100.00")]}}}
    offered = [{"type": "input", "block_id": "pick-0", "element": {
        "type": "checkboxes", "action_id": "bills",
        "options": state["pick-0"]["bills"]["selected_options"]}}]
    picked = ticked({"state": {"values": state}, "blocks": offered}, listed)
    assert picked is not None
    assert [o["value"].split(":")[0] for o in picked] == [listed[0], listed[2]]
    # A value the view never offered picks nothing.
    assert ticked({"state": {"values": state}, "blocks": []}, listed) == []
    assert ticked({"state": {"values": {}}}, listed) is None  # no checkboxes: all listed
    view = narrowed_view(picked, metadata="x", left_out=1)
    assert check_view(view) == []
    assert "Approve *2 bills*" in str(view["blocks"][0]) and "GBP 200.00" in str(view["blocks"][0])
