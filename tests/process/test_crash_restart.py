"""`billbot run` killed with SIGKILL at each crash point of a payment, then restarted.

The switch `BILLBOT_CRASH_AT=<point>` makes the process kill itself at that point (see
billbot.testhooks). The restarted process, without the switch, runs recovery at
start and every half second; its lease is 2 s, so the dead process's lease runs out quickly.
Checked against the sandbox and the Slack stand-in: exactly one payment, every intent final,
the bill's row showing Paid, and the payer's modal showing it too.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from billbot.testhooks import PAYMENT_CRASH_POINTS, CrashPoint
from tests.process.harness import ANN, PAT, eventually, figures_line, process_world

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("point", PAYMENT_CRASH_POINTS)
async def test_a_payment_killed_at_each_point_is_finished_once_after_restart(
    tmp_path: Path, database_url: str, point: CrashPoint, api: str
) -> None:
    """Through either Codat API (CODAT_API): the async one has no Idempotency-Key, so a
    crash after sending is resolved by the payment's reference and its push operation."""
    env = {"CODAT_API": api}
    async with process_world(tmp_path, database_url) as world:
        doomed = await world.start_bot("doomed", crash_at=point.value, env=env)
        main = await world.post_digest(doomed)
        bill = world.due_gbp_bills(main)[0]
        await world.approve(doomed, main.ts, bill["id"], ANN)
        account = await world.open_pay_modal(doomed, main.ts, bill["id"], PAT)
        amount = Decimal(str(bill["amountDue"]))
        assert await world.submit_payment(doomed, PAT, account, amount) == 200
        await world.killed(doomed)

        restarted = await world.start_bot("restarted", env=env)
        # On PostgreSQL a recovery sweep the killed process was running holds its queueing
        # lock until that worker counts as dead (BILLBOT_JOB_STALLED_SECONDS, 30 s) and the
        # stalled-job sweep (every 10 s) closes it: allow for both, then some.
        await eventually(lambda: "Paid" in world.row_text(main.ts, bill["id"]), within=75,
                         what=f"the row to show Paid:\n{restarted.output()}")
        # outcome_shown_at is written only after the row reached Slack (at least once, never
        # lost), so a row showing Paid may be seen a moment before it is committed.
        await eventually(lambda: all(i.outcome_shown_at is not None for i in world.intents()),
                         what=f"the outcome to be recorded as shown:\n{restarted.output()}")
        payments = world.payments_of(bill["id"])
        assert len(payments) == 1 and payments[0].amount == amount
        [intent] = world.intents()
        assert intent.state == "succeeded"
        if api == "sync":
            assert intent.idempotency_key == payments[0].idempotency_key
        else:
            assert intent.payment_reference == payments[0].reference
            assert intent.push_operation_key is not None
        assert world.sandbox.bill(bill["id"])["status"] == "Paid"
        # The payer's modal, left on "Recording…" by the dead process, shows the outcome too.
        await eventually(lambda: (v := world.workspace.open_view(PAT)) is not None
                         and v.definition["title"]["text"] == "Paid",
                         what="the payer's modal to show Paid")
        print(f"\n{figures_line(f'{api}: crash at {point.value}', world, [bill['id']])}")
