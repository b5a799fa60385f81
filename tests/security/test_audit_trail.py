"""The audit trail after a real flow: who, what, when, the bill version and the Slack request
id on every entry; `/bills audit` for admins only; `billbot audit export` through the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from typing import Any

from billbot.sandbox.codat.faults import FaultKind
from billbot.services.intents import SYSTEM_ACTOR
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_REJECT
from tests.e2e.conftest import (
    ADA,
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    PAT,
    Stack,
    approve,
    click,
    current,
    due_bills,
    eventually,
    modal_account_ids,
    open_pay_modal,
    pay_values,
    post_digest,
    row_text,
    today,
)
from tests.security.forge import audit_rows, quiet
from tests.support.pay_review import submit_pay

BILL_ACTIONS = {"approval.recorded", "rejection.recorded", "payment.started",
                "payment.succeeded", "payment.failed", "payment.refused", "access.refused"}


def two_gbp_bills(stack: Stack) -> list[dict[str, Any]]:
    found = [dict(b) for b in sorted(due_bills(stack), key=lambda b: b["dueDate"])
             if b["currency"] == "GBP" and b.get("amountDue") and b["status"] == "Open"]
    assert len(found) >= 2
    return found[:2]


async def real_flow(stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """Approve, reject, a refused click, a partial payment, a payment Codat refuses (400),
    an admin change: the audit trail every later check reads."""
    main = await post_digest(stack)
    paid, rejected = two_gbp_bills(stack)
    await approve(stack, main, paid["id"], ANN)
    await click(stack, OSCAR, main, paid["id"], ACTION_APPROVE)
    await eventually(lambda: any("Only approvers" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, OSCAR)))
    await click(stack, BEN, main, rejected["id"], ACTION_REJECT)
    await eventually(lambda: stack.workspace.open_view(BEN) is not None)
    await stack.driver.submit_view(BEN, {"reason": {"reason": {
        "type": "plain_text_input", "value": "Not ordered by us"}}})
    await eventually(lambda: "Rejected" in row_text(current(stack, main.ts), rejected["id"]))

    part = (Decimal(str(paid["amountDue"])) / 4).quantize(Decimal("0.01"))
    view = await open_pay_modal(stack, main, paid["id"])
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0], str(part),
                                                   today().isoformat()))
    await eventually(lambda: len(stack.payments()) == 1)
    await eventually(lambda: "remains" in row_text(current(stack, main.ts), paid["id"]))
    # Codat refuses the next payment (a 400): a final failure.
    stack.sandbox.faults.next(FaultKind.REFUSE, 1, path="/payment$", method="POST")
    view = await open_pay_modal(stack, main, paid["id"])
    await submit_pay(stack.driver, PAT, pay_values(modal_account_ids(view)[0], str(part),
                                                   today().isoformat()))
    await eventually(lambda: any(r.action == "payment.failed" for r in audit_rows(stack)))
    await stack.driver.slash_command(ADA, CHANNEL, f"approvers add <@{OSCAR}>")
    await eventually(lambda: any(r.action == "role.granted" for r in audit_rows(stack)))
    await quiet(stack)
    return paid, rejected


async def test_every_entry_says_who_what_when_which_version_and_which_request(
        stack: Stack) -> None:
    paid, rejected = await real_flow(stack)
    entries = audit_rows(stack)
    actions = [e.action for e in entries]
    for expected in ("approval.recorded", "access.refused", "rejection.recorded",
                     "payment.started", "payment.succeeded", "payment.failed", "role.granted"):
        assert expected in actions, (expected, actions)
    for entry in entries:
        assert entry.actor and entry.action and entry.at is not None, entry
        if entry.actor == "config":
            continue  # the binding made from configuration at start: no Slack request
        assert entry.request_id and entry.request_id.startswith("slk-"), entry
        if entry.action in BILL_ACTIONS:
            assert entry.bill_id in (paid["id"], rejected["id"]), entry
            assert entry.bill_version and "amountDue" in entry.bill_version, entry
    by_action = {e.action: e for e in entries}
    assert by_action["access.refused"].actor == OSCAR
    assert by_action["rejection.recorded"].actor == BEN
    assert by_action["rejection.recorded"].detail.get("reason") == "Not ordered by us"
    # Outcomes are recorded by billbot itself, tied to the payer's request that started them.
    started = [e for e in entries if e.action == "payment.started"]
    outcomes = [e for e in entries if e.action in ("payment.succeeded", "payment.failed")]
    assert {e.actor for e in started} == {PAT} and {e.actor for e in outcomes} == {SYSTEM_ACTOR}
    assert {e.request_id for e in outcomes} == {e.request_id for e in started}
    assert "closed for payments" in by_action["payment.failed"].detail.get("reason", "")


async def test_bills_audit_is_for_admins_and_shows_a_bills_history(stack: Stack) -> None:
    paid, _ = await real_flow(stack)
    reference = paid.get("reference") or paid["id"]
    refused = await stack.driver.slash_command(ANN, CHANNEL, f"audit {reference}")
    assert refused.status == 200
    await eventually(lambda: any("Only billbot admins" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, ANN)))
    assert any(r.actor == ANN and r.detail.get("attempted") == "Audit"
               for r in audit_rows(stack, "access.refused"))
    await stack.driver.slash_command(ADA, CHANNEL, f"audit {reference}")
    shown = await eventually(lambda: [e.text for e in stack.workspace.ephemerals(CHANNEL, ADA)
                                      if "audit" in e.text.lower()])
    text = shown[-1]
    for action in ("approval.recorded", "access.refused", "payment.started",
                   "payment.succeeded", "payment.failed"):
        assert action in text, (action, text)
    assert "rejection.recorded" not in text  # another bill's history
    await stack.driver.slash_command(ADA, CHANNEL, "audit")
    await eventually(lambda: any("rejection.recorded" in e.text
                                 for e in stack.workspace.ephemerals(CHANNEL, ADA)))


def export(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "CODAT_", "BILLBOT_"))}
    env["DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "billbot.cli", "audit", "export", *args],
                          env=env, capture_output=True, text=True, timeout=60, check=False)


async def test_audit_export_through_the_cli(stack: Stack) -> None:
    await real_flow(stack)
    entries = audit_rows(stack)
    url = stack.settings.database_url

    jsonl = export(url, "--format", "jsonl")
    assert jsonl.returncode == 0, jsonl.stderr
    lines = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [line["id"] for line in lines] == [e.id for e in entries]
    assert [line["request_id"] for line in lines] == [e.request_id for e in entries]
    assert all(set(line) >= {"at", "actor", "action", "bill_id", "bill_version", "request_id"}
               for line in lines)

    as_csv = export(url, "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [int(r["id"]) for r in rows] == [e.id for e in entries]
    assert [r["action"] for r in rows] == [e.action for e in entries]
    # One column per field: no JSON in cells, details and version flattened into columns.
    assert not any(cell.lstrip().startswith(("{", "[")) for r in rows for cell in r.values())
    assert {"detail.intent_id", "detail.amount", "version.amountDue"} <= set(rows[0])
    started = next(r for r in rows if r["action"] == "payment.started")
    line = next(x for x in lines if x["action"] == "payment.started")
    # One amount format, the currency's decimals, in both formats.
    assert started["detail.amount"] == line["detail"]["amount"]
    assert started["detail.amount"].count(".") == 1
    assert len(started["detail.amount"].split(".")[1]) == 2
    assert started["version.amountDue"] == line["bill_version"]["amountDue"]
    assert len(started["version.amountDue"].split(".")[1]) == 2

    first_day = min(e.at for e in entries).date()
    since_then = export(url, "--format", "jsonl", "--since", first_day.isoformat())
    assert len(since_then.stdout.splitlines()) == len(entries)
    later = export(url, "--format", "csv", "--since", (first_day + timedelta(days=1)).isoformat())
    assert later.returncode == 0 and later.stdout.splitlines()[1:] == []
    bad = export(url, "--since", "yesterday")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    print(f"\naudit export: {len(entries)} entries as jsonl and csv")
