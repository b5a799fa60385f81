"""Create bill in a real `billbot run` killed with SIGKILL mid-creation, then restarted: the
restarted process's recovery finishes it with the same keys, so the sandbox holds exactly one
supplier, one bill and one attachment, and the row is posted once."""

from __future__ import annotations

from pathlib import Path

import pytest

from billbot.slackapp.newbill_blocks import SHORTCUT_CREATE_BILL
from billbot.testhooks import CrashPoint
from tests.process.harness import ANN, CHANNEL, eventually, process_world
from tests.support.new_bill import PDF, bill_values, new_bill_form

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("point", [CrashPoint.AFTER_CODAT_ANSWER, CrashPoint.AFTER_LOCAL_COMMIT])
async def test_a_creation_killed_mid_way_is_finished_once_after_restart(
        tmp_path: Path, database_url: str, point: CrashPoint) -> None:
    async with process_world(tmp_path, database_url) as world:
        doomed = await world.start_bot("doomed", crash_at=point.value)
        driver = world.driver(doomed)
        posted = driver.post_file(ANN, CHANNEL, "fabrikam-FAB-77.pdf", PDF)
        await driver.message_shortcut(ANN, CHANNEL, posted.ts, SHORTCUT_CREATE_BILL)
        form = await eventually(lambda: new_bill_form(world.workspace, ANN))
        await driver.submit_view(ANN, bill_values(form))
        await world.killed(doomed)

        restarted = await world.start_bot("restarted")
        # On PostgreSQL a recovery sweep the killed process was running holds its lock until
        # that worker counts as dead (BILLBOT_JOB_STALLED_SECONDS, 30 s) and the stalled-job
        # sweep (every 10 s) frees it, as in test_crash_restart: allow for both, then some.
        rows = await eventually(
            lambda: [m for m in world.workspace.messages(CHANNEL)
                     if m.text.startswith("New bill")], within=75,
            what=f"the new bill's row:\n{restarted.output()}")
        ledger = world.sandbox.main_ledger
        suppliers = [s for s in ledger.suppliers.values()
                     if s["supplierName"] == "Fabrikam Fresh Ltd"]
        bills = [b for b in ledger.bills.values() if b["reference"] == "FAB-77"]
        assert (len(suppliers), len(bills)) == (1, 1)
        assert len(ledger.attachments.get(bills[0]["id"], {})) == 1
        assert len(rows) == 1
