"""Edit on a bill created in billbot (issue 18, item 5): for its creator and admins only
(checked on the server), through Codat's update bill with an Idempotency-Key committed first;
any approval lapses, audited; a double submit updates the bill once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmodel import select

from billbot.domain.bill_edit import EditForm, check_edit
from billbot.sandbox.codat import FaultKind
from billbot.server import recovery_tick
from billbot.services import bill_edits
from billbot.services.bill_edits import NOT_ALLOWED, NOT_CREATED_HERE
from billbot.slackapp.edit_blocks import ACTION_EDIT
from billbot.storage.db import session_scope
from billbot.storage.edit_tables import BillEdit
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
    CHANNEL,
    PAT,
    Stack,
    approve,
    audit,
    buttons,
    current,
    ephemeral_texts,
    eventually,
    first_due,
    money,
    no_slack_violations,
    post_digest,
    row_text,
)
from tests.security.forge import click_payload, post_interaction
from tests.support.edits import bill_updates, edit_values, edit_view, mark_created, press_edit
from tests.support.payrun_steps import on_bot_loop


async def _open_edit(stack: Stack, user: str, message: object, bill_id: str) -> object:
    await press_edit(stack, user, message, bill_id)
    return await eventually(lambda: edit_view(stack, user))


async def test_the_creator_edits_and_the_approval_lapses(stack: Stack) -> None:
    bill = first_due(stack)
    mark_created(stack, bill["id"], BEN)
    main = await post_digest(stack)
    assert "Edit" in buttons(main, bill["id"])
    view = await _open_edit(stack, BEN, main, bill["id"])
    # Approved while the form is open: the row now offers Pay, and no room is left for Edit
    # (five buttons at most); the edit submitted next still lapses that approval.
    await approve(stack, main, bill["id"], ANN)
    assert "Pay" in buttons(current(stack, main.ts), bill["id"])
    assert "Edit" not in buttons(current(stack, main.ts), bill["id"])
    old_net = Decimal(edit_values(view)["line_0"]["amount"]["value"])
    new_net = old_net + Decimal("10.00")
    answer = await stack.driver.submit_view(
        BEN, edit_values(view, amounts={0: str(new_net)}, reference="EDITED-1"))
    assert answer.status == 200

    await eventually(lambda: audit(stack, "bill.edited"))
    stored = stack.sandbox_bill(bill["id"])
    assert stored["reference"] == "EDITED-1"
    assert money(stored["totalAmount"]) > money(bill["totalAmount"])
    assert bill_updates(stack, bill["id"]) == ["handled"]
    lapsed = await eventually(lambda: audit(stack, "approval.lapsed"))
    assert lapsed[-1].detail["approvals_voided"] == [ANN]
    await eventually(lambda: "EDITED-1" in row_text(current(stack, main.ts), bill["id"]))
    assert f"<@{ANN}>" not in row_text(current(stack, main.ts), bill["id"])
    assert any("approval lapsed" in t for t in ephemeral_texts(stack, BEN))
    no_slack_violations(stack)


async def test_an_admin_may_edit_someone_elses_bill(stack: Stack) -> None:
    bill = first_due(stack)
    mark_created(stack, bill["id"], BEN)
    main = await post_digest(stack)
    view = await _open_edit(stack, ADA, main, bill["id"])
    answer = await stack.driver.submit_view(ADA, edit_values(view, due="2099-01-31"))
    assert answer.status == 200
    await eventually(lambda: stack.sandbox_bill(bill["id"])["dueDate"].startswith("2099-01-31"))
    assert (await eventually(lambda: audit(stack, "bill.edited")))[-1].actor == ADA


async def test_others_are_refused_on_the_server(stack: Stack) -> None:
    bill = first_due(stack)
    mark_created(stack, bill["id"], BEN)
    main = await post_digest(stack)
    await press_edit(stack, PAT, main, bill["id"])
    await eventually(lambda: any(NOT_ALLOWED in t for t in ephemeral_texts(stack, PAT)))
    assert edit_view(stack, PAT) is None
    # A bill created in the books has no Edit, and a forged click on it is refused.
    shown = [b for b in stack.sandbox.main_ledger.bills.values()
             if b["id"] != bill["id"] and buttons(main, b["id"])]
    assert shown and "Edit" not in buttons(main, shown[0]["id"])
    await post_interaction(stack, click_payload(stack, BEN, CHANNEL, main, ACTION_EDIT,
                                                shown[0]["id"]))
    await eventually(lambda: any(NOT_CREATED_HERE in t for t in ephemeral_texts(stack, BEN)))
    assert bill_updates(stack, bill["id"]) == [] and bill_updates(stack, shown[0]["id"]) == []
    refused = [e.detail["reason"] for e in audit(stack, "access.refused")
               if e.detail.get("attempted") == "edit"]
    assert refused == [NOT_ALLOWED, NOT_CREATED_HERE]


async def test_a_double_submit_updates_the_bill_once(stack: Stack) -> None:
    bill = first_due(stack)
    mark_created(stack, bill["id"], BEN)
    main = await post_digest(stack)
    view = await _open_edit(stack, BEN, main, bill["id"])
    await approve(stack, main, bill["id"], ANN)
    values = edit_values(view, reference="TWICE-1")
    answers = await asyncio.gather(stack.driver.submit_view(BEN, values, view.id),  # type: ignore[attr-defined]
                                   stack.driver.submit_view(BEN, values, view.id))  # type: ignore[attr-defined]
    assert all(a.status == 200 for a in answers)
    await eventually(lambda: audit(stack, "bill.edited"))
    await asyncio.sleep(0.3)  # let the second submission finish too
    with session_scope(stack.bot.engine, read_only=True) as session:
        edits = list(session.exec(select(BillEdit)).all())
    assert len(edits) == 1 and edits[0].state == "done"
    assert bill_updates(stack, bill["id"]).count("handled") == 1
    assert len(audit(stack, "bill.edited")) == 1 and len(audit(stack, "approval.lapsed")) == 1


async def test_recovery_settles_an_edit_whose_process_died(stack: Stack) -> None:
    """Intent committed, update sent, then the process died: the recovery tick finds the
    update in the books and lapses the approval once; an edit that never reached Codat is
    marked failed, never re-sent."""
    sent, lost = first_due(stack), first_due(stack, currency="EUR")
    for bill in (sent, lost):
        mark_created(stack, bill["id"], BEN)
    main = await post_digest(stack)
    await approve(stack, main, sent["id"], ANN)
    binding = await on_bot_loop(stack, stack.bot.binding_for(CHANNEL))
    assert binding is not None
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    intents = []
    for bill, key in ((sent, "view-crashed-1"), (lost, "view-crashed-2")):
        current_bill = await on_bot_loop(stack, stack.bot.codat.get_bill(
            stack.company_id, stack.connection_id, bill["id"]))
        form = EditForm(reference="AFTER-CRASH", issue_date=current_bill.issue_date,
                        due_date=current_bill.due_date,
                        line_amounts=tuple("5.00" for _ in current_bill.line_items or []))
        proto = check_edit(current_bill, form).prototype
        assert proto is not None
        with session_scope(stack.bot.engine) as session:
            intents.append(bill_edits.begin(session, request_key=key, binding=binding,
                                            bill_id=bill["id"], user_id=BEN, prototype=proto,
                                            at=long_ago))
    await on_bot_loop(stack, stack.bot.codat.update_bill(
        stack.company_id, stack.connection_id, sent["id"], intents[0].prototype,
        idempotency_key=intents[0].idempotency_key))
    await on_bot_loop(stack, recovery_tick(stack.bot))
    await on_bot_loop(stack, recovery_tick(stack.bot))  # the second finds nothing to settle
    with session_scope(stack.bot.engine, read_only=True) as session:
        states = {e.bill_id: e.state for e in session.exec(select(BillEdit)).all()}
    assert states == {sent["id"]: "done", lost["id"]: "failed"}
    assert [e.bill_id for e in audit(stack, "bill.edited")] == [sent["id"]]
    assert audit(stack, "approval.lapsed")[-1].detail["approvals_voided"] == [ANN]
    assert stack.sandbox_bill(lost["id"])["reference"] != "AFTER-CRASH"
    assert bill_updates(stack, lost["id"]) == []


async def test_inline_errors_and_a_refusal_by_the_books_change_nothing(stack: Stack) -> None:
    bill = first_due(stack)
    mark_created(stack, bill["id"], BEN)
    main = await post_digest(stack)
    view = await _open_edit(stack, BEN, main, bill["id"])
    await approve(stack, main, bill["id"], ANN)
    answer = await stack.driver.submit_view(BEN, edit_values(view, amounts={0: "12,50 EUR"},
                                                             due="2000-01-01"))
    assert answer.outcome == "errors"
    assert set(json.loads(answer.text)["errors"]) == {"line_0", "due_date"}
    stack.sandbox.faults.next(FaultKind.REFUSE, 1, path="/bills/", method="PUT")
    answer = await stack.driver.submit_view(BEN, edit_values(view, reference="REFUSED-1"))
    assert answer.status == 200
    await eventually(lambda: any("refused the change" in t for t in ephemeral_texts(stack, BEN)))
    with session_scope(stack.bot.engine, read_only=True) as session:
        assert [e.state for e in session.exec(select(BillEdit)).all()] == ["failed"]
    assert audit(stack, "bill.edited") == [] and audit(stack, "approval.lapsed") == []
    assert f"<@{ANN}>" in row_text(current(stack, main.ts), bill["id"])
