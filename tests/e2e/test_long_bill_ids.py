"""Long Codat bill ids (issue 14, problem 9): a bill whose id is longer than Slack's button
value or block_id limits is carried as a short server-side handle; it can be approved and paid
like any other (exactly one payment each), and a tampered or unknown handle is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from billbot.domain.bill_handles import HANDLE_PREFIX
from billbot.sandbox.slack.model import Message
from billbot.slackapp.account_search import offered_accounts
from billbot.slackapp.blocks import (
    ACTION_APPROVE,
    ACTION_REJECT,
    ACTION_WITHDRAW_REJECTION,
    actions_block_id,
)
from billbot.slackapp.interactions import NOT_IN_COMPANY, UNQUERYABLE
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
    CHANNEL,
    OTHER_CHANNEL,
    PAT,
    Stack,
    all_blocks,
    approve,
    audit,
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
from tests.security.forge import changed, click_payload, effects, post_interaction, quiet
from tests.support.controls import NOT_DUPLICATE
from tests.support.long_bills import add_copy_due_today
from tests.support.pay_review import submit_pay

LONG = "L" * 290 + "-0000000300"  # 301 characters: over Slack's 255
LONGEST = "X" * 1990 + "0000002000"  # 2000 characters: Slack's button value limit


def add_long_bill(stack: Stack, bill_id: str, reference: str) -> dict[str, Any]:
    """A GBP bill due today in the sandbox's books, under `bill_id`."""
    return add_copy_due_today(stack.sandbox.main_ledger, first_due(stack), bill_id, reference)


def button_values(blocks: list[dict[str, Any]], bill_id: str) -> list[str]:
    for block in blocks:
        if str(block.get("block_id", "")).startswith(actions_block_id(bill_id)):
            return [str(e["value"]) for e in block["elements"]]
    raise AssertionError("no buttons for the bill")


def row_message(stack: Stack, main: Message, bill_id: str) -> Message:
    """The digest message (main or thread reply) whose buttons act on the bill."""
    return next(m for m in [main, *stack.workspace.thread(CHANNEL, main.ts)]
                if any(str(b.get("block_id", "")).startswith(actions_block_id(bill_id))
                       for b in m.blocks))


def paid_row(stack: Stack, ts: str, bill_id: str) -> Callable[[], bool]:
    return lambda: "Paid" in row_text(current(stack, ts), bill_id)


async def test_bills_with_long_ids_are_approved_and_paid_once_each(stack: Stack) -> None:
    bills = [add_long_bill(stack, LONG, "LONG-300"), add_long_bill(stack, LONGEST, "LONG-2000")]
    main = await post_digest(stack)
    await quiet(stack)
    blocks = all_blocks(stack, main)
    paid_before = len(stack.payments())
    for bill in bills:
        message = row_message(stack, main, bill["id"])
        await approve(stack, message, bill["id"])
        view = await open_pay_modal(stack, message, bill["id"])
        assert len(view.to_slack("T", "A", "B")["private_metadata"]) <= 3000
        answer = await submit_pay(stack.driver, PAT, pay_values(
            modal_account_ids(view)[0], str(bill["amountDue"]), today().isoformat()),
            review=NOT_DUPLICATE)  # copies of a seeded bill: the duplicate control asks
        assert answer.status == 200
        await eventually(paid_row(stack, message.ts, bill["id"]))
    paid = stack.payments()[paid_before:]
    assert sorted(p.bill_id for p in paid) == sorted([LONG, LONGEST])
    for bill in bills:  # the buttons carried short handles
        values = button_values(blocks, bill["id"])
        assert values and all(v.startswith(HANDLE_PREFIX) and len(v) <= 64 for v in values)
    no_slack_violations(stack)


async def test_an_unknown_tampered_or_foreign_handle_is_refused(stack: Stack) -> None:
    company, connection = next(key for key in stack.sandbox.ledgers
                               if key[0] != stack.company_id)
    await stack.driver.slash_command(ADA, OTHER_CHANNEL, f"connect {company} {connection}")
    await eventually(lambda: any("now bound" in e.text
                                 for e in stack.workspace.ephemerals(OTHER_CHANNEL, ADA)))
    add_long_bill(stack, LONG, "LONG-300")
    main = await post_digest(stack)
    await quiet(stack)
    real = button_values(all_blocks(stack, main), LONG)[0]
    before = effects(stack)
    for forged in (HANDLE_PREFIX + "A" * 32, real[:-1] + ("B" if real[-1] != "B" else "C")):
        answer = await post_interaction(stack, click_payload(
            stack, ANN, CHANNEL, main, ACTION_APPROVE, forged))
        assert answer.status == 200
    # This company's handle, clicked in a channel bound to the other company.
    await post_interaction(stack, click_payload(stack, ANN, OTHER_CHANNEL, main, ACTION_APPROVE,
                                                real))
    await quiet(stack)
    assert changed(effects(stack), before) == 0
    texts = [e.text for e in stack.workspace.ephemerals(CHANNEL, ANN)]
    assert texts.count(NOT_IN_COMPANY) == 2, texts
    assert [e.text for e in stack.workspace.ephemerals(OTHER_CHANNEL, ANN)] == [NOT_IN_COMPANY]
    no_slack_violations(stack)


async def test_a_long_id_bill_is_rejected_and_the_rejection_withdrawn(stack: Stack) -> None:
    """The reason form's signed context carries the handle (private_metadata stays short)."""
    add_long_bill(stack, LONGEST, "LONG-2000")
    main = await post_digest(stack)
    message = row_message(stack, main, LONGEST)
    await click(stack, BEN, message, LONGEST, ACTION_REJECT)
    view = await eventually(lambda: stack.workspace.open_view(BEN))
    assert view is not None
    assert len(view.to_slack("T", "A", "B")["private_metadata"]) <= 3000
    await stack.driver.submit_view(BEN, {"reason": {"reason": {
        "type": "plain_text_input", "value": "Duplicate of last month's invoice"}}})
    await eventually(lambda: "Duplicate" in row_text(current(stack, message.ts), LONGEST))
    assert [r.bill_id for r in audit(stack, "rejection.recorded")] == [LONGEST]
    await click(stack, BEN, current(stack, message.ts), LONGEST, ACTION_WITHDRAW_REJECTION)
    await eventually(lambda: [r.bill_id for r in audit(stack, "rejection.withdrawn")]
                     == [LONGEST])
    no_slack_violations(stack)


async def test_an_account_search_reads_a_long_id_bill_again_after_a_restart(
        stack: Stack) -> None:
    """The search answers from the accounts the form opened with; a restarted billbot has
    forgotten them and reads the bill again, through the handle in the form's context."""
    for n in range(101):  # past Slack's 100 options: the form searches
        stack.sandbox.main_ledger.bank_accounts[f"sweep-{n:03d}"] = {
            "id": f"sweep-{n:03d}", "name": f"Sweep account {n:03d}",
            "accountNumber": f"{n:08d}", "nominalCode": None, "sortCode": None,
            "currency": "GBP", "status": "Active", "accountType": "Debit",
            "sourceModifiedDate": "2026-05-15T08:00:00Z"}
    add_long_bill(stack, LONGEST, "LONG-2000")
    main = await post_digest(stack)
    message = row_message(stack, main, LONGEST)
    await approve(stack, message, LONGEST)
    await open_pay_modal(stack, message, LONGEST)
    offered_accounts(stack.bot)._forms.clear()  # as after a restart
    answer = await stack.driver.suggest(PAT, "account", "account", "Sweep account 042")
    assert answer.status == 200, answer.body
    assert [o["value"] for o in json.loads(answer.body)["options"]] == ["sweep-042"]


async def test_a_button_value_codats_query_language_cannot_carry_is_refused(stack: Stack) -> None:
    """`&&`, `||` and braces cannot be put in Codat's `query=id=...`: the click is refused with
    a clear word and audited, instead of failing inside the listener."""
    main = await post_digest(stack)
    await quiet(stack)
    before = effects(stack)
    answer = await post_interaction(stack, click_payload(
        stack, ANN, CHANNEL, main, ACTION_APPROVE, "bill-1&&id=bill-2"))
    assert answer.status == 200
    await eventually(lambda: UNQUERYABLE in [e.text for e in
                                             stack.workspace.ephemerals(CHANNEL, ANN)])
    assert changed(effects(stack), before) == 0
