"""Safe defaults (issue 14, problem 7): payers are nobody unless named, and a payer may not pay
a bill they approved unless BILLBOT_PAYER_CANNOT_APPROVE=false."""

from __future__ import annotations

from functools import partial
from typing import Any

from billbot.slackapp.blocks import ACTION_PAY
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    PAT,
    UNSET,
    approve,
    buttons,
    click,
    current,
    eventually,
    first_due,
    open_pay_modal,
    post_digest,
)


def refused_as_payer(stack: Any, user: str) -> bool:
    return any("Only payers" in e.text for e in stack.workspace.ephemerals(CHANNEL, user))


async def test_a_config_with_only_approvers_has_no_payers(stack_factory: Any) -> None:
    stack = stack_factory(billbot_payers=UNSET)
    assert stack.settings.billbot_payers == frozenset()
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], BEN)
    assert "Pay" in buttons(current(stack, main.ts), bill["id"])
    for user in (ANN, PAT):
        await click(stack, user, main, bill["id"], ACTION_PAY)
        await eventually(partial(refused_as_payer, stack, user))
        assert stack.workspace.open_view(user) is None


async def test_an_approver_who_is_also_a_payer_cannot_pay_what_she_approved(stack: Any) -> None:
    assert stack.settings.billbot_payer_cannot_approve is True  # the default
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)  # ANN approves and is a payer too
    await click(stack, ANN, main, bill["id"], ACTION_PAY)
    # The form that opened says why instead of offering accounts.
    await eventually(lambda: (v := stack.workspace.open_view(ANN)) is not None
                     and "approved this bill" in str(v.definition["blocks"]))
    await open_pay_modal(stack, main, bill["id"], user=PAT)  # someone else may


async def test_the_rule_can_be_switched_off(stack_factory: Any) -> None:
    stack = stack_factory(billbot_payer_cannot_approve=False)
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)
    await open_pay_modal(stack, main, bill["id"], user=ANN)
