"""A 150-bill pay run with Slack's rate limits on in the stand-in and 429s (with Retry-After)
injected into the calls the run makes: chat.update (rows, the run's message), views.update
(the run's modal) and chat.postMessage. Every payment is recorded, every row shown in the
channel says Paid, no failure is shown, each refused call was sent again no sooner than its
Retry-After (read on the stand-in's record of arrivals), and the 429s are the injected ones
(billbot's pacing keeps under the stand-in's own limits)."""

from __future__ import annotations

import time
from collections import Counter

from billbot.sandbox.slack.model import ApiCall
from billbot.slack_web.block_revisions import base_block_id
from billbot.slackapp.blocks import section_block_id
from tests.e2e.conftest import (
    ANN,
    CHANNEL,
    PAT,
    Stack,
    all_blocks,
    current,
    ephemeral_texts,
    eventually,
    no_slack_violations,
    post_digest,
)
from tests.e2e.test_payrun_faults import confirm_run, intents, open_bills, run_state
from tests.support.payrun_steps import approve_all, run_messages, run_text

BILLS = 150
INJECTED = {"chat.update": (3, 2), "views.update": (3, 1), "chat.postMessage": (2, 1)}
SLOW = "150 paced payments on a shared 2-core machine; outcomes only"


def retries_of(calls: list[ApiCall]) -> list[tuple[ApiCall, ApiCall]]:
    """Each 429 with the next arrival of the very same call (its retry). A refused progress
    update may have no retry: the run's reporter is cancelled when the run ends, and the
    final progress goes out as a new call."""
    found = []
    for n, refused in enumerate(calls):
        if refused.status == 429:
            retry = next((c for c in calls[n + 1:] if c.params == refused.params), None)
            if retry is not None:
                found.append((refused, retry))
    return found


async def test_a_150_bill_run_under_429s_updates_every_row(stack_factory: object) -> None:
    stack: Stack = stack_factory(bills=BILLS)  # type: ignore[operator]
    assert stack.workspace.rate_limits.enabled
    stack.driver.widen_ack_deadline(30.0, reason=SLOW)
    main = await post_digest(stack)
    bill_ids = open_bills(stack)
    await approve_all(stack, bill_ids, ANN)
    for method, (times, retry_after) in INJECTED.items():
        stack.workspace.faults.rate_limit(method, times=times, retry_after=retry_after)
    started = time.monotonic()
    await confirm_run(stack, main)
    await eventually(lambda: run_state(stack) == "finished", within=600)
    # The run's last progress reaches Slack after it is marked finished (paced, retried).
    done = f"{len(bill_ids)} of {len(bill_ids)} recorded"
    await eventually(lambda: done in run_text(run_messages(stack.workspace, CHANNEL)[-1]),
                     within=120)
    wall = time.monotonic() - started

    assert all(i.state == "succeeded" for i in intents(stack))
    assert len(intents(stack)) == len(bill_ids) == len(stack.payments())
    assert not any("fail" in text.lower() for text in ephemeral_texts(stack, PAT))
    # Every row of a paid bill in the digest (its main message and thread) says so.
    shown = 0
    for block in all_blocks(stack, current(stack, main.ts)):
        bill = next((b for b in bill_ids if base_block_id(block.get("block_id"))
                     == section_block_id(b)), None)
        if bill is not None:
            shown += 1
            assert "Paid" in block["text"]["text"], block["text"]["text"]
    assert shown >= 40  # the digest's rows (the rest are in App Home)

    calls = stack.workspace.calls()
    refused = Counter(c.method for c in calls if c.status == 429)
    injected = sum(times for times, _ in INJECTED.values())
    print(f"\npaced pay run: bills={len(bill_ids)} rows shown={shown} 429s={dict(refused)} "
          f"(injected {injected}) slack calls={len(calls)} wall time={wall:.1f}s")
    assert {m: refused[m] for m in INJECTED} == {m: t for m, (t, _) in INJECTED.items()}
    assert sum(refused.values()) <= injected + 2  # the stand-in's own limits: none expected
    for method, (_, retry_after) in INJECTED.items():
        pairs = retries_of([c for c in calls if c.method == method])
        assert pairs, method
        for first, again in pairs:
            assert again.received - first.received >= retry_after * 0.99, method
    assert all(stack.workspace.faults.pending(m) == 0 for m in INJECTED)
    no_slack_violations(stack)
