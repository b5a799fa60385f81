"""Pay runs through the real web app: `Pay approved bills` in the digest header and
`/bills payrun`, the form (all ticked, any left out), the review, the confirmation; every
selected bill paid exactly once, the run's message and every row showing it."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from billbot.sandbox.slack.model import View
from billbot.slackapp.payrun_blocks import CALLBACK_PAYRUN_COMPANY
from tests.e2e.conftest import (
    ADA,
    ANN,
    CHANNEL,
    OSCAR,
    OTHER_CHANNEL,
    PAT,
    Stack,
    approve,
    audit,
    current,
    ephemeral_texts,
    eventually,
    no_slack_violations,
    post_digest,
    row_text,
)
from tests.support.payrun_steps import (
    amount,
    click_pay_approved,
    form_of,
    leave_out,
    offered,
    offered_text,
    review_of,
    run_messages,
    run_text,
    top_view,
    view_text,
)


def gbp_bills_in(stack: Stack, blocks_text: str, count: int) -> list[dict[str, Any]]:
    bills = sorted((dict(b) for b in stack.sandbox.main_ledger.bills.values()
                    if b["status"] == "Open" and b["currency"] == "GBP" and b.get("amountDue")
                    and b["id"] in blocks_text), key=lambda b: str(b["dueDate"]))
    assert len(bills) >= count
    return bills[:count]


def the_form(stack: Stack, user: str) -> View:
    form = form_of(stack.driver, user)
    assert form is not None
    return form


def paid_per_bill(stack: Stack) -> Counter[str]:
    return Counter(p.bill_id for p in stack.payments())


async def test_pay_approved_bills_pays_the_ticked_ones_once(stack: Stack) -> None:
    main = await post_digest(stack)
    shown = str(main.blocks)
    chosen = gbp_bills_in(stack, shown, 3)
    for bill in chosen:
        await approve(stack, current(stack, main.ts), bill["id"])
    assert (await click_pay_approved(stack.driver, PAT, CHANNEL, main)).status == 200
    await eventually(lambda: form_of(stack.driver, PAT))
    form = the_form(stack, PAT)
    text = offered_text(form)
    assert all((b["reference"] or b["id"]) in text for b in chosen)
    left_out = chosen[2]
    answer = await stack.driver.submit_view(PAT, leave_out(form, {left_out["reference"]}))
    assert answer.outcome == "updated", answer.text
    review = review_of(stack.driver, PAT)
    assert review is not None
    total = sum(amount(b["amountDue"]) for b in chosen[:2])
    assert "2 payments" in view_text(review) and f"{total:,.2f}" in view_text(review)
    assert stack.payments() == []  # nothing before the confirmation
    await stack.driver.submit_view(PAT, {})
    await eventually(lambda: run_messages(stack.workspace, CHANNEL)
                     and "2 of 2 recorded" in run_text(run_messages(stack.workspace, CHANNEL)[-1]))
    paid = paid_per_bill(stack)
    assert paid == Counter({chosen[0]["id"]: 1, chosen[1]["id"]: 1})
    await eventually(lambda: all("Paid" in row_text(current(stack, main.ts), b["id"])
                                 for b in chosen[:2]))
    assert "Paid" not in row_text(current(stack, main.ts), left_out["id"])
    await eventually(lambda: audit(stack, "payrun.finished"))
    assert len(audit(stack, "payrun.started")) == 1
    no_slack_violations(stack)


async def test_a_second_submit_and_slack_retries_start_nothing_twice(stack: Stack) -> None:
    main = await post_digest(stack)
    chosen = gbp_bills_in(stack, str(main.blocks), 2)
    for bill in chosen:
        await approve(stack, current(stack, main.ts), bill["id"])
    response = await stack.driver.slash_command(PAT, CHANNEL, "payrun")
    assert response.status == 200
    await eventually(lambda: form_of(stack.driver, PAT))
    form = the_form(stack, PAT)
    assert (await stack.driver.submit_view(PAT, {})).outcome == "updated"
    review = review_of(stack.driver, PAT)
    assert review is not None
    sent: list[bytes] = []

    async def keep(request: Any) -> None:
        sent.append(request.content)

    stack.driver.http.event_hooks["request"].append(keep)
    # A double click on Confirm: two submissions of the same review, at once.
    await asyncio.gather(stack.driver.submit_view(PAT, {}, view_id=review.id),
                         stack.driver.submit_view(PAT, {}, view_id=review.id),
                         return_exceptions=True)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    await asyncio.gather(*(stack.driver.post_signed(body, "application/x-www-form-urlencoded",
                                                    extra_headers=retry) for body in sent))
    await eventually(lambda: run_messages(stack.workspace, CHANNEL)
                     and "2 of 2 recorded" in run_text(run_messages(stack.workspace, CHANNEL)[-1]))
    await eventually(lambda: audit(stack, "payrun.finished"))
    assert paid_per_bill(stack) == Counter({b["id"]: 1 for b in chosen})
    assert len(audit(stack, "payrun.started")) == 1
    assert len(run_messages(stack.workspace, CHANNEL)) == 1
    assert offered(form)
    no_slack_violations(stack)


async def test_only_payers_open_a_pay_run(stack: Stack) -> None:
    main = await post_digest(stack)
    await click_pay_approved(stack.driver, OSCAR, CHANNEL, main)
    await eventually(lambda: any("Only payers" in t for t in ephemeral_texts(stack, OSCAR)))
    assert stack.driver.open_view(OSCAR) is None
    assert audit(stack, "access.refused")


async def test_a_bill_issued_after_the_date_is_left_out_with_the_reason(stack: Stack) -> None:
    main = await post_digest(stack)
    chosen = gbp_bills_in(stack, str(main.blocks), 2)
    for bill in chosen:
        await approve(stack, current(stack, main.ts), bill["id"])
    await click_pay_approved(stack.driver, ANN, CHANNEL, main)  # Ann approved: she may not pay
    await eventually(lambda: (v := stack.driver.open_view(ANN)) is not None
                     and "no approved bills you can pay" in view_text(v))
    await click_pay_approved(stack.driver, PAT, CHANNEL, main)
    await eventually(lambda: form_of(stack.driver, PAT))
    issued = sorted(chosen, key=lambda b: str(b["issueDate"]))
    day = str(issued[0]["issueDate"])[:10]
    later = [b for b in chosen if str(b["issueDate"])[:10] > day]
    values = {"date": {"date": {"type": "datepicker", "selected_date": day}}}
    answer = await stack.driver.submit_view(PAT, values)
    review = review_of(stack.driver, PAT)
    assert answer.outcome == "updated" and review is not None
    for bill in later:
        assert bill["reference"] in view_text(review) and "after the run's date" in view_text(review)
    assert ANN and not stack.payments()


async def test_a_payer_of_several_companies_chooses_one_first(stack: Stack) -> None:
    company, connection = next(key for key in stack.sandbox.ledgers
                               if key[0] != stack.company_id)
    await stack.driver.slash_command(ADA, OTHER_CHANNEL, f"connect {company} {connection}")
    await eventually(lambda: any("now bound" in e.text
                                 for e in stack.workspace.ephemerals(OTHER_CHANNEL, ADA)))
    main = await post_digest(stack)
    bill = gbp_bills_in(stack, str(main.blocks), 1)[0]
    await approve(stack, current(stack, main.ts), bill["id"])
    await stack.driver.slash_command(PAT, CHANNEL, "payrun")
    await eventually(lambda: top_view(stack.driver, PAT, CALLBACK_PAYRUN_COMPANY))
    chooser = top_view(stack.driver, PAT, CALLBACK_PAYRUN_COMPANY)
    assert chooser is not None
    select = next(b for b in chooser.definition["blocks"] if b["block_id"] == "company")
    names = [o["text"]["text"] for o in select["element"]["options"]]
    assert len(names) == 2 and "Acme Trading Ltd" in names
    assert select["element"]["initial_option"]["value"] == CHANNEL  # where it was asked
    assert (await stack.driver.submit_view(PAT, {})).outcome == "updated"
    await eventually(lambda: form_of(stack.driver, PAT))
    form = the_form(stack, PAT)
    assert (bill["reference"] or bill["id"]) in offered_text(form)
    # The digest header's button is for its own channel's company: no chooser.
    await click_pay_approved(stack.driver, PAT, CHANNEL, main)
    await eventually(lambda: (v := form_of(stack.driver, PAT)) is not None and v.id != form.id)
    no_slack_violations(stack)
