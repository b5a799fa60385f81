"""Pay runs whose bills become fewer payments (one per supplier, one batch): choosing the
bills, reaching the review, choosing the grouping, and reading what the books recorded."""

from __future__ import annotations

from typing import Any

from billbot.sandbox.slack import radio_buttons
from billbot.sandbox.slack.model import Message, View
from billbot.slackapp.payrun_review_blocks import BLOCK_GROUPING, LABELS
from tests.e2e.conftest import ANN, CHANNEL, PAT, Stack, eventually, post_digest
from tests.support.payrun_steps import (
    approve_all,
    click_pay_approved,
    form_of,
    review_of,
    run_messages,
    run_text,
    through_the_pages,
)

Chosen = dict[str, list[dict[str, Any]]]  # supplier id -> its bills in the run


def grouped(grouping: str) -> dict[str, dict[str, Any]]:
    """Review values choosing `grouping` (each | supplier | batch)."""
    return {BLOCK_GROUPING: {BLOCK_GROUPING: radio_buttons(grouping, LABELS[grouping])}}


def offered_groupings(review: View) -> list[str]:
    return [o["value"] for b in review.definition["blocks"] if b.get("block_id") == BLOCK_GROUPING
            for o in b["element"]["options"]]


def with_forged_option(stack: Stack, review: View, grouping: str) -> None:
    """The review as only a forged client could have it: `grouping` offered too."""
    forged = dict(review.definition)
    blocks = [b for b in review.definition["blocks"] if b.get("block_id") != BLOCK_GROUPING]
    option = {"text": {"type": "plain_text", "text": LABELS[grouping]}, "value": grouping}
    blocks.insert(-1, {"type": "input", "block_id": BLOCK_GROUPING,
                       "label": {"type": "plain_text", "text": "Payments"},
                       "element": {"type": "radio_buttons", "action_id": BLOCK_GROUPING,
                                   "options": [option]}})
    forged["blocks"] = blocks
    stack.workspace.views.answer_update(review.id, forged)


def suppliers_with(stack: Stack, digest: Message, *, currency: str, suppliers: int,
                   per_supplier: int = 2) -> Chosen:
    """`per_supplier` open bills in `currency` of each of the first `suppliers` suppliers
    with that many in the digest."""
    shown = str(digest.blocks)
    per: Chosen = {}
    for bill in sorted(stack.sandbox.main_ledger.bills.values(), key=lambda b: str(b["id"])):
        if bill["status"] == "Open" and bill["currency"] == currency \
                and bill.get("amountDue") and bill["id"] in shown:
            per.setdefault(bill["supplierRef"]["id"], []).append(dict(bill))
    chosen = {s: bills[:per_supplier] for s, bills in per.items() if len(bills) >= per_supplier}
    assert len(chosen) >= suppliers, f"the seed has {suppliers} suppliers of {currency} bills"
    return dict(list(chosen.items())[:suppliers])


async def reviewed(stack: Stack, *, suppliers: int = 2, foreign: int = 0,
                   digest: Message | None = None, chosen: Chosen | None = None
                   ) -> tuple[Message, Chosen, View]:
    """A run of two GBP bills each of `suppliers` suppliers (and of `foreign` USD ones),
    approved, opened by Pat, through the form to the review (from `digest` and with the
    bills `chosen` already, if given)."""
    main = digest or await post_digest(stack)
    chosen = chosen or suppliers_with(stack, main, currency="GBP", suppliers=suppliers)
    if foreign:
        chosen |= suppliers_with(stack, main, currency="USD", suppliers=foreign,
                                 per_supplier=1)
    await approve_all(stack, [b["id"] for bills in chosen.values() for b in bills], ANN)
    await click_pay_approved(stack.driver, PAT, CHANNEL, main)
    await eventually(lambda: form_of(stack.driver, PAT))
    await through_the_pages(stack.driver, PAT)
    review = review_of(stack.driver, PAT)
    assert review is not None
    return main, chosen, review


def every_bill(chosen: Chosen) -> list[str]:
    return [b["id"] for bills in chosen.values() for b in bills]


def books_payments(stack: Stack) -> list[dict[str, Any]]:
    """The payments billbot recorded (the seed's books hold earlier ones)."""
    return [p for p in stack.sandbox.main_ledger.bill_payments.values()
            if str(p.get("reference") or "").startswith("billbot-")]


def payment_pushes(stack: Stack) -> list[Any]:
    return [r for r in stack.sandbox.pushes.of(stack.company_id).values()
            if r.operation["dataType"] == "billPayments"]


def bills_of(payment: dict[str, Any]) -> list[str]:
    return sorted(link["id"] for line in payment["lines"] for link in line["links"])


def recorded(stack: Stack, count: int, of: int) -> bool:
    messages = run_messages(stack.workspace, CHANNEL)
    return bool(messages) and f"{count} of {of} recorded" in run_text(messages[-1])


__all__ = ["Chosen", "bills_of", "books_payments", "every_bill", "grouped",
           "offered_groupings", "payment_pushes", "recorded", "reviewed", "suppliers_with",
           "with_forged_option"]
