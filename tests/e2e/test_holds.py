"""Hold with a question (issue 15, item 3): approvers and admins put a bill on hold with a
question; the row shows it and `Release`; Approve and Pay are refused while it is held (in the
services, so a pay form opened before the hold is refused too); the author or an admin
releases it; everything is audited and every copy of the row follows."""

from __future__ import annotations

import asyncio

from billbot.slackapp.blocks import ACTION_APPROVE
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    PAT,
    Stack,
    approve,
    audit,
    buttons,
    click,
    current,
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
from tests.support.holds import (
    hold_modal_open,
    press_hold,
    press_release,
    question_values,
)
from tests.support.pay_review import submit_pay
from tests.support.payrun_steps import click_pay_approved, form_of, offered_text, view_text

QUESTION = "Is this the March delivery or the April one?"


async def hold(stack: Stack, message: object, bill_id: str, user: str,
               question: str = QUESTION) -> None:
    await press_hold(stack.driver, user, CHANNEL, message, bill_id)  # type: ignore[arg-type]
    await eventually(lambda: hold_modal_open(stack.workspace, user))
    answer = await stack.driver.submit_view(user, question_values(question))
    assert answer.status == 200


def told(stack: Stack, user: str, words: str) -> list[str]:
    return [e.text for e in stack.workspace.ephemerals(CHANNEL, user) if words in e.text]


async def test_a_hold_blocks_approve_and_pay_until_its_author_releases_it(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)
    # The payer opens the pay form before the question is asked.
    view = await open_pay_modal(stack, main, bill["id"], PAT)
    account = modal_account_ids(view)[0]

    await hold(stack, main, bill["id"], BEN)
    await eventually(lambda: "On hold" in row_text(current(stack, main.ts), bill["id"]))
    text = row_text(current(stack, main.ts), bill["id"])
    assert QUESTION in text and f"<@{BEN}>" in text
    shown = buttons(current(stack, main.ts), bill["id"])
    assert "Release" in shown and "Hold" not in shown and "Pay" not in shown

    # Pay, submitted from the form opened before the hold: refused by the payment service.
    await submit_pay(stack.driver, PAT, pay_values(account, str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: audit(stack, "payment.refused"))
    assert stack.payments() == []
    assert "put this bill on hold" in audit(stack, "payment.refused")[-1].detail["reason"]
    # Approve by another approver: refused, with who asked what.
    await click(stack, ANN, current(stack, main.ts), bill["id"], ACTION_APPROVE)
    refusal = (await eventually(lambda: told(stack, ANN, "on hold")))[-1]
    assert f"<@{BEN}>" in refusal and QUESTION in refusal

    # Neither the payer, an outsider nor another approver releases it.
    for user in (PAT, OSCAR, ANN):
        await press_release(stack.driver, user, CHANNEL, current(stack, main.ts), bill["id"])
        await eventually(lambda user=user: told(stack, user, "can release"))  # type: ignore[misc]
    assert audit(stack, "hold.released") == []
    assert "On hold" in row_text(current(stack, main.ts), bill["id"])

    await press_release(stack.driver, BEN, CHANNEL, current(stack, main.ts), bill["id"])
    await eventually(lambda: "On hold" not in row_text(current(stack, main.ts), bill["id"]))
    assert "Pay" in buttons(current(stack, main.ts), bill["id"])
    [placed] = audit(stack, "hold.placed")
    [released] = audit(stack, "hold.released")
    assert placed.actor == BEN and placed.detail["question"] == QUESTION
    assert released.actor == BEN and released.detail["by_admin"] is False
    refused = [e.detail.get("attempted") for e in audit(stack, "access.refused")]
    assert refused.count("release") == 3

    # Released: the same bill pays.
    await open_pay_modal(stack, current(stack, main.ts), bill["id"], PAT)
    await submit_pay(stack.driver, PAT, pay_values(account, str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    no_slack_violations(stack)


async def test_an_admin_releases_someone_elses_hold(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await hold(stack, main, bill["id"], ANN)
    await eventually(lambda: "On hold" in row_text(current(stack, main.ts), bill["id"]))
    await press_release(stack.driver, ADA, CHANNEL, current(stack, main.ts), bill["id"])
    await eventually(lambda: "On hold" not in row_text(current(stack, main.ts), bill["id"]))
    [released] = audit(stack, "hold.released")
    assert released.actor == ADA and released.detail["by_admin"] is True
    assert released.detail["held_by"] == ANN


async def test_only_approvers_and_admins_put_a_bill_on_hold(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    for user in (PAT, OSCAR):
        await press_hold(stack.driver, user, CHANNEL, main, bill["id"])
        await eventually(lambda user=user: told(stack, user, "Only approvers"))  # type: ignore[misc]
        assert not hold_modal_open(stack.workspace, user)
    await hold(stack, main, bill["id"], ADA)
    await eventually(lambda: "On hold" in row_text(current(stack, main.ts), bill["id"]))


async def test_a_question_must_say_something(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await press_hold(stack.driver, ANN, CHANNEL, main, bill["id"])
    await eventually(lambda: hold_modal_open(stack.workspace, ANN))
    answer = await stack.driver.submit_view(ANN, question_values("      "),
                                            enforce_client_checks=False)
    assert answer.json()["response_action"] == "errors"
    assert "question" in answer.json()["errors"]
    assert audit(stack, "hold.placed") == []


async def test_two_holds_at_once_make_one_and_every_copy_shows_it(stack: Stack) -> None:
    first = await post_digest(stack)
    second = await post_digest(stack)  # an older and a newer digest show the same bill
    bill = first_due(stack)
    for user, message in ((ANN, first), (BEN, second)):
        await press_hold(stack.driver, user, CHANNEL, message, bill["id"])
        await eventually(lambda user=user: hold_modal_open(stack.workspace, user))  # type: ignore[misc]
    answers = await asyncio.gather(
        stack.driver.submit_view(ANN, question_values("Which purchase order is this?")),
        stack.driver.submit_view(BEN, question_values("Was the discount applied here?")))
    assert all(a.status == 200 for a in answers)
    await eventually(lambda: len(audit(stack, "hold.placed")) == 1
                     and all("On hold" in row_text(current(stack, m.ts), bill["id"])
                             for m in (first, second)))
    [placed] = audit(stack, "hold.placed")
    loser = BEN if placed.actor == ANN else ANN
    await eventually(lambda: told(stack, loser, "already put this bill on hold"))
    texts = {row_text(current(stack, m.ts), bill["id"]) for m in (first, second)}
    assert len(texts) == 1 and placed.detail["question"] in texts.pop()


async def test_a_held_bill_is_left_out_of_a_pay_run_with_its_question(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    other = next(b for b in sorted(stack.sandbox.main_ledger.bills.values(),
                                   key=lambda b: str(b["dueDate"]))
                 if b["id"] != bill["id"] and b["status"] == "Open" and b["currency"] == "GBP"
                 and b.get("amountDue") and b["id"] in str(main.blocks))
    for approved in (bill, other):
        await approve(stack, current(stack, main.ts), approved["id"], ANN)
    await hold(stack, current(stack, main.ts), bill["id"], BEN)
    await eventually(lambda: "On hold" in row_text(current(stack, main.ts), bill["id"]))
    await click_pay_approved(stack.driver, PAT, CHANNEL, current(stack, main.ts))
    form = await eventually(lambda: form_of(stack.driver, PAT))
    assert form is not None
    assert str(other["reference"]) in offered_text(form)
    assert str(bill["reference"]) not in offered_text(form)
    assert f"on hold: “{QUESTION}”" in view_text(form)


async def test_app_home_lists_a_held_bill_under_on_hold(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await hold(stack, main, bill["id"], BEN)
    await eventually(lambda: "On hold" in row_text(current(stack, main.ts), bill["id"]))
    await stack.driver.open_home(ANN)

    def held_section() -> str:
        view = stack.workspace.views.home(ANN)
        text = " ".join(str(b.get("text", {}).get("text", "")) for b in view.blocks) \
            if view is not None else ""
        after = text.split("On hold", 1)[1] if "On hold" in text else ""
        return after if str(bill["reference"]) in after and QUESTION in after else ""

    assert await eventually(held_section)
