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

from billbot.testhooks import CrashPoint
from tests.process.harness import ANN, PAT, eventually, figures_line, process_world

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("point", list(CrashPoint))
async def test_a_payment_killed_at_each_point_is_finished_once_after_restart(
    tmp_path: Path, database_url: str, point: CrashPoint
) -> None:
    async with process_world(tmp_path, database_url) as world:
        doomed = await world.start_bot("doomed", crash_at=point.value)
        main = await world.post_digest(doomed)
        bill = world.due_gbp_bills(main)[0]
        await world.approve(doomed, main.ts, bill["id"], ANN)
        account = await world.open_pay_modal(doomed, main.ts, bill["id"], PAT)
        amount = Decimal(str(bill["amountDue"]))
        assert await world.submit_payment(doomed, PAT, account, amount) == 200
        await world.killed(doomed)

        restarted = await world.start_bot("restarted")
        await eventually(lambda: "Paid" in world.row_text(main.ts, bill["id"]),
                         what=f"the row to show Paid:\n{restarted.output()}")
        # outcome_shown_at is written only after the row reached Slack (at least once, never
        # lost), so a row showing Paid may be seen a moment before it is committed.
        await eventually(lambda: all(i.outcome_shown_at is not None for i in world.intents()),
                         what=f"the outcome to be recorded as shown:\n{restarted.output()}")
        payments = world.payments_of(bill["id"])
        assert len(payments) == 1 and payments[0].amount == amount
        [intent] = world.intents()
        assert intent.state == "succeeded"
        assert intent.idempotency_key == payments[0].idempotency_key
        assert world.sandbox.bill(bill["id"])["status"] == "Paid"
        # The payer's modal, left on "Recording…" by the dead process, shows the outcome too.
        await eventually(lambda: (v := world.workspace.open_view(PAT)) is not None
                         and v.definition["title"]["text"] == "Paid",
                         what="the payer's modal to show Paid")
        print(f"\n{figures_line(f'crash at {point.value}', world, [bill['id']])}")
