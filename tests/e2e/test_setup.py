"""`/bills setup` (issue 19, item 4): what is still missing in this channel, each step with the
command that fixes it, to the caller only; admin-only steps marked for everyone else."""

from __future__ import annotations

from typing import Any

import httpx

from billbot.slackapp.setup_text import onboarding_message
from tests.e2e.conftest import ADA, CHANNEL, OSCAR, OTHER_CHANNEL, Stack, eventually


async def setup_answer(stack: Stack, user: str, channel: str = CHANNEL) -> str:
    before = len(stack.workspace.ephemerals(channel, user))
    await stack.driver.slash_command(user, channel, "setup")
    found = await eventually(lambda: stack.workspace.ephemerals(channel, user)[before:])
    return str(found[-1].text)


async def test_a_channel_fully_set_up_has_nothing_missing(stack: Stack) -> None:
    text = await setup_answer(stack, ADA)
    assert "Nothing is missing" in text
    assert "Connected to *" in text and "Payment accounts:" in text and "Digest every" in text
    assert stack.workspace.messages(CHANNEL) == []  # ephemeral: nothing posted in the channel


async def test_an_unbound_channel_without_billbot_lists_what_to_do(stack: Stack) -> None:
    stack.workspace.set_bot_member(OTHER_CHANNEL, False)
    text = await setup_answer(stack, OSCAR, OTHER_CHANNEL)
    assert "3 of 7 steps still to do" in text  # invite, connect, then an account
    assert "`/invite @billbot`" in text
    assert "`/bills connect` _(admins)_" in text  # Oscar is no admin: marked for him
    assert "Steps marked _(admins)_" in text
    admin_text = await setup_answer(stack, ADA, OTHER_CHANNEL)
    assert "`/bills connect`" in admin_text and "_(admins)_" not in admin_text


async def test_missing_people_and_accounts_are_named(stack_factory: Any) -> None:
    stack: Stack = stack_factory(billbot_approvers=frozenset(), billbot_payers=frozenset())
    for account in stack.sandbox.main_ledger.bank_accounts.values():
        account["status"] = "Archived"
    text = await setup_answer(stack, ADA)
    assert "3 of 7 steps still to do" in text
    for fix in ("`/bills approvers add @person`", "`/bills payers add @person`",
                "`/bills accounts add`"):
        assert fix in text


async def test_a_disconnected_company_is_named_with_what_to_do(stack: Stack) -> None:
    url = (f"{stack.settings.codat_base_url}/_sandbox/companies/{stack.company_id}/"
           f"connections/{stack.connection_id}/status")
    async with httpx.AsyncClient() as http:
        assert (await http.post(url, json={"status": "Deauthorized"})).status_code == 200
    text = await setup_answer(stack, ADA)
    assert "its connection is Deauthorized" in text and "link page" in text


def test_the_onboarding_message_names_the_next_steps() -> None:
    text, blocks = onboarding_message("U0INSTALLER")
    assert "<@U0INSTALLER>" in text and blocks
    for step in ("/invite @billbot", "/bills connect", "/bills approvers add",
                 "/bills payers add", "/bills setup"):
        assert step in text
