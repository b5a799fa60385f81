"""OAuth mode: a workspace's admins are managed in Slack (`/bills admins add|remove|list`),
within that workspace only, and a workspace never loses its last admin."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from billbot.domain.policy import Role
from tests.support.oauth_stack import ADA, ANN, BEA, CHANNEL_A, CHANNEL_B, SAM, TEAM_A, TEAM_B, OAuthStack
from tests.support.oauth_steps import command, running_stack, two_workspaces

pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
async def stack(database_url: str) -> AsyncIterator[OAuthStack]:
    async with running_stack(database_url) as built:
        yield built


def role_audits(stack: OAuthStack) -> list[tuple[str, str]]:
    with stack.bot.engine.connect() as conn:
        rows = conn.execute(text("SELECT action, team_id FROM audit_log "
                                 "WHERE action IN ('role.granted', 'role.revoked') "
                                 "ORDER BY id")).all()
    return [(str(a), str(t)) for a, t in rows]


async def test_admins_are_managed_per_workspace_and_the_last_one_stays(
        stack: OAuthStack) -> None:
    await two_workspaces(stack)
    # Ann, no admin, may not make herself one: refused, nothing granted.
    refused = await command(stack, stack.a, ANN, CHANNEL_A, f"admins add <@{ANN}>")
    assert "Only billbot admins" in refused
    assert stack.members(TEAM_A, Role.ADMIN) == {ADA}
    # Ada, the installer, makes Sam an admin of A; Sam then administers A, not B.
    assert f"<@{SAM}> is now an admin" in await command(stack, stack.a, ADA, CHANNEL_A,
                                                         f"admins add <@{SAM}>")
    assert stack.members(TEAM_A, Role.ADMIN) == {ADA, SAM}
    assert stack.members(TEAM_B, Role.ADMIN) == {BEA}
    assert "is now an approver" in await command(stack, stack.a, SAM, CHANNEL_A,
                                                 f"approvers add <@{ANN}>")
    listed = await command(stack, stack.a, SAM, CHANNEL_A, "admins list")
    assert f"<@{ADA}>" in listed and f"<@{SAM}>" in listed and BEA not in listed
    # Ada steps down; Sam, now the last admin of A, cannot remove himself.
    assert "is no longer an admin" in await command(stack, stack.a, SAM, CHANNEL_A,
                                                    f"admins remove <@{ADA}>")
    last = await command(stack, stack.a, SAM, CHANNEL_A, f"admins remove <@{SAM}>")
    assert "last billbot admin" in last and "Nothing changed" in last
    assert stack.members(TEAM_A, Role.ADMIN) == {SAM}
    # Bea (B's only admin) is refused the same way; B's roles never moved.
    assert "last billbot admin" in await command(stack, stack.b, BEA, CHANNEL_B,
                                                 f"admins remove <@{BEA}>")
    assert stack.members(TEAM_B, Role.ADMIN) == {BEA}
    granted_in_a = [a for a in role_audits(stack) if a[1] == TEAM_A]
    assert ("role.granted", TEAM_A) in granted_in_a and ("role.revoked", TEAM_A) in granted_in_a
    assert all(team != TEAM_B or action == "role.granted" for action, team in role_audits(stack))
    help_text = await command(stack, stack.a, SAM, CHANNEL_A, "help")
    assert "/bills admins add|remove @person" in help_text
