"""`/bills policy edit` end to end, through signed requests: an admin edits the database policy
as YAML in a modal and unpaid bills follow the new version at once; broken YAML, an unchanged
policy, a non-admin, a policy file and a stale form change nothing; an edited payer limit
refuses Pay above it and a payer the edit names can pay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import col, select

from billbot.context_token import ModalContext
from billbot.domain.policy_file import parse_policy
from billbot.slackapp.blocks import ACTION_APPROVE
from billbot.slackapp.policy_edit_blocks import ACTION_POLICY_EDIT, FIELD_NOTE, FIELD_POLICY
from billbot.storage.db import session_scope
from billbot.storage.policy_tables import PolicyVersion
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
from tests.security.forge import post_interaction, submission_payload
from tests.support.pay_review import submit_pay

TWO_STEPS = f"""rules:
  - name: Two steps
    steps:
      - approvers: [{ANN}]
      - approvers: [{BEN}]
"""


def versions(stack: Stack) -> list[tuple[int, str, str | None]]:
    with session_scope(stack.bot.engine, read_only=True) as session:
        rows = session.exec(select(PolicyVersion).order_by(col(PolicyVersion.number))).all()
        return [(r.number, r.author, r.note) for r in rows]


async def told(stack: Stack, user: str, words: str) -> str:
    try:
        return await eventually(lambda: next((t for t in ephemeral_texts(stack, user)
                                              if words in t), ""))
    except AssertionError:
        raise AssertionError(f"{user} was not told {words!r}: "
                             f"{ephemeral_texts(stack, user)}") from None


async def open_editor(stack: Stack, user: str = ADA) -> str:
    """`/bills policy edit`; the YAML the form opened with."""
    await stack.driver.slash_command(user, CHANNEL, "policy edit")
    view = await eventually(lambda: stack.workspace.open_view(user))
    assert view is not None and view.definition["title"]["text"] == "Edit approval policy"
    (field,) = [b for b in view.blocks if b.get("block_id") == FIELD_POLICY]
    assert field["element"]["multiline"] and field["element"]["max_length"] == 3000
    return str(field["element"]["initial_value"])


async def save(stack: Stack, text: str, note: str | None = None, user: str = ADA) -> Any:
    values: dict[str, Any] = {FIELD_POLICY: {FIELD_POLICY: {"type": "plain_text_input",
                                                            "value": text}}}
    if note is not None:
        values[FIELD_NOTE] = {FIELD_NOTE: {"type": "plain_text_input", "value": note}}
    return await stack.driver.submit_view(user, values)


def field_error(answer: Any) -> str:
    body = answer.json()
    assert body["response_action"] == "errors", body
    return str(body["errors"][FIELD_POLICY])


async def test_an_admin_edits_the_policy_and_unpaid_bills_follow_it_at_once(
        stack_factory: Any) -> None:
    stack: Stack = stack_factory()
    main = await post_digest(stack, ADA)
    bill = first_due(stack)
    await click(stack, ANN, main, bill["id"], ACTION_APPROVE)
    await eventually(lambda: "Pay" in buttons(current(stack, main.ts), bill["id"]))
    shown = await open_editor(stack)
    # The rule of the old variables, written with the approver role's members.
    assert f"approvers: [{ANN}, {BEN}]" in shown and "need: 1" in shown
    answer = await save(stack, TWO_STEPS, note="Two people sign off every bill")
    assert answer.outcome == "closed"
    said = await told(stack, ADA, "Policy version 2 by")
    assert said.startswith(f"Policy version 2 by <@{ADA}>: Two people sign off every bill")
    assert versions(stack)[-1] == (2, ADA, "Two people sign off every bill")
    (created,) = [e for e in audit(stack, "policy.version_created")
                  if e.detail["version"] == 2]
    assert created.actor == ADA and created.detail["rules"] == ["Two steps"]
    # The approved bill in flight: Ann's approval counts for step 1; it is no longer payable.
    main = await post_digest(stack, ADA)
    text = row_text(main, bill["id"])
    assert "Rule “Two steps”" in text and f"Asked next: <@{BEN}>" in text
    assert "Pay" not in buttons(main, bill["id"])
    await click(stack, BEN, main, bill["id"], ACTION_APPROVE)
    await eventually(lambda: "Pay" in buttons(current(stack, main.ts), bill["id"]))
    assert audit(stack, "approval.recorded")[-1].detail["policy_version"] == 2
    # `/bills policy` lists it, by its author; the form now opens on the saved text.
    await stack.driver.slash_command(OSCAR, CHANNEL, "policy")
    listing = await told(stack, OSCAR, "version 2")
    assert f"by <@{ADA}>" in listing and "Older versions" in listing
    assert parse_policy(await open_editor(stack)) == parse_policy(TWO_STEPS)
    no_slack_violations(stack)


async def test_under_rules_naming_approvers_role_commands_point_to_the_editor(
        stack_factory: Any) -> None:
    """An approver role given beside rules that name their approvers would approve nothing;
    payers follow a `payers` section the same way. Admins stay grantable."""
    stack: Stack = stack_factory()
    await open_editor(stack)
    assert (await save(stack, TWO_STEPS + f"payers:\n  - user: {PAT}\n")).outcome == "closed"
    await told(stack, ADA, "Policy version 2 by")
    for command, words in ((f"approvers add <@{OSCAR}>", "The approval rules name who approves"),
                           (f"approvers remove <@{ANN}>", "The approval rules name who approves"),
                           (f"payers add <@{OSCAR}>", "`payers` section names who pays")):
        await stack.driver.slash_command(ADA, CHANNEL, command)
        said = await told(stack, ADA, words)
        assert "/bills policy edit" in said and "Nothing changed." in said
    assert [v[0] for v in versions(stack)] == [1, 2]
    assert audit(stack, "role.granted", "role.revoked") == []
    await stack.driver.slash_command(ADA, CHANNEL, "approvers list")
    listed = await told(stack, ADA, "Approvers:")
    assert f"<@{ANN}>" in listed and f"<@{OSCAR}>" not in listed
    await stack.driver.slash_command(ADA, CHANNEL, f"admins add <@{OSCAR}>")
    await eventually(lambda: audit(stack, "role.granted"))


async def test_broken_or_unchanged_yaml_is_answered_on_the_field_and_saves_nothing(
        stack_factory: Any) -> None:
    stack: Stack = stack_factory()
    shown = await open_editor(stack)
    before = versions(stack)
    error = field_error(await save(stack, "rules:\n  - name: [unclosed"))
    assert "Nothing was saved; version 1 stays in force" in error and "not valid YAML" in error
    error = field_error(await save(stack, f"""rules:
  - name: Big
    when: {{amount_over: 1000, amount_up_to: 10}}
    steps: [{{approvers: [nobody, {ANN}], need: 3}}]
"""))
    assert "rule “Big” step 1: 'nobody' is not a Slack user id" in error
    assert "rule “Big” step 1: `need` is 3 but the step names only 2" in error
    assert "rule “Big”: `amount_up_to` (10) must be above `amount_over` (1000)" in error
    error = field_error(await save(stack, shown))
    assert error == "This is the policy in force (version 1); nothing was saved."
    assert versions(stack) == before and stack.workspace.open_view(ADA) is not None
    assert [e.detail["version"] for e in audit(stack, "policy.version_created")] == [1]


async def test_a_non_admin_is_told_who_can_and_nothing_is_written(stack_factory: Any) -> None:
    stack: Stack = stack_factory()
    for user in (ANN, OSCAR):
        await stack.driver.slash_command(user, CHANNEL, "policy edit")
        said = await told(stack, user, "Only billbot admins can edit the approval policy")
        assert f"(<@{ADA}>)" in said and "Nothing changed" in said
        assert stack.workspace.open_view(user) is None
    refused = audit(stack, "access.refused")
    assert [(e.actor, e.detail["attempted"]) for e in refused] == [(ANN, "policy.edit"),
                                                                    (OSCAR, "policy.edit")]
    assert [v[0] for v in versions(stack)] == [1]
    # The admin help lists the command; a non-admin's does not.
    await stack.driver.slash_command(ADA, CHANNEL, "help")
    await told(stack, ADA, "`/bills policy edit`")
    await stack.driver.slash_command(OSCAR, CHANNEL, "help")
    await told(stack, OSCAR, "/bills")
    assert not any("policy edit" in t for t in ephemeral_texts(stack, OSCAR))


async def test_with_a_policy_file_edit_answers_that_the_file_keeps_it(
        stack_factory: Any, tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(TWO_STEPS)
    stack: Stack = stack_factory(billbot_policy_file=str(path), billbot_approvers=UNSET)
    await stack.driver.slash_command(ADA, CHANNEL, "policy edit")
    await told(stack, ADA, "The approval policy is kept in BILLBOT_POLICY_FILE")
    assert stack.workspace.open_view(ADA) is None
    assert len(versions(stack)) == 1


async def test_a_form_opened_before_another_admins_save_is_refused(stack_factory: Any) -> None:
    stack: Stack = stack_factory(billbot_admins=frozenset({ADA, OSCAR}))
    await open_editor(stack, ADA)
    await open_editor(stack, OSCAR)
    assert (await save(stack, TWO_STEPS, user=OSCAR)).outcome == "closed"
    error = field_error(await save(stack, TWO_STEPS.replace("Two steps", "Mine"), user=ADA))
    assert error == ("The approval policy was changed by @oscar (version 2) since you opened "
                     "this; open it again with /bills policy edit. Nothing was saved.")
    assert [(v[0], v[1]) for v in versions(stack)] == [(1, "config"), (2, OSCAR)]
    # Opened again, it saves on top of Oscar's version.
    await stack.driver.close_view(ADA)
    assert "Two steps" in await open_editor(stack, ADA)
    assert (await save(stack, TWO_STEPS.replace("Two steps", "Mine"))).outcome == "closed"
    assert [v[0] for v in versions(stack)] == [1, 2, 3]
    # A role command is a version too: a form opened before it is refused as well.
    await open_editor(stack, OSCAR)
    await stack.driver.slash_command(ADA, CHANNEL, f"payers add <@{BEN}>")
    await told(stack, ADA, "is now a payer")
    error = field_error(await save(stack, TWO_STEPS, user=OSCAR))
    assert "changed by @ada (version 4)" in error
    assert [v[0] for v in versions(stack)] == [1, 2, 3, 4]


async def test_an_edited_payer_limit_refuses_pay_above_it_and_a_named_payer_pays(
        stack_factory: Any) -> None:
    stack: Stack = stack_factory()
    bill = first_due(stack)
    main = await post_digest(stack, ADA)
    await open_editor(stack)
    limited = f"""rules:
  - name: Every bill
    steps:
      - approvers: [{ANN}]
payers:
  - user: {PAT}
    limit: {{GBP: 100}}
  - user: {BEN}
"""
    assert (await save(stack, limited, note="Pat pays up to GBP 100")).outcome == "closed"
    await click(stack, ANN, main, bill["id"], ACTION_APPROVE)
    await eventually(lambda: "Pay" in buttons(current(stack, main.ts), bill["id"]))
    form = await open_pay_modal(stack, main, bill["id"], PAT)
    answer = await submit_pay(stack.driver, PAT, pay_values(
        modal_account_ids(form)[0], "100.01", today().isoformat()))
    assert answer.json()["errors"]["amount"] == ("GBP 100.01 is above your payment limit of "
                                                 "GBP 100.00.")
    assert stack.payments() == []
    await stack.driver.close_view(PAT)
    # Ben is a payer only because the edited policy names him: his payment is recorded.
    form = await open_pay_modal(stack, main, bill["id"], BEN)
    await submit_pay(stack.driver, BEN, pay_values(modal_account_ids(form)[0], "100.01",
                                                   today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    await eventually(lambda: audit(stack, "payment.succeeded"))
    assert [e.actor for e in audit(stack, "payment.started")] == [BEN]
    no_slack_violations(stack)


async def test_a_policy_longer_than_a_form_holds_points_to_the_policy_file(
        stack_factory: Any) -> None:
    many = frozenset(f"U{n:010d}" for n in range(250))  # ~3,300 characters as YAML
    stack: Stack = stack_factory(billbot_approvers=many)
    await stack.driver.slash_command(ADA, CHANNEL, "policy edit")
    said = await told(stack, ADA, "more than the 3000 a Slack form can hold")
    assert "BILLBOT_POLICY_FILE" in said
    assert stack.workspace.open_view(ADA) is None
    no_slack_violations(stack)


async def test_a_submission_by_anyone_but_an_admin_who_opened_it_saves_nothing(
        stack_factory: Any) -> None:
    stack: Stack = stack_factory()
    await open_editor(stack)
    view = stack.workspace.open_view(ADA)
    assert view is not None
    values = {FIELD_POLICY: {FIELD_POLICY: {"type": "plain_text_input", "value": TWO_STEPS}}}
    # Ada's form sent by Oscar; and a form signed for Oscar (as if he had been an admin when
    # it opened): the server checks the role again on submit.
    for_oscar = stack.bot.signer.dump(ModalContext(
        bill_id="", channel_id=CHANNEL, message_ts=None, user_id=OSCAR,
        issued_at=stack.bot.clock.now().isoformat(), policy_version=1))
    for metadata, why in ((None, "opened by someone else"),
                          (for_oscar, "Only billbot admins can edit the approval policy")):
        answer = await post_interaction(stack, submission_payload(
            stack, OSCAR, view, values, private_metadata=metadata))
        assert why in field_error(answer)
    assert [v[0] for v in versions(stack)] == [1]
    assert [e.actor for e in audit(stack, "access.refused")] == [OSCAR, OSCAR]


async def test_the_policy_answer_offers_admins_an_edit_button(stack_factory: Any,
                                                               tmp_path: Path) -> None:
    stack: Stack = stack_factory()
    await stack.driver.slash_command(ADA, CHANNEL, "policy")
    await told(stack, ADA, "Approval policy, version 1")
    (answer,) = stack.workspace.ephemerals(CHANNEL, ADA)
    assert "Approval policy, version 1" in str(answer.blocks[0])
    await stack.driver.click(ADA, CHANNEL, answer.ts, ACTION_POLICY_EDIT)
    view = await eventually(lambda: stack.workspace.open_view(ADA))
    assert view is not None and view.definition["title"]["text"] == "Edit approval policy"
    # A non-admin's answer, and an answer under a policy file, have no button.
    await stack.driver.slash_command(OSCAR, CHANNEL, "policy")
    await told(stack, OSCAR, "Approval policy, version 1")
    assert ACTION_POLICY_EDIT not in str(stack.workspace.ephemerals(CHANNEL, OSCAR)[0].blocks)
    path = tmp_path / "policy.yml"
    path.write_text(TWO_STEPS)
    in_file: Stack = stack_factory(billbot_policy_file=str(path), billbot_approvers=UNSET)
    await in_file.driver.slash_command(ADA, CHANNEL, "policy")
    await told(in_file, ADA, "from BILLBOT_POLICY_FILE")
    assert ACTION_POLICY_EDIT not in str(in_file.workspace.ephemerals(CHANNEL, ADA)[0].blocks)
    no_slack_violations(stack)
