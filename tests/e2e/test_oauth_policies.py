"""OAuth mode: each workspace keeps its own approval policy versions. A workspace's admins
edit its policy (numbered from 1 there), its bills and payer limits follow it, and nothing of
it shows or applies in another workspace."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Coroutine
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY, actions_block_id
from billbot.slackapp.payment_outcomes import recover_payments
from billbot.slackapp.policy_edit_blocks import FIELD_POLICY
from billbot.slackapp.policy_flow import FILE_SINGLE_WORKSPACE
from tests.e2e.conftest import buttons, eventually, modal_account_ids, pay_values, row_text, today
from tests.support.oauth_stack import (
    ADA,
    ANN,
    BEA,
    BOB,
    CHANNEL_A,
    CHANNEL_B,
    SAM,
    TEAM_A,
    TEAM_B,
    OAuthStack,
)
from tests.support.oauth_steps import command, running_stack, two_workspaces
from tests.support.pay_review import submit_pay

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")

TWO_STEPS_A = f"""rules:
  - name: Two steps in A
    steps:
      - approvers: [{ANN}]
      - approvers: [{ADA}]
"""
ONE_STEP_B = f"""rules:
  - name: Only B
    steps:
      - approvers: [{BOB}]
"""


@pytest.fixture
async def stack(database_url: str) -> AsyncIterator[OAuthStack]:
    async with running_stack(database_url) as built:
        yield built


def policy_rows(stack: OAuthStack) -> list[tuple[str, int, str]]:
    """Every workspace's versions: none is written for no workspace at start, as the
    single-workspace policy (and its file) does not apply in OAuth mode."""
    with stack.bot.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT team_id, number, author FROM policy_version ORDER BY team_id, number"))]


async def open_policy_editor(stack: OAuthStack, ws: Any, user: str, channel: str) -> str:
    """`/bills policy edit` in `ws`; the YAML the form opened with."""
    await stack.driver(ws).slash_command(user, channel, "policy edit")
    view = await eventually(lambda: ws.open_view(user))
    (field,) = [b for b in view.blocks if b.get("block_id") == FIELD_POLICY]
    return str(field["element"]["initial_value"])


async def save_policy(stack: OAuthStack, ws: Any, user: str, yaml: str) -> Any:
    return await stack.driver(ws).submit_view(user, {FIELD_POLICY: {FIELD_POLICY: {
        "type": "plain_text_input", "value": yaml}}})


def row_now(ws: Any, channel: str, ts: str, bill_id: str) -> str:
    message = ws.message(channel, ts)
    return row_text(message, bill_id) if message is not None else ""


def digest_row(ws: Any, channel: str, bill_ids: Any) -> tuple[Any, str]:
    """The bot's newest digest in `channel` and the first of `bill_ids` it offers to approve."""
    message = [m for m in ws.messages(channel) if m.bot_id][-1]
    bill_id = next(b for b in bill_ids if "Approve" in buttons(message, b))
    return message, bill_id


async def test_each_workspace_edits_and_reads_only_its_own_approval_policy(
        stack: OAuthStack) -> None:
    await two_workspaces(stack)
    # A role command is a version of A's policy only: A's version 1, whatever else exists.
    assert "is now an approver" in await command(stack, stack.a, ADA, CHANNEL_A,
                                                 f"approvers add <@{SAM}>")
    assert policy_rows(stack) == [(TEAM_A, 1, ADA)]
    # Ada, admin of A, opens A's editor; a role change in A since makes that form stale.
    assert f"approvers: [{SAM}]" in await open_policy_editor(stack, stack.a, ADA, CHANNEL_A)
    assert "is now an approver" in await command(stack, stack.a, ADA, CHANNEL_A,
                                                 f"approvers add <@{ANN}>")
    stale = (await save_policy(stack, stack.a, ADA, TWO_STEPS_A)).json()
    assert "changed by @ada (version 2)" in stale["errors"][FIELD_POLICY]
    assert policy_rows(stack) == [(TEAM_A, 1, ADA), (TEAM_A, 2, ADA)]
    await stack.driver(stack.a).close_view(ADA)
    await open_policy_editor(stack, stack.a, ADA, CHANNEL_A)
    assert (await save_policy(stack, stack.a, ADA, TWO_STEPS_A)).outcome == "closed"
    await eventually(lambda: any(f"Policy version 3 by <@{ADA}>" in e.text
                                 for e in stack.a.ephemerals(CHANNEL_A, ADA)))
    assert policy_rows(stack)[-1] == (TEAM_A, 3, ADA)

    # A's bills follow A's version: Sam, an approver of A by role but not in its rule, is
    # refused; Ann's approval counts for step 1 under version 3.
    await stack.driver(stack.a).slash_command(ANN, CHANNEL_A, "digest")
    await eventually(lambda: [m for m in stack.a.messages(CHANNEL_A) if m.bot_id])
    digest_a, bill_a = digest_row(stack.a, CHANNEL_A, stack.sandbox.main_ledger.bills)
    assert "Rule “Two steps in A”" in row_text(digest_a, bill_a)
    await stack.driver(stack.a).click(SAM, CHANNEL_A, digest_a.ts, ACTION_APPROVE,
                                      block_id=actions_block_id(bill_a))
    await eventually(lambda: any("does not ask you now" in e.text
                                 for e in stack.a.ephemerals(CHANNEL_A, SAM)))
    await stack.driver(stack.a).click(ANN, CHANNEL_A, digest_a.ts, ACTION_APPROVE,
                                      block_id=actions_block_id(bill_a))
    await eventually(lambda: f"Asked next: <@{ADA}>" in row_now(stack.a, CHANNEL_A, digest_a.ts,
                                                                bill_a))
    with stack.bot.engine.connect() as conn:
        counted = conn.execute(text(
            "SELECT actor, team_id, detail FROM audit_log WHERE action = 'approval.recorded'"
        )).all()
    assert [(r[0], r[1]) for r in counted] == [(ANN, TEAM_A)]
    assert '"policy_version": 3' in str(counted[0][2]).replace("'", '"')

    # B shows nothing of A: no version (B has none), no A rule, no A user; B's bills keep
    # the rule of B's roles.
    shown_b = await command(stack, stack.b, BEA, CHANNEL_B, "policy")
    assert "Approvers: nobody" in shown_b and "version" not in shown_b.split("Edit")[0].lower()
    assert not any(who in shown_b for who in (ADA, ANN, SAM, "Two steps"))
    assert FILE_SINGLE_WORKSPACE in await command(stack, stack.a, ADA, CHANNEL_A,
                                                  "policy reload")
    # Ada, admin of A, joins B (one Grid user id in both): no admin there, B's editor does
    # not open for her.
    stack.b.add_user(ADA, "ada")
    assert "Only billbot admins can edit" in await command(stack, stack.b, ADA, CHANNEL_B,
                                                           "policy edit")
    assert stack.b.open_view(ADA) is None
    # B's first edit is B's version 1; Bob approves in B only because B's rule names him.
    await open_policy_editor(stack, stack.b, BEA, CHANNEL_B)
    assert (await save_policy(stack, stack.b, BEA, ONE_STEP_B)).outcome == "closed"
    assert policy_rows(stack) == [(TEAM_A, 1, ADA), (TEAM_A, 2, ADA), (TEAM_A, 3, ADA),
                                  (TEAM_B, 1, BEA)]
    digest_b = await bob_approves_in_b(stack)
    await eventually(lambda: f"<@{BOB}>" in row_now(stack.b, CHANNEL_B, digest_b.ts, "QB-0001"))
    # Each workspace's listing is its own; A's rule stayed A's after B's edit.
    listing_a = await command(stack, stack.a, ANN, CHANNEL_A, "policy")
    assert "version 3" in listing_a and "Two steps in A" in listing_a
    assert "Only B" not in listing_a and BOB not in listing_a
    listing_b = await command(stack, stack.b, BEA, CHANNEL_B, "policy")
    assert "version 1" in listing_b and "Only B" in listing_b and "Older versions" not in listing_b
    assert not any(who in listing_b for who in (ADA, ANN, SAM, "Two steps"))
    with stack.bot.engine.connect() as conn:
        audited = conn.execute(text(
            "SELECT team_id, actor FROM audit_log WHERE action = 'policy.version_created' "
            "ORDER BY id")).all()
    assert [tuple(r) for r in audited if r[0]] == [(TEAM_A, ADA)] * 3 + [(TEAM_B, BEA)]


async def bob_approves_in_b(stack: OAuthStack) -> Any:
    """B's digest posted by Bea, and Bob's Approve on its QB-0001; the digest message."""
    await stack.driver(stack.b).slash_command(BEA, CHANNEL_B, "digest")
    digest_b = await eventually(lambda: next((m for m in stack.b.messages(CHANNEL_B)
                                              if m.bot_id and "QB-0001" in str(m.blocks)), None))
    assert digest_b is not None
    await stack.driver(stack.b).click(BOB, CHANNEL_B, digest_b.ts, ACTION_APPROVE,
                                      block_id=actions_block_id("QB-0001"))
    return digest_b


async def open_pay_form(stack: OAuthStack, ws: Any, user: str, channel: str, ts: str,
                        bill_id: str) -> Any:
    await stack.driver(ws).click(user, channel, ts, ACTION_PAY, block_id=actions_block_id(bill_id))
    return await eventually(lambda: (v := ws.open_view(user)) is not None
                            and v.definition.get("callback_id") == "pay_bill" and v)


async def in_no_workspace(work: Coroutine[Any, Any, None]) -> None:
    """As a job runs it: in a fresh context, acting for no workspace."""
    await asyncio.create_task(work, context=contextvars.Context())


async def test_payer_limits_come_from_the_acting_workspaces_policy(stack: OAuthStack) -> None:
    await two_workspaces(stack)
    # B's policy limits Sam (one Grid user in both) to USD 100; A's has no payers section.
    await open_policy_editor(stack, stack.b, BEA, CHANNEL_B)
    assert (await save_policy(stack, stack.b, BEA, ONE_STEP_B + f"""payers:
  - user: {SAM}
    limit: {{USD: 100}}
""")).outcome == "closed"
    for line in (f"approvers add <@{ANN}>", f"payers add <@{SAM}>"):
        assert "is now" in await command(stack, stack.a, ADA, CHANNEL_A, line)
    # In B: Bob approves; Sam's USD 100.01 is above his limit there, so nothing is paid.
    digest_b = await bob_approves_in_b(stack)
    await eventually(lambda: "Pay" in buttons(stack.b.message(CHANNEL_B, digest_b.ts)
                                              or digest_b, "QB-0001"))
    form = await open_pay_form(stack, stack.b, SAM, CHANNEL_B, digest_b.ts, "QB-0001")
    refused = await submit_pay(stack.driver(stack.b), SAM, pay_values(
        modal_account_ids(form)[0], "100.01", today().isoformat()))
    assert refused.json()["errors"]["amount"] == ("USD 100.01 is above your payment limit of "
                                                  "USD 100.00.")
    # In A the same person pays a USD bill above B's limit: A's policy sets none.
    await stack.driver(stack.a).slash_command(ANN, CHANNEL_A, "digest")
    await eventually(lambda: [m for m in stack.a.messages(CHANNEL_A) if m.bot_id])
    usd = [b for b, body in stack.sandbox.main_ledger.bills.items()
           if body["currency"] == "USD" and body["status"] == "Open"]
    digest_a, bill_a = digest_row(stack.a, CHANNEL_A, usd)
    await stack.driver(stack.a).click(ANN, CHANNEL_A, digest_a.ts, ACTION_APPROVE,
                                      block_id=actions_block_id(bill_a))
    await eventually(lambda: "Pay" in buttons(stack.a.message(CHANNEL_A, digest_a.ts)
                                              or digest_a, bill_a))
    form = await open_pay_form(stack, stack.a, SAM, CHANNEL_A, digest_a.ts, bill_a)
    await submit_pay(stack.driver(stack.a), SAM, pay_values(
        modal_account_ids(form)[0], "100.01", today().isoformat()))

    def paid() -> list[tuple[Any, ...]]:
        with stack.bot.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT i.team_id, i.payer_id, t.bill_id, i.currency, i.state FROM "
                "payment_intent i JOIN bill_track t ON t.id = i.bill_track_id "
                "WHERE i.state = 'succeeded'"))]
    assert await eventually(paid) == [(TEAM_A, SAM, bill_a, "USD", "succeeded")]

    # A payment whose outcome its process never showed (it died first): the recovery tick,
    # which runs in no workspace, shows it in A's channel with A's token.
    def shown() -> bool:
        with stack.bot.engine.connect() as conn:
            return conn.execute(text("SELECT outcome_shown_at FROM payment_intent WHERE "
                                     "state = 'succeeded'")).scalar_one() is not None
    await eventually(shown)  # the live path is done with it
    with stack.bot.engine.begin() as conn:
        conn.execute(text("UPDATE payment_intent SET outcome_shown_at = NULL, "
                          "finished_at = :at WHERE state = 'succeeded'"),
                     {"at": stack.bot.clock.now() - timedelta(hours=1)})

    def updates_in_a() -> int:
        return sum(1 for c in stack.a.calls("chat.update") if c.answer.get("ok"))
    before = updates_in_a()
    await stack.on_bot_loop(in_no_workspace(recover_payments(stack.bot)))
    assert shown() and updates_in_a() > before
