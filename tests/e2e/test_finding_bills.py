"""Finding any bill (issue 14, problem 6): `/bills show` and `/bills audit` take a reference, a
supplier's name or a Codat bill id, for paid bills too; audit lines name the bill's reference,
supplier and amount and the people as mentions, and payment entries show their amount."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billbot.money import format_money
from tests.e2e.conftest import (
    ADA,
    ANN,
    CHANNEL,
    PAT,
    Stack,
    approve,
    ephemeral_texts,
    eventually,
    first_due,
    modal_account_ids,
    open_pay_modal,
    pay_values,
    post_digest,
    today,
)
from tests.support.pay_review import submit_pay


async def paid_bill(stack: Stack) -> dict[str, Any]:
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)
    view = await open_pay_modal(stack, main, bill["id"], user=PAT)
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0],
                                                   str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: stack.sandbox_bill(bill["id"])["status"] == "Paid")
    return bill


async def answer(stack: Stack, user: str, command: str, marker: str) -> str:
    before = len(ephemeral_texts(stack, user))
    response = await stack.driver.slash_command(user, CHANNEL, command)
    assert response.status == 200
    found = await eventually(lambda: [t for t in ephemeral_texts(stack, user)[before:]
                                      if marker in t])
    return found[-1]


async def test_show_and_audit_find_a_paid_bill_by_its_reference(stack: Stack) -> None:
    bill = await paid_bill(stack)
    reference = str(bill["reference"])
    supplier = str(bill["supplierRef"]["supplierName"])
    shown = await answer(stack, ANN, f"show {reference}", "Line items")
    assert reference in shown and "Paid" in shown

    trail = await answer(stack, ADA, f"audit {reference}", "Audit trail")
    lines = trail.splitlines()[1:]
    assert len(lines) >= 4  # approval, payment started, calling, succeeded at least
    paid = format_money(Decimal(str(bill["amountDue"])), str(bill["currency"]))
    for line in lines:
        assert f"*{reference}*" in line and supplier in line, line
    succeeded = next(line for line in lines if "payment.succeeded" in line)
    assert f"payment of {paid} by <@{PAT}>" in succeeded
    approved = next(line for line in lines if "approval.recorded" in line)
    assert f"<@{ANN}>" in approved
    assert bill["id"] not in trail.replace(f"id `{bill['id']}`", "")  # no bare internal ids


async def test_show_and_audit_take_a_codat_id_or_a_supplier_name(stack: Stack) -> None:
    bill = await paid_bill(stack)
    by_id = await answer(stack, ANN, f"show {bill['id']}", "Line items")
    assert str(bill["reference"]) in by_id
    trail = await answer(stack, ADA, f"audit {bill['id']}", "Audit trail")
    assert "payment.succeeded" in trail
    supplier = str(bill["supplierRef"]["supplierName"])
    same_supplier = [b for b in stack.sandbox.main_ledger.bills.values()
                     if supplier.lower() in str(b["supplierRef"].get("supplierName")).lower()]
    marker = "bills match" if len(same_supplier) > 1 else "Line items"
    listed = await answer(stack, ANN, f"show {supplier.lower()}", marker)
    assert str(bill["reference"]) in listed
