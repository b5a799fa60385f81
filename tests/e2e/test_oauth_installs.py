"""OAuth mode end to end: installs through Slack's flow into two workspaces, each binding its
own Codat company; nobody in one workspace sees or acts on the other's bills; an uninstall
pauses the workspace; the stored tokens are encrypted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from billbot.domain.policy import Role
from billbot.jobs.catalog import digest_job
from billbot.sandbox.slack import payloads, uninstall
from billbot.services.bindings import COMPANY_TAKEN
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_DETAILS, actions_block_id
from billbot.slackapp.interactions import NOT_IN_COMPANY
from tests.e2e.conftest import eventually
from tests.support.oauth_stack import (
    ADA,
    ANN,
    BEA,
    CHANNEL_A,
    CHANNEL_B,
    SAM,
    TEAM_A,
    TEAM_B,
    OAuthStack,
    sandbox_company,
)
from tests.support.oauth_steps import command, running_stack, two_workspaces

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
async def stack(database_url: str) -> AsyncIterator[OAuthStack]:
    async with running_stack(database_url) as built:
        yield built


def forged_click(ws: Any, user_id: str, channel_id: str, message: Any, action_id: str,
                 value: str) -> dict[str, Any]:
    """A block_actions payload for a button this message does not carry (a tampered value)."""
    user, channel = ws.user(user_id), ws.channel(channel_id)
    button = {"type": "button", "action_id": action_id, "value": value,
              "text": {"type": "plain_text", "text": "Approve"}}
    container = {"type": "message", "message_ts": message.ts, "channel_id": channel_id,
                 "is_ephemeral": False}
    return payloads.block_actions(
        ws, user=user, channel=channel, container=container,
        message=message.to_slack(ws.team_id, ws.app_id),
        action=payloads.button_action(actions_block_id(value), button, ws.ids.ts()),
        trigger_id=ws.issue_trigger(user_id),
        response_url=ws.issue_response_url(channel_id, user_id, message_ts=message.ts),
        state_values={})


def dm_texts(ws: Any, user: str) -> list[str]:
    return [m.text for m in ws.messages(f"D{user}")]


async def test_an_install_stores_sealed_tokens_makes_the_installer_admin_and_sends_the_steps(
        stack: OAuthStack) -> None:
    done = await stack.install(TEAM_B, BEA)
    assert done.status_code == 200, done.text
    # The installer is the workspace's first admin, there and nowhere else; the role
    # variables do not apply in OAuth mode.
    assert stack.members(TEAM_B, Role.ADMIN) == {BEA}
    assert stack.members(TEAM_A, Role.ADMIN) == frozenset()
    await eventually(lambda: any("Thanks for installing billbot" in t
                                 for t in dm_texts(stack.b, BEA)))
    assert stack.a.messages(f"D{BEA}") == []
    # The token at rest is sealed: the raw column never holds what Slack issued.
    with stack.bot.engine.connect() as conn:
        raw = [r[0] for r in conn.execute(text("SELECT bot_token FROM slack_bots"))]
    issued = stack.b.credentials.bot_tokens
    assert len(raw) == 1 and raw[0].startswith("enc:v1:")
    assert not any(token in raw[0] for token in issued)
    # Requests from that workspace are authorized with it: /bills help answers there.
    assert "/bills" in await command(stack, stack.b, BEA, CHANNEL_B, "help")
    # A state that was used (or made up) is refused: no second install from one page.
    again = await stack.http.get(f"{stack.bot_url}/slack/oauth_redirect",
                                 params={"code": "x", "state": "made-up"},
                                 headers={"cookie": "slack-app-oauth-state=made-up"})
    assert again.status_code == 401


async def test_two_workspaces_neither_see_nor_act_on_each_others_bills(
        stack: OAuthStack) -> None:
    acme, globex = await two_workspaces(stack)
    # A company bound in one workspace cannot be bound in the other.
    acme_conn = sandbox_company(stack.sandbox, "Acme Trading Ltd")[1]
    assert COMPANY_TAKEN in await command(stack, stack.b, BEA, CHANNEL_B,
                                          f"connect {acme} {acme_conn}")
    # Roles are per workspace: Sam (one Grid user id in both) is an approver in A only.
    assert "is now an approver" in await command(stack, stack.a, ADA, CHANNEL_A,
                                                 f"approvers add <@{SAM}>")
    assert "is now an approver" in await command(stack, stack.a, ADA, CHANNEL_A,
                                                 f"approvers add <@{ANN}>")
    assert stack.members(TEAM_A, Role.APPROVER) == {SAM, ANN}
    assert stack.members(TEAM_B, Role.APPROVER) == frozenset()

    # /bills due: each workspace lists its own company's bills only.
    globex_bills = {b["reference"] for b in stack.sandbox.ledger(
        globex, sandbox_company(stack.sandbox, "Globex Corporation")[1]).bills.values()}
    due_a = await command(stack, stack.a, ANN, CHANNEL_A, "due 60")
    due_b = await command(stack, stack.b, BEA, CHANNEL_B, "due 60")
    assert "GX-0001" in due_b and not any(ref in due_a for ref in globex_bills), due_a
    acme_refs = [b["reference"] for b in stack.sandbox.main_ledger.bills.values()
                 if b["status"] == "Open"][:3]
    assert not any(ref in due_b for ref in acme_refs)

    # The digest in B shows Globex's bills; an Approve in A carrying B's bill id is refused.
    await stack.driver(stack.b).slash_command(BEA, CHANNEL_B, "digest")
    digest_b = await eventually(lambda: next((m for m in stack.b.messages(CHANNEL_B)
                                              if m.bot_id and "QB-0001" in str(m.blocks)), None))
    assert digest_b is not None
    await stack.driver(stack.a).slash_command(ANN, CHANNEL_A, "digest")
    digest_a = await eventually(lambda: next((m for m in stack.a.messages(CHANNEL_A)
                                              if m.bot_id), None))
    assert digest_a is not None and "QB-000" not in str(digest_a.blocks)
    # A tampered button in A carrying B's bill id: refused, as not this channel's company.
    clicked = await stack.driver(stack.a).post_signed(payloads.interaction_body(
        forged_click(stack.a, SAM, CHANNEL_A, digest_a, ACTION_APPROVE, "QB-0001")),
        payloads.FORM)
    assert clicked.status == 200
    await eventually(lambda: any(NOT_IN_COMPANY in e.text
                                 for e in stack.a.ephemerals(CHANNEL_A, SAM)))
    # Sam is no approver in B either: the same click there is refused as from an outsider.
    await stack.driver(stack.b).click(SAM, CHANNEL_B, digest_b.ts, ACTION_APPROVE,
                                      block_id=actions_block_id("QB-0001"))
    await eventually(lambda: any("Only approvers" in e.text
                                 for e in stack.b.ephemerals(CHANNEL_B, SAM)))
    with stack.bot.engine.connect() as conn:
        approvals = conn.execute(text("SELECT count(*) FROM approval")).scalar_one()
    assert approvals == 0
    # Details with B's bill id, from A: refused the same way, nothing of B's bill shown.
    await stack.driver(stack.a).post_signed(payloads.interaction_body(
        forged_click(stack.a, ANN, CHANNEL_A, digest_a, ACTION_DETAILS, "QB-0001")),
        payloads.FORM)
    await eventually(lambda: any(NOT_IN_COMPANY in e.text
                                 for e in stack.a.ephemerals(CHANNEL_A, ANN)))
    def modal_text() -> str:
        view = stack.a.open_view(ANN)
        text = str(view.definition) if view is not None else ""
        return text if "could not show" in text else ""

    shown = await eventually(modal_text)
    assert "GX-0001" not in shown and "Acme Paper" not in shown
    # /bills connect's form in B offers B's company, never A's.
    await stack.driver(stack.b).slash_command(BEA, CHANNEL_B, "connect")
    form = await eventually(lambda: stack.b.open_view(BEA))
    assert form is not None and globex in str(form.definition)
    assert acme not in str(form.definition)
    # App Home: Ann, an approver in A, is offered A's bills only; Sam in B has no role there.
    await stack.driver(stack.a).open_home(ANN)
    home_a = await eventually(lambda: stack.a.views.home(ANN))
    assert home_a is not None
    assert "Approve" in str(home_a.definition) and "GX-0" not in str(home_a.definition)
    await stack.driver(stack.b).open_home(SAM)
    home_b = await eventually(lambda: stack.b.views.home(SAM))
    assert home_b is not None
    assert "GX-0" not in str(home_b.definition) and "Approve" not in str(home_b.definition)


async def test_background_work_posts_with_each_workspaces_own_token(stack: OAuthStack) -> None:
    acme, globex = await two_workspaces(stack)
    day = stack.bot.today().isoformat()
    for channel, company in ((CHANNEL_B, globex), (CHANNEL_A, acme)):
        assert await stack.on_bot_loop(digest_job(stack.bot, {
            "channel_id": channel, "company_id": company, "day": day})) is True
    posted_b = [c for c in stack.b.calls("chat.postMessage") if c.params["channel"] == CHANNEL_B]
    posted_a = [c for c in stack.a.calls("chat.postMessage") if c.params["channel"] == CHANNEL_A]
    assert posted_b and posted_a
    # Each went out with the token its own workspace issued, and only there.
    assert {c.token for c in posted_b} <= stack.b.credentials.bot_tokens
    assert {c.token for c in posted_a} <= stack.a.credentials.bot_tokens
    assert "QB-0001" in str(posted_b[0].params) and "QB-0001" not in str(posted_a[0].params)


async def test_rotating_tokens_are_refreshed_and_stored_sealed(stack: OAuthStack) -> None:
    # Tokens that live an hour: inside Bolt's two-hour margin, so each request refreshes.
    stack.a.oauth.rotate_tokens = True
    stack.a.oauth.token_lifetime = timedelta(hours=1)
    assert (await stack.install(TEAM_B, BEA)).status_code == 200
    first = await stack.bot.installations.async_find_bot(  # type: ignore[union-attr]
        enterprise_id=None, team_id=TEAM_B)
    assert first is not None and first.bot_token.startswith("xoxe.xoxb-")
    assert "/bills" in await command(stack, stack.b, BEA, CHANNEL_B, "help")
    refreshed = [c for c in stack.a.calls("oauth.v2.access")
                 if c.params.get("grant_type") == "refresh_token"]
    assert refreshed and all(c.answer["ok"] for c in refreshed)
    now = await stack.bot.installations.async_find_bot(  # type: ignore[union-attr]
        enterprise_id=None, team_id=TEAM_B)
    assert now is not None and now.bot_token != first.bot_token
    with stack.bot.engine.connect() as conn:
        raw = [r[0] for r in conn.execute(text("SELECT bot_token FROM slack_bots"))]
    assert all(value.startswith("enc:v1:") for value in raw)
    assert not any(now.bot_token in value for value in raw)


async def test_an_uninstall_deletes_the_installation_and_pauses_the_workspace(
        stack: OAuthStack) -> None:
    await two_workspaces(stack)
    driver = stack.driver(stack.b)
    for event in uninstall(stack.b):
        assert (await driver.send_event(event)).status == 200

    def paused() -> dict[str, Any]:
        with stack.bot.engine.connect() as conn:
            return dict(conn.execute(text(
                "SELECT channel_id, paused_at IS NOT NULL FROM channel_binding")).all())

    await eventually(lambda: paused() == {CHANNEL_A: False, CHANNEL_B: True})
    with stack.bot.engine.connect() as conn:
        teams = {r[0] for r in conn.execute(text("SELECT team_id FROM slack_bots"))}
        audited = conn.execute(text(
            "SELECT team_id FROM audit_log WHERE action = 'binding.paused'")).all()
    assert teams == {TEAM_A}
    assert [tuple(r) for r in audited] == [(TEAM_B,)]
    # Installing again resumes the workspace's bindings.
    assert (await stack.install(TEAM_B, BEA)).status_code == 200
    assert paused() == {CHANNEL_A: False, CHANNEL_B: False}
