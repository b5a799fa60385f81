"""Two `billbot run` processes sharing one PostgreSQL database, as two replicas would.

Pay submissions for one bill are split across both processes at once: one payment. Then one
process kills itself mid-payment (after marking the intent `calling`, before the POST): the
other one's recovery takes the intent over once the dead process's lease has run out, and
finishes it with the same Idempotency-Key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from billbot.testhooks import CrashPoint
from tests.conftest import _fresh_postgres_database, postgres_url
from tests.process.harness import ANN, BEN, PAT, eventually, figures_line, process_world

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SUBMISSIONS = 20


@pytest.fixture
def postgres_database() -> Iterator[str]:
    admin_url = postgres_url()
    if admin_url is None:
        pytest.skip("set BILLBOT_TEST_POSTGRES_URL")
    yield from _fresh_postgres_database(admin_url)


async def test_two_processes_pay_once_and_finish_each_others_payments(
    tmp_path: Path, postgres_database: str
) -> None:
    async with process_world(tmp_path, postgres_database) as world:
        first = await world.start_bot("first")
        second = await world.start_bot("second")
        main = await world.post_digest(first)
        storm_bill, crash_bill = world.due_gbp_bills(main)[:2]

        # Concurrent submissions by two payers, each through a different process.
        await world.approve(second, main.ts, storm_bill["id"], BEN)  # ANN pays: not hers
        pat_account = await world.open_pay_modal(first, main.ts, storm_bill["id"], PAT)
        ann_account = await world.open_pay_modal(second, main.ts, storm_bill["id"], ANN)
        amount = Decimal(str(storm_bill["amountDue"]))
        statuses = await asyncio.gather(*(
            world.submit_payment(first, PAT, pat_account, amount) if i % 2 == 0
            else world.submit_payment(second, ANN, ann_account, amount)
            for i in range(SUBMISSIONS)))
        assert set(statuses) == {200}
        await eventually(lambda: "Paid" in world.row_text(main.ts, storm_bill["id"]),
                         what="the storm bill's row to show Paid")
        assert len(world.payments_of(storm_bill["id"])) == 1

        # The first process is replaced by one that dies before its Codat call.
        first.stop()
        doomed = await world.start_bot("doomed", crash_at=CrashPoint.BEFORE_CODAT_CALL.value)
        await world.approve(doomed, main.ts, crash_bill["id"], ANN)
        account = await world.open_pay_modal(doomed, main.ts, crash_bill["id"], PAT)
        crash_amount = Decimal(str(crash_bill["amountDue"]))
        assert await world.submit_payment(doomed, PAT, account, crash_amount) == 200
        await world.killed(doomed)
        # Killed while its job worker ran a recovery sweep, the doomed replica leaves that
        # sweep's lock held until the stalled-job sweep frees it (BILLBOT_JOB_STALLED_SECONDS,
        # 30 s, then up to 10 s more): only then can the survivor's sweeps recover the payment.
        await eventually(lambda: "Paid" in world.row_text(main.ts, crash_bill["id"]),
                         within=120,
                         what=f"the survivor to finish the payment:\n{second.output()}")

        payments = world.payments_of(crash_bill["id"])
        assert len(payments) == 1 and payments[0].amount == crash_amount
        assert len(world.payments_of(storm_bill["id"])) == 1
        intents = world.intents()
        assert sorted(i.state for i in intents) == ["succeeded", "succeeded"]
        bills = [storm_bill["id"], crash_bill["id"]]
        print(f"\n{figures_line('two processes on PostgreSQL', world, bills)}"
              f" submissions={SUBMISSIONS}")
