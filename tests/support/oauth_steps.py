"""Steps the OAuth-mode end-to-end tests share: a running two-workspace stack, a slash
command's private answer, and both workspaces installed and bound to their own company."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from tests.e2e.conftest import eventually
from tests.support.oauth_stack import (
    ADA,
    BEA,
    CHANNEL_A,
    CHANNEL_B,
    TEAM_A,
    TEAM_B,
    OAuthStack,
    build_oauth_stack,
    sandbox_company,
)


@asynccontextmanager


async def running_stack(database_url: str) -> AsyncIterator[OAuthStack]:
    async with httpx.AsyncClient(timeout=30) as http:
        made = build_oauth_stack(database_url, http)
        built = next(made)
        try:
            yield built
        finally:
            for _ in made:
                pass


async def command(stack: OAuthStack, ws: Any, user: str, channel: str, line: str) -> str:
    """The answer only `user` sees: the acknowledgement's text, or what came after it."""
    before = len(ws.ephemerals(channel, user))
    response = await stack.driver(ws).slash_command(user, channel, line)
    assert response.status == 200, response.text
    if response.text.strip():
        return response.text
    shown = await eventually(lambda: ws.ephemerals(channel, user)[before:])
    return " ".join(e.text + " " + str(e.blocks) for e in shown)


async def two_workspaces(stack: OAuthStack) -> tuple[str, str]:
    """Ada installs in A and binds Acme; Bea installs in B and binds Globex."""
    for team, user in ((TEAM_A, ADA), (TEAM_B, BEA)):
        assert (await stack.install(team, user)).status_code == 200
    acme, acme_conn = sandbox_company(stack.sandbox, "Acme Trading Ltd")
    globex, globex_conn = sandbox_company(stack.sandbox, "Globex Corporation")
    said = await command(stack, stack.a, ADA, CHANNEL_A, f"connect {acme} {acme_conn}")
    assert "now bound" in said, said
    said = await command(stack, stack.b, BEA, CHANNEL_B, f"connect {globex} {globex_conn}")
    assert "now bound" in said, said
    return acme, globex


__all__ = ["command", "running_stack", "two_workspaces"]
