"""Record one approve-and-pay: the digest's Block Kit and every Slack and Codat call, in order.

    python scripts/trace_approve_and_pay.py [--out docs]

Runs the seeded Codat sandbox, the local Slack and billbot (on a temporary SQLite file) on
loopback, then, as Slack would: Ann (approver) types `/bills digest`, approves the most
overdue GBP bill, Pat (payer) presses Pay, picks the first account offered and submits the
full amount. Writes:
- `<out>/digest-example.json`: the digest as posted (chat.postMessage arguments, per message);
- `<out>/approve-and-pay-sequence.md`: the requests Slack sent billbot, the Web API calls billbot
  made to Slack and the requests it made to Codat, merged in time order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from billbot.config import Settings
from billbot.sandbox.codat.app import create_app
from billbot.sandbox.codat.state import SandboxState
from billbot.sandbox.serving import serve_in_thread
from billbot.sandbox.slack.driver import SlackDriver
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.server import build_web_app
from billbot.slack_web.block_revisions import base_block_id
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY, actions_block_id
from billbot.slackapp.pay_form import CALLBACK_PAY_REVIEW

CHANNEL, ANN, PAT = "C0FINANCE", "U0ANN", "U0PAT"
SECRET, KEY = "trace-signing-secret", "trace-codat-key"


@dataclass
class Event:
    at: datetime
    direction: str
    what: str
    detail: str


async def until(check: Any, within: float = 15.0) -> Any:
    deadline = time.monotonic() + within
    while not (value := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {check}")
        await asyncio.sleep(0.02)
    return value


def describe_inbound(body: bytes) -> tuple[str, str]:
    fields = parse_qs(body.decode())
    if "command" in fields:
        return f"{fields['command'][0]} {fields['text'][0]}", f"user {fields['user_id'][0]}"
    payload = json.loads(fields["payload"][0])
    user = payload["user"]["id"]
    if payload["type"] == "block_actions":
        action = payload["actions"][0]
        return f"block_actions `{action['action_id']}`", f"user {user}, value {action.get('value')}"
    values = payload["view"]["state"]["values"]
    chosen = {block: next(iter(v.values())) for block, v in values.items()}
    summary = ", ".join(f"{k}={_state_value(v)}" for k, v in chosen.items())
    return f"view_submission `{payload['view']['callback_id']}`", f"user {user}: {summary}"


def _state_value(state: dict[str, Any]) -> str:
    for key in ("value", "selected_date"):
        if state.get(key):
            return str(state[key])
    option = state.get("selected_option") or {}
    return str(option.get("value", ""))


def describe_slack_call(method: str, params: dict[str, Any]) -> str:
    if method in ("chat.postMessage", "chat.update"):
        blocks = params.get("blocks")
        count = len(json.loads(blocks) if isinstance(blocks, str) else blocks or [])
        where = f"ts {params['ts']}" if "ts" in params else f"thread {params.get('thread_ts') or '-'}"
        return f"{params.get('channel')} {where}: {count} blocks, text “{params.get('text', '')}”"
    if method.startswith("views."):
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view or {}
        return f"modal “{view.get('title', {}).get('text', '')}”, {len(view.get('blocks', []))} blocks"
    if method == "chat.postEphemeral":
        return f"to {params.get('user')}: “{params.get('text', '')}”"
    return ", ".join(sorted(params))


async def run() -> tuple[list[dict[str, Any]], list[str]]:
    state = SandboxState.seeded()
    codat = serve_in_thread(create_app(state, api_key=KEY))
    workspace = SlackWorkspace(bot_tokens=["xoxb-trace"])
    workspace.add_user(ANN, "ann", "Ann Archer")
    workspace.add_user(PAT, "pat", "Pat Payne")
    workspace.add_channel(CHANNEL, "finance")
    slack = serve_slack_standin(workspace)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None, slack_bot_token="xoxb-trace", slack_signing_secret=SECRET,
            slack_api_url=workspace.api_url, codat_api_key=KEY, codat_base_url=codat.base_url,
            codat_company_id=state.main_company_id, codat_connection_id=state.main_connection_id,
            billbot_channel=CHANNEL, billbot_approvers=frozenset({ANN}),
            billbot_payers=frozenset({PAT}), database_url=f"sqlite:///{Path(tmp) / 'trace.db'}")
        app, _ = build_web_app(settings, run_scheduler=False)
        bot = serve_in_thread(app)
        inbound: list[Event] = []

        async def note(request: httpx.Request) -> None:
            what, detail = describe_inbound(request.content)
            inbound.append(Event(datetime.now(UTC), "Slack → billbot", what, detail))

        async def answer(response: httpx.Response) -> None:
            body = (await response.aread()).decode()
            shown = "empty body" if not body else body if len(body) < 60 else (
                "response_action " + str(json.loads(body).get("response_action")))
            inbound.append(Event(datetime.now(UTC), "billbot → Slack", "HTTP answer (ack)",
                                 f"{response.status_code}, {shown}"))

        try:
            async with httpx.AsyncClient(timeout=30, event_hooks={"request": [note],
                                                                  "response": [answer]}) as http:
                driver = SlackDriver(workspace, bot.base_url + "/slack/events", SECRET, http)
                await driver.slash_command(ANN, CHANNEL, "digest")
                main = (await until(lambda: [m for m in workspace.messages(CHANNEL)
                                             if m.bot_id and m.thread_ts is None]))[0]
                # The stand-in shows a message a moment before it records the call that posted it.
                digest_calls = [c.params for c in await until(
                    lambda: workspace.calls("chat.postMessage"))]
                ledger = state.main_ledger
                bill = min((b for b in ledger.bills.values()
                            if b["status"] == "Open" and b["currency"] == "GBP"
                            and b.get("amountDue")), key=lambda b: str(b["dueDate"]))
                bill_id, amount = str(bill["id"]), str(bill["amountDue"])
                mark = len(inbound), datetime.now(UTC)

                await driver.click(ANN, CHANNEL, main.ts, ACTION_APPROVE,
                                   block_id=actions_block_id(bill_id))
                await until(lambda: any(e.get("action_id") == ACTION_PAY
                                        for b in workspace.message(CHANNEL, main.ts).blocks  # type: ignore[union-attr]
                                        if base_block_id(b.get("block_id")) == actions_block_id(bill_id)
                                        for e in b.get("elements", [])))
                await driver.click(PAT, CHANNEL, main.ts, ACTION_PAY,
                                   block_id=actions_block_id(bill_id))
                view = await until(lambda: (v := workspace.open_view(PAT)) is not None
                                   and v.definition.get("callback_id") == "pay_bill" and v)
                account = next(b for b in view.definition["blocks"]
                               if b.get("block_id") == "account")["element"]["options"][0]
                await driver.submit_view(PAT, {
                    "account": {"account": {"type": "static_select",
                                            "selected_option": account}},
                    "amount": {"amount": {"type": "plain_text_input", "value": amount}},
                    "date": {"date": {"type": "datepicker",
                                      "selected_date": state.today.isoformat()}}})
                # The form is answered with the review step; confirming it records the payment.
                await until(lambda: (v := workspace.open_view(PAT)) is not None
                            and v.definition.get("callback_id") == CALLBACK_PAY_REVIEW)
                await driver.submit_view(PAT, {})
                await until(lambda: state.payments and "Paid" in json.dumps(
                    workspace.message(CHANNEL, main.ts).blocks))  # type: ignore[union-attr]
                await asyncio.sleep(0.5)  # the last row update and modal update land
        finally:
            bot.stop()
            slack.stop()
            codat.stop()

    since = mark[1]
    events = inbound[mark[0]:]
    events += [Event(c.at, "billbot → Slack", c.method, describe_slack_call(c.method, c.params))
               for c in workspace.calls() if c.at >= since]
    events += [Event(r.at, "billbot → Codat", f"{r.method} {r.path}",
                     f"{r.status} {r.outcome}" + (f", query `{r.query}`" if r.query else "")
                     + (f", Idempotency-Key {r.idempotency_key}" if r.idempotency_key else ""))
               for r in state.requests if r.at >= since]
    events.sort(key=lambda e: e.at)

    digest = [{"channel": p.get("channel"), "thread_ts": p.get("thread_ts"), "text": p.get("text"),
               "blocks": json.loads(p["blocks"]) if isinstance(p.get("blocks"), str)
               else p.get("blocks")} for p in digest_calls]
    lines = [
        "# One approve-and-pay, call by call",
        "",
        f"Generated by `python scripts/trace_approve_and_pay.py`: bill {bill['reference']} "
        f"({bill_id}), {bill['currency']} {amount}, approved by Ann (approver) and paid by Pat "
        "(payer). The company ids are the sandbox's.",
        "",
        "| ms | direction | call | detail |",
        "|---:|---|---|---|",
    ]
    for e in events:
        ms = (e.at - since).total_seconds() * 1000
        detail = e.detail.replace("|", "\\|").replace(state.main_company_id, "{companyId}")
        what = e.what.replace(state.main_company_id, "{companyId}").replace(
            state.main_connection_id, "{connectionId}")
        detail = detail.replace(state.main_connection_id, "{connectionId}")
        lines.append(f"| {ms:.0f} | {e.direction} | {what} | {detail} |")
    lines += ["", f"Payments the sandbox recorded: {len(state.payments)}."]
    return digest, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    digest, lines = asyncio.run(run())
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "digest-example.json").write_text(
        json.dumps(digest, indent=2, ensure_ascii=False) + "\n")
    (args.out / "approve-and-pay-sequence.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
