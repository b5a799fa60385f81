"""Controls a bad bill meets before it is paid, through signed requests: a possible duplicate
needs "checked, not a duplicate" in the review (and proceeding is audited), a payer's limit and
currencies are refused with the limit named, the first payment to a supplier is a warning,
and a pay run leaves a possible duplicate to be paid on its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY
from billbot.slackapp.control_blocks import BLOCK_NOT_DUPLICATE
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    PAT,
    UNSET,
    Stack,
    approve,
    audit,
    buttons,
    click,
    current,
    due_bills,
    eventually,
    first_due,
    modal_account_ids,
    no_slack_violations,
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.support.controls import NOT_DUPLICATE, edit_bill
from tests.support.pay_review import review_of, submit_pay
from tests.support.payrun_steps import (
    click_pay_approved,
    form_of,
    run_messages,
    run_text,
    through_the_pages,
)
from tests.support.payrun_steps import review_of as payrun_review

FIRST_TIME_SUPPLIER = "4109"  # the seeded Old Mill Print Co: no bill of theirs paid


def payments_of(stack: Stack, bill_id: str) -> list[Any]:
    return [p for p in stack.payments() if p.bill_id == bill_id]


def view_text(view: Any) -> str:
    return str(view.definition["blocks"])


def make_twin(stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two open GBP bills, the second edited in the books to the first's supplier and
    reference: each is a possible duplicate of the other."""
    first = first_due(stack)
    second = next(b for b in sorted(due_bills(stack), key=lambda b: b["dueDate"])
                  if b["id"] != first["id"] and b["currency"] == "GBP"
                  and b["status"] == "Open" and b.get("amountDue"))
    edit_bill(stack.settings.codat_base_url, second["id"],
              supplierId=first["supplierRef"]["id"], reference=first["reference"])
    return first, dict(stack.sandbox_bill(second["id"]))


async def test_a_duplicate_needs_the_checkbox_and_proceeding_is_audited(stack: Stack) -> None:
    first, twin = make_twin(stack)
    main = await post_digest(stack)
    # The digest's rows carry the warning, and keep it when a click re-renders them.
    line = f":warning: Possible duplicate of {first['reference']}"
    assert line in row_text(main, twin["id"]) and line in row_text(main, first["id"])
    await approve(stack, main, twin["id"])
    assert line in row_text(current(stack, main.ts), twin["id"])
    form = await open_pay_modal(stack, main, twin["id"])
    assert f"Possible duplicate of {first['reference']}" in view_text(form)
    values = pay_values(modal_account_ids(form)[0], None, today().isoformat())
    values.pop("amount")  # keep the amount due the form offers

    answer = await stack.driver.submit_view(PAT, values)
    review = review_of(stack.driver, PAT)
    assert answer.outcome == "updated" and review is not None
    assert "Possible duplicate: this supplier has" in view_text(review)
    assert first["reference"] in view_text(review)
    # Confirming without the tick: an inline error on the checkbox, nothing recorded.
    refused = await stack.driver.submit_view(PAT, {})
    body = refused.json()
    assert body["response_action"] == "errors"
    assert "Checked, not a duplicate" in body["errors"][BLOCK_NOT_DUPLICATE]
    assert payments_of(stack, twin["id"]) == []
    assert audit(stack, "payment.started") == []

    confirmed = await stack.driver.submit_view(PAT, NOT_DUPLICATE)
    assert confirmed.status == 200
    await eventually(lambda: len(payments_of(stack, twin["id"])) == 1)
    (entry,) = audit(stack, "payment.controls_overridden")
    assert entry.actor == PAT and entry.bill_id == twin["id"]
    assert entry.detail["controls"][0] == "duplicate"
    assert entry.detail["checked_not_duplicate"] is True
    no_slack_violations(stack)


async def test_a_pay_run_leaves_a_duplicate_to_be_paid_on_its_own(stack: Stack) -> None:
    first, twin = make_twin(stack)
    main = await post_digest(stack)
    shown = str(main.blocks)
    other = next(b for b in sorted(due_bills(stack), key=lambda b: b["dueDate"])
                 if b["id"] not in (first["id"], twin["id"]) and b["currency"] == "GBP"
                 and b["status"] == "Open" and b.get("amountDue") and b["id"] in shown)
    assert first["id"] in shown and twin["id"] in shown
    for bill in (first, twin, other):
        await approve(stack, current(stack, main.ts), bill["id"])
    assert (await click_pay_approved(stack.driver, PAT, CHANNEL, main)).status == 200
    await eventually(lambda: form_of(stack.driver, PAT))
    await through_the_pages(stack.driver, PAT)
    assert payrun_review(stack.driver, PAT) is not None
    await stack.driver.submit_view(PAT, {})
    await eventually(lambda: (runs := run_messages(stack.workspace, CHANNEL))
                     and "1 of 3 recorded" in run_text(runs[-1]))
    assert [p.bill_id for p in stack.payments()] == [other["id"]]
    refused = audit(stack, "payment.refused")
    assert {e.bill_id for e in refused} == {first["id"], twin["id"]}
    assert all("it is paid only on its own, with Pay" in e.detail["reason"] for e in refused)


async def approve_until_payable(stack: Stack, main: Any, bill_id: str) -> None:
    """Under a policy the row names who is asked next before anyone approves: wait for Pay."""
    await click(stack, ANN, main, bill_id, ACTION_APPROVE)
    await eventually(lambda: "Pay" in buttons(current(stack, main.ts), bill_id))


def policy_file(tmp_path: Path, limit: str) -> str:
    path = tmp_path / "policy.yml"
    path.write_text(f"""rules:
  - name: Every bill
    steps:
      - approvers: [{ANN}, {BEN}]
payers:
  - user: {PAT}
    limit: {limit}
""", encoding="utf-8")
    return str(path)


async def test_a_payment_above_the_payers_limit_is_refused_naming_it(
        stack_factory: Callable[..., Stack], tmp_path: Path) -> None:
    stack = stack_factory(billbot_policy_file=policy_file(tmp_path, "{GBP: 100}"),
                          billbot_approvers=UNSET, billbot_payers=UNSET)
    bill = first_due(stack)
    main = await post_digest(stack)
    await approve_until_payable(stack, main, bill["id"])
    form = await open_pay_modal(stack, main, bill["id"])
    answer = await submit_pay(stack.driver, PAT, pay_values(
        modal_account_ids(form)[0], "100.01", today().isoformat()))
    body = answer.json()
    assert body["response_action"] == "errors"
    assert body["errors"]["amount"] == ("GBP 100.01 is above your payment limit of "
                                        "GBP 100.00.")
    # Up to the limit is paid.
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(form)[0], "100.00",
                                                   today().isoformat()))
    await eventually(lambda: len(payments_of(stack, bill["id"])) == 1)
    no_slack_violations(stack)


async def test_a_currency_outside_the_payers_list_is_refused(
        stack_factory: Callable[..., Stack], tmp_path: Path) -> None:
    stack = stack_factory(billbot_policy_file=policy_file(tmp_path, "{EUR: 50000}"),
                          billbot_approvers=UNSET, billbot_payers=UNSET)
    bill = first_due(stack)
    main = await post_digest(stack)
    await approve_until_payable(stack, main, bill["id"])
    await click(stack, PAT, main, bill["id"], ACTION_PAY)
    view = await eventually(lambda: (v := stack.workspace.open_view(PAT)) is not None
                            and "Cannot pay" in str(v.definition.get("title")) and v)
    assert "You may pay bills only in EUR; this bill is in GBP." in view_text(view)
    assert payments_of(stack, bill["id"]) == []


async def test_the_first_payment_to_a_supplier_is_a_warning(stack: Stack) -> None:
    bill = first_due(stack)
    edit_bill(stack.settings.codat_base_url, bill["id"], supplierId=FIRST_TIME_SUPPLIER)
    main = await post_digest(stack)
    assert "First payment to this supplier" in row_text(main, bill["id"])
    await approve(stack, main, bill["id"])
    form = await open_pay_modal(stack, main, bill["id"])
    answer = await stack.driver.submit_view(PAT, pay_values(
        modal_account_ids(form)[0], "10.00", today().isoformat()))
    review = review_of(stack.driver, PAT)
    assert answer.outcome == "updated" and review is not None
    assert "First payment to this supplier" in view_text(review)
    assert BLOCK_NOT_DUPLICATE not in view_text(review)  # a warning, no checkbox
    await stack.driver.submit_view(PAT, {})
    await eventually(lambda: len(payments_of(stack, bill["id"])) == 1)
    (entry,) = audit(stack, "payment.controls_overridden")
    assert entry.detail["controls"] == ["first_payment"]
