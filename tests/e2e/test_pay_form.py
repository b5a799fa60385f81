"""The pay form catches mistakes before Codat does (issue 14, problem 4): payment dates outside
the bill's issue date and a year ahead, amounts typed the way people type them, a review step
before anything is recorded, and Codat's refusals told to the payer, not the channel."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from billbot.sandbox.codat.faults import FaultKind
from tests.e2e.conftest import (
    CHANNEL,
    PAT,
    Stack,
    approve,
    current,
    due_bills,
    eventually,
    modal_account_ids,
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.support.pay_review import review_of, submit_pay


def gbp_bill(stack: Stack, amount: str) -> dict[str, Any]:
    return dict(next(b for b in due_bills(stack) if b["currency"] == "GBP"
                     and b.get("amountDue") == Decimal(amount)))


def payment_posts(stack: Stack) -> int:
    """Payments Codat was asked to record (refused ones included)."""
    return sum(1 for r in stack.sandbox.requests if r.method == "POST" and r.path.endswith("/payment"))


async def test_dates_outside_issue_date_and_a_year_ahead_are_refused_inline(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = gbp_bill(stack, "1500.01")
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    account = modal_account_ids(view)[0]
    issued = date.fromisoformat(str(bill["issueDate"])[:10])
    for day, says in ((issued - timedelta(days=1), "issue date"),
                      (date(2030, 1, 1), "more than a year ahead"),
                      (today() + timedelta(days=367), "more than a year ahead")):
        answer = await stack.driver.submit_view(PAT, pay_values(account, "100.00", day.isoformat()))
        body = answer.json()
        assert body["response_action"] == "errors", day
        assert says in body["errors"]["date"], body
    assert payment_posts(stack) == 0


async def test_amounts_typed_like_people_type_them(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = gbp_bill(stack, "1500.01")
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    account = modal_account_ids(view)[0]
    for typed in ("1e3", "nan", "inf", "$1,500.01", "USD 1500", "1500.001", "0", "-5"):
        answer = await stack.driver.submit_view(PAT, pay_values(account, typed,
                                                                today().isoformat()))
        assert answer.json()["response_action"] == "errors", typed
        assert "amount" in answer.json()["errors"], typed
    assert payment_posts(stack) == 0
    for typed in ("£1,500.01", "GBP 1500.01", "1500"):
        answer = await stack.driver.submit_view(PAT, pay_values(account, typed,
                                                                today().isoformat()))
        assert answer.outcome == "updated", (typed, answer.body)
        assert review_of(stack.driver, PAT) is not None, typed
        view = await open_pay_modal(stack, main, bill["id"])  # back to a fresh form
    await submit_pay(stack.driver, PAT, pay_values(account, "1,500.01", today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    assert stack.payments()[0].amount == Decimal("1500.01")
    await eventually(lambda: "Paid" in row_text(current(stack, main.ts), bill["id"]))


async def test_the_review_step_states_payee_amount_account_and_date(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = gbp_bill(stack, "1500.01")
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    account = modal_account_ids(view)[0]
    label = next(o["text"]["text"] for b in view.definition["blocks"]
                 if b.get("block_id") == "account" for o in b["element"]["options"]
                 if o["value"] == account)
    values = pay_values(account, "1,000.00", today().isoformat())
    values["account"]["account"]["selected_option"]["text"]["text"] = label
    answer = await stack.driver.submit_view(PAT, values)
    assert answer.outcome == "updated"
    review = review_of(stack.driver, PAT)
    assert review is not None
    text = str(review.definition)
    supplier = stack.sandbox_bill(bill["id"])["supplierRef"]["supplierName"]
    for part in (supplier, "GBP 1,000.00", label, today().strftime("%a %d %b %Y")):
        assert part in text, (part, text)
    assert payment_posts(stack) == 0  # nothing recorded before the confirmation
    await stack.driver.submit_view(PAT, {})
    await eventually(lambda: len(stack.payments()) == 1)
    assert stack.payments()[0].amount == Decimal("1000.00")


async def test_a_codat_refusal_is_told_in_the_form_not_on_the_row(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = gbp_bill(stack, "1500.01")
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    stack.sandbox.faults.next(FaultKind.REFUSE, 1, path="/payment$", method="POST")
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0], "100.00",
                                                   today().isoformat()))

    def told() -> bool:
        shown = stack.driver.open_view(PAT)
        return shown is not None and "closed for payments" in str(shown.definition)

    await eventually(told)
    await eventually(lambda: "failed" in row_text(current(stack, main.ts), bill["id"]))
    row = row_text(current(stack, main.ts), bill["id"])
    assert "closed for payments" not in row and "see the payer" in row
    assert not any("closed for payments" in m.text for m in stack.workspace.messages(CHANNEL))
