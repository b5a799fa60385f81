"""What a person meets at the edges: a click whose trigger expired, and `/bills help`
showing the admin commands to admins only. Driven through signed requests."""

from __future__ import annotations

import pytest

from billbot.slackapp.blocks import ACTION_PAY, ACTION_REJECT
from tests.e2e.conftest import (
    ADA,
    ANN,
    CHANNEL,
    OSCAR,
    PAT,
    Stack,
    approve,
    click,
    eventually,
    first_due,
    post_digest,
)


@pytest.mark.parametrize("error", ["expired_trigger_id", "exchanged_trigger_id",
                                   "trigger_expired"])
async def test_an_expired_trigger_asks_the_payer_to_click_again(stack: Stack, error: str) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)
    stack.workspace.faults.fail("views.open", error)
    await click(stack, PAT, main, bill["id"], ACTION_PAY)
    told = await eventually(lambda: [e for e in stack.workspace.ephemerals(CHANNEL, PAT)
                                     if "click the button again" in e.text])
    assert "Nothing was recorded" in told[0].text
    assert stack.workspace.open_view(PAT) is None
    assert stack.payments() == []
    # The next click opens the form as usual.
    await click(stack, PAT, main, bill["id"], ACTION_PAY)
    await eventually(lambda: stack.workspace.open_view(PAT) is not None)


async def test_an_expired_trigger_on_reject_asks_to_click_again(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    stack.workspace.faults.fail("views.open", "expired_trigger_id")
    await click(stack, ANN, main, bill["id"], ACTION_REJECT)
    await eventually(lambda: any("click the button again" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, ANN)))
    assert stack.workspace.open_view(ANN) is None


async def test_help_lists_admin_commands_to_admins_only(stack: Stack) -> None:
    admin = (await stack.driver.slash_command(ADA, CHANNEL, "help")).text
    assert "/bills due" in admin
    for command in ("/bills approvers add", "/bills payers add", "/bills connect",
                    "/bills audit"):
        assert command in admin, command
    for user in (ANN, PAT, OSCAR):
        text = (await stack.driver.slash_command(user, CHANNEL, "help")).text
        assert "/bills due" in text
        assert "/bills connect" not in text and "Admin commands" not in text
    # A typo's help is the same help, with the hint.
    typo = (await stack.driver.slash_command(ADA, CHANNEL, "frobnicate")).text
    assert "frobnicate" in typo and "/bills connect" in typo
