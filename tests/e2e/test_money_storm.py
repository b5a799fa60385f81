"""Click storms through the real web app: signed requests as Slack sends them, many at once.

- 50 concurrent Pay modal submissions for one approved bill, by four payers (each payer
  submitting their own modal a dozen times), plus Slack retries of some of them: exactly one
  payment in the sandbox, the row shows Paid, and every other submission is answered with
  the reason nothing was paid (in its modal, and in the audit log under its request id).
- Double clicks of Approve by two approvers, plus Slack retries of the same clicks: one
  approval each.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx

from billbot.slackapp.blocks import ACTION_APPROVE
from billbot.slackapp.payload import request_id
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
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
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.support.pay_review import review_of

SUBMISSIONS = 50
PAYERS = (PAT, ANN, BEN, ADA)
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
TOLD_WHY = ("already in progress", "just recorded through billbot",
            "only open or part-paid bills can be paid")


# The storms load the CPU on purpose and assert outcomes (one payment, one approval each);
# acknowledgement time is what bench/ack_latency.py measures.
STORM_DEADLINE = 30.0
STORM_REASON = "concurrent requests load the CPU on purpose; this test asserts outcomes"


def keep_bodies(stack: Stack) -> list[bytes]:
    """Every request body the driver sends from now on (to replay them as Slack retries)."""
    sent: list[bytes] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request.content)

    stack.driver.http.event_hooks["request"].append(keep)
    return sent



def modal_texts(stack: Stack, title: str) -> list[str]:
    """The texts billbot put in modals with `title` (views.update calls)."""
    texts = []
    for call in stack.workspace.calls("views.update"):
        view = call.params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if isinstance(view, dict) and view.get("title", {}).get("text") == title:
            texts.append(" ".join(str(b.get("text", {}).get("text", "")) for b in view["blocks"]))
    return texts


async def replay_as_retries(stack: Stack, bodies: list[bytes], *, submissions: bool) -> None:
    """Deliver `bodies` again as Slack retries them. A repeated submission is dropped before
    any listener runs (its answer would act on the modal); a repeated click is acknowledged
    and then dropped before it changes anything (what the tests check afterwards)."""
    answers = await asyncio.gather(*(
        stack.driver.post_signed(body, "application/x-www-form-urlencoded", extra_headers=RETRY)
        for body in bodies))
    for answer in answers:
        assert answer.status == 200 and answer.body == b""
        if submissions:
            assert answer.headers.get("x-slack-no-retry") == "1"


async def test_fifty_concurrent_pay_submissions_pay_once(stack_factory: Any) -> None:
    # Every payer approved or not: the storm is about concurrency, not separation of duties.
    stack: Stack = stack_factory(billbot_payers=frozenset(PAYERS),
                                 billbot_payer_cannot_approve=False)
    stack.driver.widen_ack_deadline(STORM_DEADLINE, reason=STORM_REASON)
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])
    accounts = {}
    for payer in PAYERS:  # each payer's own modal, opened by their own click
        accounts[payer] = modal_account_ids(await open_pay_modal(stack, main, bill["id"], payer))[0]
    amount = str(Decimal(str(bill["amountDue"])))
    for payer in PAYERS:  # each payer's form, answered with the review step
        await stack.driver.submit_view(payer, pay_values(accounts[payer], amount,
                                                         today().isoformat()))
        assert review_of(stack.driver, payer) is not None
    # The storm hits the confirmation: that alone records the payment.
    bodies = keep_bodies(stack)
    submitters = [PAYERS[i % len(PAYERS)] for i in range(SUBMISSIONS)]
    answers = await asyncio.gather(*(stack.driver.submit_view(user, {}) for user in submitters))
    assert [a.status for a in answers] == [200] * SUBMISSIONS
    await replay_as_retries(stack, bodies[:5], submissions=True)

    await eventually(lambda: len(modal_texts(stack, "Paid"))
                     + len(modal_texts(stack, "Cannot pay")) >= SUBMISSIONS, within=60)
    await eventually(lambda: "Paid" in row_text(current(stack, main.ts), bill["id"]))
    payments = stack.payments()
    assert len(payments) == 1 and payments[0].amount == Decimal(amount)
    assert stack.sandbox_bill(bill["id"])["status"] == "Paid"

    # One submission started the payment; each of the 49 others was refused, with a reason
    # the submitter saw in their modal and the audit log keeps under that request's id.
    started = audit(stack, "payment.started")
    refused = audit(stack, "payment.refused")
    assert len(started) == 1 and len(refused) == SUBMISSIONS - 1
    submitted_ids = {request_id(body.decode()) for body in bodies}
    assert len(submitted_ids) == SUBMISSIONS
    assert {e.request_id for e in started + refused} == submitted_ids
    reasons = Counter(str(e.detail["reason"]) for e in refused)
    assert all(any(why in reason for why in TOLD_WHY) for reason in reasons), reasons
    cannot = modal_texts(stack, "Cannot pay")
    assert len(cannot) == SUBMISSIONS - 1 and len(modal_texts(stack, "Paid")) == 1
    assert all(any(why in text for why in TOLD_WHY) for text in cannot)
    print(f"\nclick storm: submissions={SUBMISSIONS} payers={len(PAYERS)} retries=5 "
          f"payments={len(payments)} refused={len(refused)} reasons={dict(reasons)}")


async def test_double_clicks_and_retries_of_approve_record_one_approval_each(
    stack_factory: Any,
) -> None:
    stack: Stack = stack_factory(billbot_dual_approval_over=Decimal(0))
    stack.driver.widen_ack_deadline(STORM_DEADLINE, reason=STORM_REASON)
    main = await post_digest(stack)
    bill = first_due(stack)
    bodies = keep_bodies(stack)
    await asyncio.gather(*(click(stack, user, main, bill["id"], ACTION_APPROVE)
                           for user in (ANN, BEN, ANN, BEN, ANN, ANN)))
    await replay_as_retries(stack, list(bodies), submissions=False)
    await eventually(lambda: "Pay" in buttons(current(stack, main.ts), bill["id"]))
    recorded = Counter(e.actor for e in audit(stack, "approval.recorded"))
    assert recorded == Counter({ANN: 1, BEN: 1})
    text = row_text(current(stack, main.ts), bill["id"])
    assert text.count(f"<@{ANN}>") == 1 and text.count(f"<@{BEN}>") == 1
    assert stack.payments() == []
