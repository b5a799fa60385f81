"""Approval policies end to end, through signed requests: a two-step chain, auto-approval, a
foreign-currency threshold, a user-group approver, and a policy reload while a bill is in
flight (BILLBOT_POLICY_FILE)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import select

from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_REJECT
from billbot.storage.db import session_scope
from billbot.storage.tables import Approval
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    PAT,
    UNSET,
    Stack,
    audit,
    buttons,
    click,
    current,
    due_bills,
    ephemeral_texts,
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
from tests.support.pay_review import submit_pay


def policy_stack(stack_factory: Any, tmp_path: Path, text: str, **overrides: Any) -> Stack:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    stack: Stack = stack_factory(billbot_policy_file=str(path), billbot_approvers=UNSET,
                                 **overrides)
    return stack


def approvals_recorded(stack: Stack) -> list[str]:
    with session_scope(stack.bot.engine, read_only=True) as session:
        return [a.user_id for a in session.exec(select(Approval)).all()
                if a.decision == "approve"]


async def approve(stack: Stack, message: Any, bill_id: str, user: str) -> None:
    """Click Approve and wait for the row to change (the approver may already be named on it,
    as someone asked next)."""
    before = row_text(current(stack, message.ts), bill_id)
    await click(stack, user, message, bill_id, ACTION_APPROVE)
    await eventually(lambda: row_text(current(stack, message.ts), bill_id) != before)


def another_row(stack: Stack, message: Any, not_id: str) -> str:
    for bill in due_bills(stack):
        if bill["id"] != not_id and bill["status"] == "Open":
            try:
                row_text(message, bill["id"])
            except AssertionError:
                continue
            return str(bill["id"])
    raise AssertionError("no second bill in the digest")


async def told(stack: Stack, user: str, words: str) -> str:
    try:
        return await eventually(lambda: next((t for t in ephemeral_texts(stack, user)
                                              if words in t), ""))
    except AssertionError:
        raise AssertionError(f"{user} was not told {words!r}: "
                             f"{ephemeral_texts(stack, user)}") from None



async def test_a_two_step_chain_in_order(stack_factory: Any, tmp_path: Path) -> None:
    stack = policy_stack(stack_factory, tmp_path, f"""
rules:
  - name: Two steps
    steps:
      - approvers: [{ANN}, {OSCAR}]
      - approvers: [{BEN}]
""")
    main = await post_digest(stack, ADA)
    bill = first_due(stack)
    text = row_text(main, bill["id"])
    assert "Rule “Two steps”" in text and f"Asked next: <@{ANN}>, <@{OSCAR}>" in text
    # Ben, of step 2, presses Approve first: told what the bill waits for; nothing recorded.
    await click(stack, BEN, main, bill["id"], ACTION_APPROVE)
    said = await told(stack, BEN, "waiting for step 1")
    assert "you are asked at step 2" in said and "Nothing was recorded" in said
    assert approvals_recorded(stack) == []
    await approve(stack, main, bill["id"], ANN)
    text = row_text(current(stack, main.ts), bill["id"])
    assert f"Asked next: <@{BEN}>" in text and "Pay" not in buttons(current(stack, main.ts),
                                                                     bill["id"])
    # Oscar's step is complete: he is not asked, and his click records nothing.
    await click(stack, OSCAR, main, bill["id"], ACTION_APPROVE)
    await told(stack, OSCAR, "does not ask you now")
    await approve(stack, main, bill["id"], BEN)
    await eventually(lambda: "Pay" in buttons(current(stack, main.ts), bill["id"]))
    assert approvals_recorded(stack) == [ANN, BEN]
    counted = audit(stack, "approval.recorded")
    assert [(e.detail["rule"], e.detail["step"]) for e in counted] == [("Two steps", 1),
                                                                         ("Two steps", 2)]
    assert all(e.detail["policy_version"] == 1 for e in counted)
    no_slack_violations(stack)


async def test_auto_approval_is_the_policys_and_never_undoes_a_rejection(
        stack_factory: Any, tmp_path: Path) -> None:
    stack = policy_stack(stack_factory, tmp_path, f"""
rules:
  - name: Manual
    steps: [{{approvers: [{ANN}]}}]
""")
    main = await post_digest(stack, ADA)
    bill = first_due(stack)
    rejected = another_row(stack, main, bill["id"])
    # Oscar is named nowhere: he cannot reject. Ann, named in the bill's rule, can.
    for user in (OSCAR, ANN):
        await click(stack, user, main, rejected, ACTION_REJECT)
        if user == OSCAR:
            await told(stack, OSCAR, "Only approvers can reject")
            continue
        await eventually(lambda: stack.workspace.open_view(ANN) is not None)
        await stack.driver.submit_view(ANN, {"reason": {"reason": {
            "type": "plain_text_input", "value": "Not ours, wrong company"}}})
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), rejected))
    (tmp_path / "policy.yml").write_text("""
rules:
  - name: Everything small
    when: {amount_up_to: 1000000}
    auto_approve: true
""")
    await stack.driver.slash_command(ADA, CHANNEL, "policy reload")
    await told(stack, ADA, "Version 2 from BILLBOT_POLICY_FILE")
    main = await post_digest(stack, ADA)
    assert "Approved by the policy (rule “Everything small”)" in row_text(main, bill["id"])
    assert "Pay" in buttons(main, bill["id"])
    assert "Rejected" in row_text(main, rejected) and "Pay" not in buttons(main, rejected)
    view = await open_pay_modal(stack, main, bill["id"])
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0],
                                                   str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    auto = audit(stack, "approval.auto")
    assert len(auto) == 1 and auto[0].actor == "policy"
    assert auto[0].detail["rule"] == "Everything small" and auto[0].detail["policy_version"] == 2


async def test_a_foreign_currency_bill_is_judged_in_the_base_currency(
        stack_factory: Any, tmp_path: Path) -> None:
    stack = policy_stack(stack_factory, tmp_path, f"""
rules:
  - name: Big in pounds
    when: {{amount_over: 100}}
    steps: [{{approvers: [{BEN}]}}]
  - name: Small
    steps: [{{approvers: [{ANN}]}}]
""")
    bill = first_due(stack, currency="USD")
    rate = stack.sandbox_bill(bill["id"])["currencyRate"]
    total = stack.sandbox_bill(bill["id"])["totalAmount"]
    assert rate is not None and total * rate > 100  # the seeded bill: big once converted
    main = await post_digest(stack, ADA)
    assert "Rule “Big in pounds”" in row_text(main, bill["id"])
    await stack.driver.slash_command(ADA, CHANNEL, f"policy check {bill['id']}")
    said = await told(stack, ADA, "Big in pounds")
    assert "base-currency amount" in said and "rate" in said
    # A bill with no rate in the books (above every amount_over, the row says so) is covered
    # by tests/domain/test_policy_eval.py and tests/slackapp/test_policy_lines.py.


async def test_a_user_group_approves_and_a_removed_member_no_longer_can(
        stack_factory: Any, tmp_path: Path) -> None:
    workspace_group = "S0APPROVERS"
    stack = policy_stack(stack_factory, tmp_path, f"""
rules:
  - name: Group
    steps: [{{approvers: [{workspace_group}], need: 1}}]
""")
    stack.workspace.usergroups.add("approvers", "Approvers", [BEN, OSCAR],
                                   usergroup_id=workspace_group)
    main = await post_digest(stack, ADA)
    bill = first_due(stack)
    event = stack.workspace.usergroups.set_members(workspace_group, [OSCAR])
    await stack.driver.send_event(event)
    await click(stack, BEN, main, bill["id"], ACTION_APPROVE)
    await eventually(lambda: ephemeral_texts(stack, BEN))
    assert approvals_recorded(stack) == []
    await approve(stack, main, bill["id"], OSCAR)
    await eventually(lambda: "Pay" in buttons(current(stack, main.ts), bill["id"]))


async def test_a_reload_in_flight_counts_recorded_approvals_and_never_pays_early(
        stack_factory: Any, tmp_path: Path) -> None:
    stack = policy_stack(stack_factory, tmp_path, f"""
rules:
  - name: One
    steps: [{{approvers: [{ANN}, {BEN}]}}]
""")
    main = await post_digest(stack, ADA)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)
    assert "Pay" in buttons(current(stack, main.ts), bill["id"])
    # A new file: two steps. Ann's approval counts for step 1; the bill is not payable.
    (tmp_path / "policy.yml").write_text(f"""
rules:
  - name: Stricter
    steps:
      - approvers: [{ANN}]
      - approvers: [{BEN}]
""")
    await stack.driver.slash_command(ADA, CHANNEL, "policy reload")
    await told(stack, ADA, "Version 2 from BILLBOT_POLICY_FILE")
    main = await post_digest(stack, ADA)
    text = row_text(main, bill["id"])
    assert "Rule “Stricter”" in text and f"Asked next: <@{BEN}>" in text
    assert "Pay" not in buttons(main, bill["id"])
    # A broken file keeps the running policy and says why.
    (tmp_path / "policy.yml").write_text("rules: [{name: X, steps: [{approvers: [nobody]}]}]")
    await stack.driver.slash_command(ADA, CHANNEL, "policy reload")
    said = await told(stack, ADA, "kept version 2")
    assert "'nobody' is not a Slack user id" in said
    await approve(stack, main, bill["id"], BEN)
    await eventually(lambda: "Pay" in buttons(current(stack, main.ts), bill["id"]))
    assert audit(stack, "approval.recorded")[-1].detail["policy_version"] == 2
