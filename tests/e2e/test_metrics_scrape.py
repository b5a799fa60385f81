"""/metrics scraped from the bot's web app around a payment: the counters a payment moves
have moved, and the open-intents gauge comes from the database. Counters are per process
and other tests share it, so each is compared with its value before."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.conftest import (
    PAT,
    approve,
    eventually,
    first_due,
    modal_account_ids,
    open_pay_modal,
    pay_values,
    post_digest,
    today,
)
from tests.support.metrics_scrape import scrape, total, value
from tests.support.pay_review import submit_pay


async def test_metrics_move_with_a_payment(stack: Any) -> None:
    base = stack.bot_server.base_url
    before = await scrape(base)
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"])
    view = await open_pay_modal(stack, main, bill["id"])
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0],
                                                   str(bill["amountDue"]), today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    after = await eventually_scraped(base, lambda s: value(
        s, "billbot_payments_total", outcome="succeeded") > value(
        before, "billbot_payments_total", outcome="succeeded"))

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("billbot_payments_total", outcome="succeeded") == 1
    assert moved("billbot_payments_total", outcome="failed") == 0
    assert moved("billbot_codat_calls_total",
                 operation="POST /companies/{companyId}/connections/{connectionId}/payables/"
                           "bills/{billId}/payment", outcome="ok") >= 1
    assert moved("billbot_slack_calls_total", method="chat.postMessage", outcome="ok") >= 1
    assert moved("billbot_slack_calls_total", method="views.open", outcome="ok") >= 1
    assert moved("billbot_slack_ack_duration_seconds_count", kind="command") >= 1
    assert moved("billbot_slack_ack_duration_seconds_count", kind="block_actions") >= 2
    assert moved("billbot_slack_ack_duration_seconds_count", kind="view_submission") >= 2
    assert moved("billbot_http_request_duration_seconds_count", route="/slack/events",
                 status="200") >= 5
    # Nothing is left open once the payment is recorded: counted in the database at scrape.
    assert value(after, "billbot_open_payment_intents") == 0


async def eventually_scraped(base: str, check: Any) -> Any:
    """Scrape until `check` holds (the outcome is committed just after Codat answers)."""
    for _ in range(300):
        samples = await scrape(base)
        if check(samples):
            return samples
        await asyncio.sleep(0.1)
    raise AssertionError("the payment never showed in /metrics")
