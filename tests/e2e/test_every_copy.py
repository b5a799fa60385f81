"""Issue 14, problems 1 and 2: every message that shows a bill tells the truth, and the rows
and the digest header add up after payments.

Two digests of the same channel both show a bill; whatever happens through one of them, the
other is re-rendered too, and a click on either is judged against the bill's current state.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from functools import partial
from typing import Any

from billbot.slackapp.blocks import ACTION_APPROVE
from billbot.storage import bill_copies
from billbot.storage.db import session_scope
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    PAT,
    Stack,
    approve,
    audit,
    buttons,
    click,
    current,
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
from tests.support.books import bookkeeper_adds
from tests.support.pay_review import submit_pay


def ephemerals(stack: Stack, user: str) -> list[str]:
    return [e.text for e in stack.workspace.ephemerals(CHANNEL, user)]


def summary_text(stack: Stack, ts: str) -> str:
    for block in current(stack, ts).blocks:
        if str(block.get("block_id", "")).startswith("digest-summary"):
            return str(block["text"]["text"])
    raise AssertionError("no summary block")


def indexed(stack: Stack, ts: str, bill_id: str) -> bool:
    with session_scope(stack.bot.engine, read_only=True) as session:
        return bill_copies.shown_token(session, channel_id=CHANNEL, ts=ts,
                                       bill_id=bill_id) is not None


def has_row_text(stack: Stack, ts: str, bill_id: str, wanted: str) -> bool:
    return wanted in row_text(current(stack, ts), bill_id)


async def pay(stack: Stack, message: Any, bill_id: str, amount: Decimal, count: int) -> None:
    view = await open_pay_modal(stack, message, bill_id)
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0], str(amount),
                                                   today().isoformat()))
    await eventually(lambda: len(stack.payments()) == count)


async def test_approve_on_an_older_digest_after_payment_is_refused_and_both_show_paid(
        stack: Stack) -> None:
    older = await post_digest(stack)
    as_first_shown = copy.deepcopy(older.blocks)
    newer = await post_digest(stack)
    assert newer.ts != older.ts
    bill = first_due(stack)
    await approve(stack, newer, bill["id"])
    await pay(stack, newer, bill["id"], Decimal(str(bill["amountDue"])), 1)
    await eventually(lambda: "Paid" in row_text(current(stack, newer.ts), bill["id"]))
    # The older digest was re-rendered too: it shows the payment and no Approve button.
    await eventually(lambda: "Paid" in row_text(current(stack, older.ts), bill["id"]))
    assert "Approve" not in buttons(current(stack, older.ts), bill["id"])
    approvals_before = audit(stack, "approval.recorded")

    # A Slack client that has not received the update yet still shows the old row and its
    # Approve button: that click is judged against the bill as it is now.
    with stack.workspace.lock:
        stack.workspace._messages[CHANNEL][older.ts].blocks = as_first_shown
    await click(stack, BEN, older, bill["id"], ACTION_APPROVE)
    await eventually(lambda: any("paid" in t.lower() for t in ephemerals(stack, BEN)))
    assert audit(stack, "approval.recorded") == approvals_before
    for ts in (older.ts, newer.ts):  # the clicked copy is refreshed right after the refusal
        await eventually(partial(has_row_text, stack, ts, bill["id"], "Paid"))
        assert f"<@{BEN}>" not in row_text(current(stack, ts), bill["id"])
    paid_at = max(e.id for e in audit(stack, "payment.succeeded") if e.id is not None)
    assert all(e.id is not None and e.id < paid_at for e in audit(stack, "approval.recorded"))
    no_slack_violations(stack)


async def test_approve_on_a_copy_showing_an_old_amount_is_refused_with_current_figures(
        stack: Stack) -> None:
    older = await post_digest(stack)
    bill = first_due(stack)
    # The copy index is written just after Slack accepts the post; a person's click comes
    # after the message reached their screen, so wait for it as they would.
    await eventually(lambda: indexed(stack, older.ts, bill["id"]))
    stored = stack.sandbox.main_ledger.bills[bill["id"]]
    bookkeeper_adds(stack.sandbox, stored, Decimal("10.00"))
    new_due = f"{Decimal(str(stored['amountDue'])):,.2f}"

    await click(stack, ANN, older, bill["id"], ACTION_APPROVE)
    await eventually(lambda: any(new_due in t for t in ephemerals(stack, ANN)))
    assert audit(stack, "approval.recorded") == []
    # The copy was refreshed to what the bill is now; approving that copy works.
    await eventually(lambda: new_due in row_text(current(stack, older.ts), bill["id"]))
    await approve(stack, older, bill["id"])
    assert len(audit(stack, "approval.recorded")) == 1
    no_slack_violations(stack)


async def test_three_partial_payments_add_up_and_the_header_total_drops(stack: Stack) -> None:
    main = await post_digest(stack)
    other = await post_digest(stack)
    bill = first_due(stack)
    due = Decimal(str(bill["amountDue"]))
    before = summary_text(stack, main.ts)
    await approve(stack, main, bill["id"])
    part = (due / 10).quantize(Decimal("0.01"))
    for n in (1, 2, 3):
        await pay(stack, main, bill["id"], part, n)
        await eventually(partial(has_row_text, stack, main.ts, bill["id"], f"in {n} payment"))
    paid, remains = f"{part * 3:,.2f}", f"{due - part * 3:,.2f}"
    for ts in (main.ts, other.ts):
        await eventually(partial(has_row_text, stack, ts, bill["id"], "in 3 payments"))
        text = row_text(current(stack, ts), bill["id"])
        assert f"Paid GBP {paid} in 3 payments" in text, text
        assert f"GBP {remains}" in text and "remains" in text
    after = summary_text(stack, main.ts)
    assert after != before

    def gbp_total(text: str) -> Decimal:
        found = re.search(r"GBP ([\d,]+\.\d\d)", text)
        assert found, text
        return Decimal(found.group(1).replace(",", ""))

    assert gbp_total(before) - gbp_total(after) == part * 3
    no_slack_violations(stack)


async def test_a_fully_paid_overdue_bill_is_no_longer_shown_overdue(stack: Stack) -> None:
    main = await post_digest(stack)
    bill = first_due(stack)
    assert "overdue" in row_text(main, bill["id"])  # the seed's first GBP bill is overdue
    before = summary_text(stack, main.ts)
    await approve(stack, main, bill["id"])
    await pay(stack, main, bill["id"], Decimal(str(bill["amountDue"])), 1)
    await eventually(partial(has_row_text, stack, main.ts, bill["id"], "Paid"))
    text = row_text(current(stack, main.ts), bill["id"])
    assert "overdue" not in text and ":red_circle:" not in text, text
    after = summary_text(stack, main.ts)
    count = int(re.search(r"\*(\d+) bills?\*", before).group(1))  # type: ignore[union-attr]
    assert f"*{count - 1} bill" in after, after
    no_slack_violations(stack)


async def test_a_long_hostile_reference_and_supplier_leave_the_rest_of_the_row_intact(
        stack: Stack) -> None:
    bill = first_due(stack)
    stored = stack.sandbox.main_ledger.bills[bill["id"]]
    stored["reference"] = "*bold* _it_ ~s~ `c` <!here> <@U0BEN> &amp; " * 60
    stored["supplierRef"] = {**stored["supplierRef"], "supplierName": "Acme & Sons *" * 400}
    main = await post_digest(stack)
    text = row_text(main, bill["id"])
    assert f"{Decimal(str(bill['amountDue'])):,.2f}* due" in text
    assert "overdue" in text or "due" in text.split("\n")[1]
    assert "Awaiting approval" in text
    assert "<!here>" not in text and "<@U0BEN>" not in text and "`" not in text
    assert "&amp;amp;" in text  # escaped once, never split: no dangling "&am…"
    assert not re.search(r"&[a-z]{0,4}…", text)
    no_slack_violations(stack)
