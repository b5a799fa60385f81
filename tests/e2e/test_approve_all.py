"""Approve all (issue 17, item 5), through signed requests as Slack sends them: the digest
header's button opens a confirmation with the count and the totals per currency; submitting
approves each bill on its own with the single Approve's checks (role, dual approval by two
different approvers, rejection, a bill changed since the list, the channel's company) and its
own audit entry; what could not be approved is listed with the reason; every copy of the rows
follows; double submits and Slack's retries record one approval per person and bill."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx

from billbot.money import format_money
from billbot.sandbox.slack.model import Message
from billbot.services.bulk_approvals import bill_key
from billbot.slackapp.blocks import ACTION_PAY, ACTION_REJECT
from billbot.slackapp.digest_actions import ACTION_APPROVE_ALL, digest_actions_block
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    OTHER_CHANNEL,
    PAT,
    Stack,
    all_blocks,
    audit,
    buttons,
    click,
    current,
    due_bills,
    ephemeral_texts,
    eventually,
    first_due,
    no_slack_violations,
    post_digest,
    row_text,
    today,
)
from tests.support.books import bookkeeper_adds
from tests.support.holds import hold_modal_open, press_hold, question_values

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def keep_bodies(stack: Stack) -> list[bytes]:
    """Every request body the driver sends from now on (to deliver again as Slack retries)."""
    sent: list[bytes] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request.content)

    stack.driver.http.event_hooks["request"].append(keep)
    return sent


async def reject(stack: Stack, main: Message, bill_id: str, user: str, reason: str) -> None:
    await click(stack, user, main, bill_id, ACTION_REJECT)
    await eventually(lambda: (v := stack.workspace.open_view(user)) is not None
                     and v.definition.get("callback_id") == "reject_bill")
    await stack.driver.submit_view(user, {"reason": {"reason": {
        "type": "plain_text_input", "value": reason}}})


def view_text(view: Any) -> str:
    return json.dumps(view.definition["blocks"], ensure_ascii=False)


async def open_confirmation(stack: Stack, user: str, message: Message,
                            channel: str = CHANNEL) -> Any:
    earlier = stack.workspace.open_view(user)
    earlier_id = earlier.id if earlier is not None else None
    response = await stack.driver.click(user, channel, message.ts, ACTION_APPROVE_ALL)
    assert response.status == 200
    return await eventually(lambda: (v := stack.workspace.open_view(user)) is not None
                            and v.id != earlier_id
                            and v.definition.get("callback_id") == "approve_all" and v)


async def confirm(stack: Stack, user: str) -> str:
    """Submit the user's confirmation; the text of the result it turns into."""
    view = stack.workspace.open_view(user)
    assert view is not None
    answer = await stack.driver.submit_view(user, {}, view_id=view.id)
    assert answer.status == 200
    done = await eventually(lambda: (v := stack.workspace.open_view(user)) is not None
                            and "approved" in view_text(v) and "Approving" not in view_text(v)
                            and v)
    return view_text(done)


def due_totals(stack: Stack) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for bill in due_bills(stack):
        if bill.get("amountDue") is not None:
            sums[bill["currency"]] = sums.get(bill["currency"], Decimal(0)) + Decimal(
                str(bill["amountDue"]))
    return sums


def approvals_by(stack: Stack) -> Counter[tuple[str, str]]:
    return Counter((e.actor, str(e.bill_id)) for e in audit(stack, "approval.recorded"))


async def test_approve_all_confirms_count_and_totals_then_approves_each_bill(
    stack: Stack,
) -> None:
    main = await post_digest(stack)
    assert "Approve all" in json.dumps(main.blocks)
    due = due_bills(stack)
    view = await open_confirmation(stack, ANN, main)
    text = view_text(view)
    assert f"Approve *{len(due)} bills*" in text
    for currency, amount in due_totals(stack).items():
        assert f"*{format_money(amount, currency)}*" in text
    assert audit(stack, "approval.recorded") == []  # nothing before the confirmation

    result = await confirm(stack, ANN)
    assert f"{len(due)} approved" in result
    assert approvals_by(stack) == Counter({(ANN, b["id"]): 1 for b in due})
    blocks = all_blocks(stack, current(stack, main.ts))
    for bill in due:
        shown = next(str(b["text"]["text"]) for b in blocks
                     if str(b.get("block_id", "")).startswith("bill:") and
                     bill.get("reference", "") in str(b["text"]["text"]))
        assert f"Approved by <@{ANN}>" in shown
    no_slack_violations(stack)


async def test_approve_all_is_for_approvers_in_a_bound_channel(stack: Stack) -> None:
    main = await post_digest(stack)
    for outsider in (OSCAR, PAT):
        await stack.driver.click(outsider, CHANNEL, main.ts, ACTION_APPROVE_ALL)
        await eventually(lambda u=outsider: any("Only approvers" in t  # type: ignore[misc]
                                                for t in ephemeral_texts(stack, u)))
        assert stack.workspace.open_view(outsider) is None
    refusals = [e for e in audit(stack, "access.refused")
                if e.detail.get("attempted") == "approve_all"]
    assert {e.actor for e in refusals} >= {OSCAR, PAT}

    # The same button in a channel bound to no company approves nothing.
    posted = await stack.bot.slack.chat_postMessage(channel=OTHER_CHANNEL, text="digest",
                                                    blocks=[digest_actions_block()])
    elsewhere = stack.workspace.message(OTHER_CHANNEL, str(posted["ts"]))
    assert elsewhere is not None
    await stack.driver.click(ANN, OTHER_CHANNEL, elsewhere.ts, ACTION_APPROVE_ALL)
    await eventually(lambda: any("not connected" in t
                                 for t in ephemeral_texts(stack, ANN, OTHER_CHANNEL)))
    assert stack.workspace.open_view(ANN) is None
    assert audit(stack, "approval.recorded") == []


async def test_dual_approval_needs_two_different_approvers(stack_factory: Any) -> None:
    stack: Stack = stack_factory(billbot_dual_approval_over=Decimal(0))
    main = await post_digest(stack)
    due = due_bills(stack)
    await open_confirmation(stack, ANN, main)
    result = await confirm(stack, ANN)
    assert "0 approved" in result and f"*{len(due)}* recorded and waiting" in result

    # Ann again: every bill is left out, she has approved them all already.
    view = await open_confirmation(stack, ANN, main)
    assert "nothing here that you can approve" in view_text(view)
    assert "you have already approved it" in view_text(view)
    assert "submit" not in view.definition

    await open_confirmation(stack, BEN, main)
    result = await confirm(stack, BEN)
    assert f"{len(due)} approved" in result
    assert approvals_by(stack) == Counter({(u, b["id"]): 1 for b in due for u in (ANN, BEN)})
    bill = first_due(stack)
    await eventually(lambda: "Pay" in buttons(current(stack, main.ts), bill["id"]))


async def test_rejected_and_changed_bills_are_left_out_with_the_reason(stack: Stack) -> None:
    main = await post_digest(stack)
    due = sorted(due_bills(stack), key=lambda b: b["dueDate"])
    rejected, changed = due[0], due[1]
    await reject(stack, main, rejected["id"], BEN, "Duplicate of last month's invoice")
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), rejected["id"]))

    view = await open_confirmation(stack, ANN, main)
    assert f"Approve *{len(due) - 1} bills*" in view_text(view)
    assert "rejected it" in view_text(view)
    # After the list was shown: one bill changes in the books, another is rejected.
    stored = stack.sandbox.main_ledger.bills[changed["id"]]
    bookkeeper_adds(stack.sandbox, stored, Decimal("10.00"))
    late = due[2]
    await reject(stack, main, late["id"], BEN, "Wrong supplier on this invoice")
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), late["id"]))

    result = await confirm(stack, ANN)
    assert f"{len(due) - 3} approved" in result and "2 not approved" in result
    assert "changed in the books after the list was shown" in result
    assert "rejected this bill" in result
    approved = {bill_id for _, bill_id in approvals_by(stack)}
    assert approved == {b["id"] for b in due} - {rejected["id"], changed["id"], late["id"]}
    refusals = [e for e in audit(stack, "access.refused") if e.actor == ANN]
    assert {e.bill_id for e in refusals} == {changed["id"], late["id"]}
    # Every copy follows: the changed bill's row shows its new amount.
    new_due = format_money(Decimal(str(stored["amountDue"])), changed["currency"])
    await eventually(lambda: new_due in json.dumps(all_blocks(stack, current(stack, main.ts))))


async def test_approvals_by_approve_all_keep_separation_of_duties(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await open_confirmation(stack, ANN, main)
    await confirm(stack, ANN)  # Ann approves and may pay, but not what she approved
    await click(stack, ANN, main, bill["id"], ACTION_PAY)
    await eventually(lambda: any("someone else has to pay it" in t
                                 for t in ephemeral_texts(stack, ANN))
                     or ((v := stack.workspace.open_view(ANN)) is not None
                         and "someone else has to pay it" in json.dumps(v.definition)))
    assert stack.payments() == []


async def test_double_submits_and_retries_record_one_approval_each(stack: Stack) -> None:
    main = await post_digest(stack)
    due = due_bills(stack)
    await open_confirmation(stack, ANN, main)
    # Two people read the same digest: Ben's confirmation is open while Ann's goes in twice.
    await open_confirmation(stack, BEN, main)
    view = stack.workspace.open_view(ANN)
    assert view is not None
    bodies = keep_bodies(stack)
    answers = await asyncio.gather(
        stack.driver.submit_view(ANN, {}, view_id=view.id),
        stack.driver.submit_view(ANN, {}, view_id=view.id),
        stack.driver.submit_view(BEN, {}))
    assert [a.status for a in answers] == [200, 200, 200]
    for body in list(bodies):  # Slack delivers each submission again
        again = await stack.driver.post_signed(body, "application/x-www-form-urlencoded",
                                               extra_headers=RETRY)
        assert again.status == 200 and again.body == b""
    # A late confirmation opened afterwards finds nothing left for Ann to approve.
    await eventually(lambda: len(approvals_by(stack)) >= 2 * len(due))
    view = await open_confirmation(stack, ANN, main)
    assert "nothing here that you can approve" in view_text(view)
    await asyncio.sleep(0.5)  # let a late duplicate show itself, if there were one
    assert approvals_by(stack) == Counter({(u, b["id"]): 1 for b in due for u in (ANN, BEN)})
    for bill in due:
        if _in(current(stack, main.ts), bill["id"]):
            assert "Approved by" in row_text(current(stack, main.ts), bill["id"])
    no_slack_violations(stack)


def _in(message: Message, bill_id: str) -> bool:
    try:
        row_text(message, bill_id)
    except AssertionError:
        return False
    return True


async def test_held_bills_are_left_out_and_refused(stack: Stack) -> None:
    main = await post_digest(stack)
    due = sorted(due_bills(stack), key=lambda b: b["dueDate"])
    early, late = due[0], due[1]
    await press_hold(stack.driver, BEN, CHANNEL, main, early["id"])
    await eventually(lambda: hold_modal_open(stack.workspace, BEN))
    await stack.driver.submit_view(BEN, question_values("Is this the right supplier?"))
    await eventually(lambda: "hold" in row_text(current(stack, main.ts), early["id"]).lower())

    view = await open_confirmation(stack, ANN, main)
    assert f"Approve *{len(due) - 1} bills*" in view_text(view)
    assert "put it on hold" in view_text(view)
    await press_hold(stack.driver, BEN, CHANNEL, main, late["id"])  # after the list was shown
    await eventually(lambda: hold_modal_open(stack.workspace, BEN))
    await stack.driver.submit_view(BEN, question_values("Was this delivered in full?"))
    await eventually(lambda: "hold" in row_text(current(stack, main.ts), late["id"]).lower())

    result = await confirm(stack, ANN)
    assert f"{len(due) - 2} approved" in result and "1 not approved" in result
    approved = {bill_id for _, bill_id in approvals_by(stack)}
    assert approved == {b["id"] for b in due} - {early["id"], late["id"]}


async def test_approvers_approve_all_from_app_home(stack: Stack) -> None:
    await stack.driver.open_home(PAT)  # a payer only: no Approve all on their Home
    pat = await eventually(lambda: stack.workspace.views.home(PAT))
    assert pat is not None and "Approve all" not in json.dumps(pat.blocks)
    await stack.driver.open_home(BEN)
    ben = await eventually(lambda: stack.workspace.views.home(BEN))
    assert ben is not None and "Approve all" in json.dumps(ben.blocks)
    await stack.driver.click_home(BEN, text="Approve all")
    view = await eventually(lambda: (v := stack.workspace.open_view(BEN)) is not None
                            and v.definition.get("callback_id") == "approve_all" and v)
    assert "Approve *" in view_text(view)
    result = await confirm(stack, BEN)
    assert " approved" in result and "not approved" not in result
    due = due_bills(stack)
    assert {bill_id for actor, bill_id in approvals_by(stack) if actor == BEN} >= {
        b["id"] for b in due}


async def test_a_delegate_approves_all_on_behalf_of_the_absent_approver(stack: Stack) -> None:
    main = await post_digest(stack)
    due = due_bills(stack)
    day = today().isoformat()
    await stack.driver.slash_command(BEN, CHANNEL, f"away {day} {day} <@{OSCAR}|oscar>")
    await eventually(lambda: audit(stack, "delegation.set"))
    await open_confirmation(stack, OSCAR, main)
    result = await confirm(stack, OSCAR)
    assert f"{len(due)} approved" in result
    recorded = audit(stack, "approval.recorded")
    assert {e.actor for e in recorded} == {OSCAR}
    assert {e.detail.get("on_behalf_of") for e in recorded} == {BEN}
    assert f"Approved by <@{BEN}>" in row_text(current(stack, main.ts), first_due(stack)["id"])


def ticks(view: Any, keep: list[dict[str, Any]]) -> dict[str, Any]:
    """Every checkbox group of the confirmation with only `keep` ticked."""
    values = {}
    for block in view.definition["blocks"]:
        if str(block.get("block_id", "")).startswith("pick-"):
            mine = [o for o in block["element"]["options"] if o in keep]
            values[block["block_id"]] = {"bills": {"type": "checkboxes",
                                                   "selected_options": mine}}
    return values


def pick_options(view: Any) -> list[dict[str, Any]]:
    return [o for b in view.definition["blocks"] if str(b.get("block_id", "")).startswith("pick-")
            for o in b["element"]["options"]]


async def test_unticked_bills_are_left_out_after_a_second_look(stack: Stack) -> None:
    main = await post_digest(stack)
    due = due_bills(stack)
    view = await open_confirmation(stack, ANN, main)
    options = pick_options(view)
    assert len(options) == len(due)

    # Nothing ticked: Slack shows the error on the first group; nothing recorded.
    answer = await stack.driver.submit_view(ANN, ticks(view, []), view_id=view.id)
    assert answer.status == 200 and "Tick at least one bill" in answer.text
    kept = [o for o in options[:10] if o["value"].split(":")[1] == "GBP"][:2]
    assert kept
    answer = await stack.driver.submit_view(ANN, ticks(view, kept), view_id=view.id)
    narrowed = await eventually(lambda: (v := stack.workspace.open_view(ANN)) is not None
                                and v.id == view.id and len(pick_options(v)) == len(kept) and v)
    total = sum((Decimal(o["value"].split(":")[2]) for o in kept), Decimal(0))
    assert f"Approve *{len(kept)} bill" in view_text(narrowed)
    assert format_money(total, "GBP") in view_text(narrowed)
    assert audit(stack, "approval.recorded") == []

    result = await confirm(stack, ANN)
    assert f"{len(kept)} approved" in result
    wanted = {o["value"].split(":")[0][:10] for o in kept}
    assert {bill_key(bill_id) for _, bill_id in approvals_by(stack)} == wanted
