"""App Home end to end: `app_home_opened` publishes each person's Home tab (per role), a click
in Home goes through every server check like a click in the channel, and a change made
anywhere re-publishes the Home views that show the bill."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billbot.sandbox.slack.model import View
from billbot.slack_web.block_revisions import base_block_id
from billbot.slackapp.blocks import ACTION_APPROVE, section_block_id
from billbot.slackapp.payrun_blocks import TITLE
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    PAT,
    Stack,
    approve,
    audit,
    current,
    eventually,
    first_due,
    no_slack_violations,
    post_digest,
    row_text,
)
from tests.support.books import bookkeeper_adds


def home(stack: Stack, user: str) -> View | None:
    return stack.workspace.views.home(user)


def home_text(view: View | None) -> str:
    assert view is not None
    parts: list[str] = []
    for block in view.blocks:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(str(text.get("text")))
        for element in block.get("elements", []):
            inner = element.get("text")
            parts.append(str(inner.get("text") if isinstance(inner, dict) else inner))
    return "\n".join(parts)


def home_row(view: View | None, bill_id: str) -> str | None:
    assert view is not None
    for block in view.blocks:
        if base_block_id(block.get("block_id")) == section_block_id(bill_id):
            return str(block["text"]["text"])
    return None


def home_buttons(view: View | None, bill_id: str) -> list[str]:
    assert view is not None
    for i, block in enumerate(view.blocks):
        if base_block_id(block.get("block_id")) == section_block_id(bill_id):
            after = view.blocks[i + 1] if i + 1 < len(view.blocks) else {}
            if after.get("type") == "actions":
                return [e["text"]["text"] for e in after["elements"]]
    return []


async def opened(stack: Stack, user: str) -> View:
    before = home(stack, user)
    response = await stack.driver.open_home(user)
    assert response is not None and response.status == 200
    def republished() -> View | None:
        v = home(stack, user)
        return v if v is not None and (before is None or v.hash != before.hash) else None
    found = await eventually(republished)
    assert found is not None
    return found


async def test_each_role_sees_its_queue_and_outsiders_see_the_admins(stack: Stack) -> None:
    bill = first_due(stack)
    ann = await opened(stack, ANN)
    assert "Waiting for you" in home_text(ann)
    assert home_row(ann, bill["id"]) is not None
    assert home_buttons(ann, bill["id"]) == ["Approve", "Reject", "Hold", "Details"]
    # A payer sees nothing to pay before anything is approved.
    pat = await opened(stack, PAT)
    assert home_row(pat, bill["id"]) is None
    assert "Waiting for you (0)" in home_text(pat)
    oscar = await opened(stack, OSCAR)
    text = home_text(oscar)
    assert "no finance role" in text and f"<@{ADA}>" in text
    assert all(b.get("type") != "actions" for b in oscar.blocks)
    publishes = stack.workspace.calls("views.publish")
    assert {c.params.get("user_id") for c in publishes} == {ANN, PAT, OSCAR}
    assert all(len(home(stack, u).blocks) <= 100 for u in (ANN, PAT, OSCAR))  # type: ignore[union-attr]
    no_slack_violations(stack)


async def test_an_approval_in_the_channel_refreshes_the_homes_that_show_the_bill(
        stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    pat = await opened(stack, PAT)
    ben = await opened(stack, BEN)
    assert home_row(ben, bill["id"]) is not None and home_row(pat, bill["id"]) is None
    await approve(stack, main, bill["id"], user=ANN)
    # The bill left Ben's queue (approved) and joined the payer's, with its Pay button.
    await eventually(lambda: home_row(home(stack, BEN), bill["id"]) is None)
    await eventually(lambda: home_row(home(stack, PAT), bill["id"]) is not None)
    assert "Pay" in home_buttons(home(stack, PAT), bill["id"])
    assert f"<@{ANN}>" in str(home_row(home(stack, PAT), bill["id"]))
    no_slack_violations(stack)


async def test_approve_from_home_updates_the_channel_row(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    await opened(stack, BEN)
    key = home(stack, BEN)
    assert key is not None
    response = await stack.driver.click_home(BEN, ACTION_APPROVE, row=str(
        (home_row(key, bill["id"]) or "").split("\n")[0]))
    assert response.status == 200
    await eventually(lambda: f"<@{BEN}>" in row_text(current(stack, main.ts), bill["id"]))
    await eventually(lambda: home_row(home(stack, BEN), bill["id"]) is None)
    no_slack_violations(stack)


async def test_a_click_from_home_is_checked_like_any_other(stack: Stack) -> None:
    """Pat (payer only) cannot approve, even with a button from someone else's Home."""
    main = await post_digest(stack)
    bill = first_due(stack)
    await opened(stack, ANN)
    view = home(stack, ANN)
    assert view is not None
    # Pat's client showing Ann's Home is impossible in Slack; the payload is what counts.
    stack.workspace.views.publish(method="test", user_id=PAT, view_hash=None,
                                  definition=view.definition, known_user=lambda u: True)
    await stack.driver.click_home(PAT, ACTION_APPROVE, row=str(
        (home_row(view, bill["id"]) or "").split("\n")[0]))
    await eventually(lambda: any("Only approvers" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, PAT)))
    assert f"<@{PAT}>" not in row_text(current(stack, main.ts), bill["id"])


async def test_long_queues_are_paged(stack_factory: Any) -> None:
    stack = stack_factory(bills=30)
    first = await opened(stack, BEN)
    text = home_text(first)
    assert "Waiting for you (30)" in text and "Page 1 of 3" in text
    rows = [b for b in first.blocks if str(b.get("block_id", "")).startswith("bill:")]
    assert len(rows) == 12
    await stack.driver.click_home(BEN, text="Next", block_id="home-pager-waiting")
    def second_page() -> View | None:
        v = home(stack, BEN)
        return v if v is not None and "Page 2 of 3" in home_text(v) else None
    second = await eventually(second_page)
    assert second is not None
    again = [b for b in second.blocks if str(b.get("block_id", "")).startswith("bill:")]
    assert {b["block_id"] for b in again}.isdisjoint({b["block_id"] for b in rows})
    no_slack_violations(stack)


async def test_payers_open_a_pay_run_from_home(stack: Stack) -> None:
    pat = await opened(stack, PAT)
    assert "Pay approved bills" in [e["text"]["text"] for b in pat.blocks
                                    if b.get("type") == "actions" for e in b["elements"]]
    ben = await opened(stack, BEN)  # an approver only: no pay run button
    assert "Pay approved bills" not in str(ben.blocks)
    await stack.driver.click_home(PAT, text="Pay approved bills")
    view = await eventually(lambda: stack.workspace.open_view(PAT))
    assert view is not None and view.definition["title"]["text"] == TITLE


async def test_a_refusal_reaches_someone_outside_the_channel_by_dm(stack: Stack) -> None:
    """A click from Home has no channel to answer in: someone who is not in the bound channel
    (where ephemerals go) is told in their DM with billbot."""
    stack.workspace.add_channel(CHANNEL, "finance", members=[ANN, BEN, PAT, ADA])
    bill = first_due(stack)
    view = await opened(stack, ANN)
    stack.workspace.views.publish(method="test", user_id=OSCAR, view_hash=None,
                                  definition=view.definition, known_user=lambda u: True)
    await stack.driver.click_home(OSCAR, ACTION_APPROVE, row=str(
        (home_row(view, bill["id"]) or "").split("\n")[0]))
    await eventually(lambda: any("Only approvers" in m.text
                                 for m in stack.workspace.messages(f"D{OSCAR}")))
    assert stack.workspace.ephemerals(CHANNEL, OSCAR) == []


async def test_approve_on_a_home_view_showing_old_figures_is_refused(stack: Stack) -> None:
    """Nobody approves figures they did not see, from Home as from the channel: the view is
    judged against the figures it showed, then re-published with the current ones."""
    bill = first_due(stack)
    view = await opened(stack, BEN)
    label = str((home_row(view, bill["id"]) or "").split("\n")[0])
    stored = stack.sandbox.main_ledger.bills[bill["id"]]
    bookkeeper_adds(stack.sandbox, stored, Decimal("10.00"))
    new_due = f"{Decimal(str(stored['amountDue'])):,.2f}"
    await stack.driver.click_home(BEN, ACTION_APPROVE, row=label)
    await eventually(lambda: any(new_due in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, BEN)))
    assert audit(stack, "approval.recorded") == []
    await eventually(lambda: new_due in str(home_row(home(stack, BEN), bill["id"])))
    # Approving what the view shows now works.
    await stack.driver.click_home(BEN, ACTION_APPROVE, row=label)
    await eventually(lambda: len(audit(stack, "approval.recorded")) == 1)
