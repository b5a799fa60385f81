"""Cross-currency payments (issue 14, problem 5): a bill in another currency than the company's
base asks the rate (the books' rate prefilled) or the amount leaving the account; the payment
sent to Codat carries `currencyRate`; the review, the row and the audit show both amounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.e2e.conftest import (
    PAT,
    Stack,
    approve,
    current,
    due_bills,
    eventually,
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.security.forge import audit_rows
from tests.support.pay_review import review_of


def usd_bill(stack: Stack) -> dict[str, Any]:
    return dict(min((b for b in due_bills(stack) if b["currency"] == "USD" and b.get("amountDue")),
                    key=lambda b: b["amountDue"]))


def gbp_account(view: Any) -> str:
    for block in view.definition["blocks"]:
        if block.get("block_id") == "account":
            return str(next(o["value"] for o in block["element"]["options"]
                            if "(GBP)" in o["text"]["text"]))
    raise AssertionError("no account input")


def prefilled_rate(view: Any) -> str | None:
    for block in view.definition["blocks"]:
        if block.get("block_id") == "rate":
            value = block["element"].get("initial_value")
            return str(value) if value is not None else None
    return None


def with_rate(values: dict[str, Any], *, rate: str | None = None,
              base_amount: str | None = None) -> dict[str, Any]:
    values["rate"] = {"rate": {"type": "plain_text_input", "value": rate}}
    values["base_amount"] = {"base_amount": {"type": "plain_text_input", "value": base_amount}}
    return values


async def test_a_usd_bill_paid_from_the_gbp_account_records_the_rate(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = usd_bill(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    books = str(stack.sandbox_bill(bill["id"])["currencyRate"])
    assert prefilled_rate(view) == books == "0.781"
    answer = await stack.driver.submit_view(PAT, with_rate(
        pay_values(gbp_account(view), "1,000.00", today().isoformat()), rate=books))
    assert answer.outcome == "updated", answer.body
    review = review_of(stack.driver, PAT)
    assert review is not None
    assert "GBP 781.00" in str(review.definition) and "0.781" in str(review.definition)
    await stack.driver.submit_view(PAT, {})
    await eventually(lambda: len(stack.payments()) == 1)
    payment = stack.payments()[0]
    assert payment.amount == Decimal("1000.00") and payment.currency_rate == Decimal("0.781")
    await eventually(lambda: "USD 1,000.00 (GBP 781.00 at 0.781)"
                     in row_text(current(stack, main.ts), bill["id"]))
    started = [r for r in audit_rows(stack) if r.action == "payment.started"]
    assert started[0].detail["currency_rate"] == "0.781"
    assert started[0].detail["shown"] == "USD 1,000.00 (GBP 781.00 at 0.781)"


async def test_the_amount_leaving_the_account_gives_the_rate(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = usd_bill(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    answer = await stack.driver.submit_view(PAT, with_rate(
        pay_values(gbp_account(view), "1000", today().isoformat()), rate="0.781",
        base_amount="£800.00"))
    assert answer.outcome == "updated", answer.body
    await stack.driver.submit_view(PAT, {})
    await eventually(lambda: len(stack.payments()) == 1)
    assert stack.payments()[0].currency_rate == Decimal("0.8")
    await eventually(lambda: "USD 1,000.00 (GBP 800.00 at 0.8)"
                     in row_text(current(stack, main.ts), bill["id"]))


async def test_a_bad_rate_is_refused_inline(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = usd_bill(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    for rate, base_amount, block in (("1e-3", None, "rate"), ("0", None, "rate"),
                                     (None, None, "rate"), ("0.781", "USD 5", "base_amount")):
        answer = await stack.driver.submit_view(PAT, with_rate(
            pay_values(gbp_account(view), "1000", today().isoformat()), rate=rate,
            base_amount=base_amount), enforce_client_checks=False)
        assert answer.json()["response_action"] == "errors", rate
        assert block in answer.json()["errors"], (rate, answer.json())
    assert stack.payments() == []
