"""Hostile input, property-based: correctly signed requests with malformed or malicious content.

Hypothesis generates slash command text and interactivity payloads (malformed JSON, missing,
extra and wrongly typed fields, unknown action and callback ids, huge strings, unicode, a
bill of another company, tampered button values, tampered, expired or borrowed modal
metadata, payloads replayed after a payment). Every body is signed with the real secret, so
it reaches the app. Each must be answered without a 5xx, change nothing (no Codat write, no
approval, payment, role or binding row, no audit entry but a refusal, no visible change in
the channel), and tell a waiting person why.

The bot runs in process over HTTP with `process_before_response=True`, so the HTTP answer
comes after the listener finished: its effects can be counted right after, and a crash in
a listener shows up as a 5xx instead of disappearing after the ack.
BILLBOT_HOSTILE_EXAMPLES sets the number of examples per property (default 120).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billbot.context_token import ModalContext
from billbot.runtime import build_billbot
from billbot.sandbox.serving import ServedApp, serve_in_thread
from billbot.sandbox.slack import payloads
from billbot.sandbox.slack.model import View
from billbot.server import create_web_app
from billbot.slackapp import commands as cmd
from billbot.slackapp import request_gate
from billbot.slackapp.app import build_bolt_app
from billbot.slackapp.blocks import ACTION_APPROVE, ACTION_PAY, ACTION_REJECT
from tests.e2e.conftest import (
    ANN,
    BEN,
    CHANNEL,
    OSCAR,
    OTHER_CHANNEL,
    PAT,
    SIGNING_SECRET,
    Stack,
    approve,
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
from tests.security.forge import Effects, click_payload, effects, quiet, submission_payload
from tests.support.pay_review import submit_pay

EXAMPLES = int(os.environ.get("BILLBOT_HOSTILE_EXAMPLES", "120"))
WITH_ROLES = (ANN, BEN, PAT)
PEOPLE = (ANN, BEN, PAT, OSCAR)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: what is under test is request handling, which the storage tests cover
    on PostgreSQL; this keeps the suite's time down."""
    return f"sqlite:///{tmp_path / 'hostile.db'}"


@dataclass
class Tally:
    tried: int = 0
    side_effects: int = 0
    server_errors: int = 0
    not_told: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def line(self, what: str) -> str:
        return (f"{what}: payloads tried {self.tried}, side effects {self.side_effects}, "
                f"5xx answers {self.server_errors}, people left without an answer "
                f"{self.not_told}; by kind {dict(sorted(self.kinds.items()))}")


@dataclass
class Target:
    """A bot served with process_before_response=True, over the stack's DB and stand-ins."""

    stack: Stack
    server: ServedApp
    http: httpx.Client
    tally: Tally = field(default_factory=Tally)

    def post(self, body: bytes, content_type: str = payloads.FORM) -> httpx.Response:
        ts = str(int(time.time()))
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": payloads.signature(SIGNING_SECRET, ts, body)}
        return self.http.post(self.server.base_url + "/slack/events", content=body,
                              headers=headers)

    def heard(self, user: Any, channel: Any) -> int:
        """How much the user has been told: ephemerals where they are, modals opened."""
        ws = self.stack.workspace
        said = len(ws.ephemerals(channel, user)) if isinstance(channel, str) and isinstance(
            user, str) and ws.channel(channel) else 0
        views = sum(1 for c in ws.calls() if c.method in ("views.open", "views.update"))
        return said + views

    def check(self, kind: str, send: Callable[[], httpx.Response], *, user: Any = None,
              channel: Any = None, must_tell: bool = False) -> httpx.Response:
        before: Effects = effects(self.stack)
        heard = self.heard(user, channel)
        response = send()
        self.tally.tried += 1
        self.tally.kinds[kind] = self.tally.kinds.get(kind, 0) + 1
        if response.status_code >= 500:
            self.tally.server_errors += 1
        assert response.status_code < 500, (kind, response.status_code, response.text[:500])
        diff = effects(self.stack) - before
        if sum(diff):
            self.tally.side_effects += 1
        assert sum(diff) == 0, (kind, diff)
        if must_tell and not (self.heard(user, channel) > heard or answered(response)):
            self.tally.not_told += 1
            raise AssertionError(f"{kind}: nobody told {user} anything ({response.text[:200]})")
        return response


def slack_shaped(body: bytes) -> bool:
    """Whether the request gate lets this body through to Bolt (it answers 400 otherwise)."""
    try:
        request_gate.bolt_request(body, {"content-type": payloads.FORM})
    except request_gate.Malformed:
        return False
    return True


def answered(response: httpx.Response) -> bool:
    """The HTTP answer itself speaks to the person: a command's text, a modal's errors or the
    view that replaces it (the pay form's review step)."""
    if not response.content.strip():
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return bool(response.text.strip())
    return isinstance(body, dict) and bool(body.get("text") or body.get("errors")
                                           or body.get("response_action") == "update")


@pytest.fixture
def target(stack_factory: Callable[..., Stack]) -> Iterator[Target]:
    stack = stack_factory()
    # Hundreds of hostile requests in seconds, answered inline (process_before_response):
    # this measures robustness (no 5xx, no side effect, the person told), not pacing. Under
    # Slack's limits the inline retries would outlast their budget and surface as errors.
    stack.workspace.rate_limits.enabled = False
    bot = build_billbot(stack.settings)
    server = serve_in_thread(create_web_app(bot, build_bolt_app(bot, process_before_response=True),
                                            run_scheduler=False))
    with httpx.Client(timeout=30) as http:
        yield Target(stack, server, http)
    server.stop()


# --- values an attacker controls -------------------------------------------------------------

junk_text = st.one_of(st.text(max_size=40), st.text(min_size=3000, max_size=6000),
                      st.sampled_from(["", " ", "\x00", "<@U0ADA>", "<!channel>", "🙂" * 100,
                                       "'; DROP TABLE audit_log; --", "../../etc/passwd"]))
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                      junk_text)
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
user_ids = st.one_of(st.sampled_from([*PEOPLE, "U0NOBODY", "W0STRANGER"]), json_leaf)
channel_ids = st.one_of(st.sampled_from([CHANNEL, OTHER_CHANNEL, "C0UNKNOWN"]), json_leaf)


@dataclass(frozen=True)
class World:
    """What the hostile payloads refer to: a digest, another company's bill, a paid bill."""

    main_ts: str
    foreign_bill: str
    paid_bill: str
    paid_token: str  # PAT's own, still fresh, pay modal for the bill now fully paid
    paid_values: dict[str, Any]
    pay_view: View  # that modal as Slack holds it
    replays: tuple[bytes, ...]  # signed bodies the bot has already handled


async def build_world(target: Target) -> World:
    stack = target.stack
    main = await post_digest(stack)
    bill = first_due(stack)
    await approve(stack, main, bill["id"], ANN)
    view = await open_pay_modal(stack, main, bill["id"], user=PAT)
    sent: list[bytes] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request.content)

    stack.driver.http.event_hooks["request"].append(keep)
    values = pay_values(modal_account_ids(view)[0], str(bill["amountDue"]), today().isoformat())
    await submit_pay(stack.driver, PAT, values)
    await eventually(lambda: len(stack.payments()) == 1)
    await eventually(lambda: "Paid" in row_text(current(stack, main.ts), bill["id"]))
    await quiet(stack)
    foreign = next(bid for (company, _), ledger in stack.sandbox.ledgers.items()
                   if company != stack.company_id for bid in ledger.bills)
    assert foreign not in stack.sandbox.main_ledger.bills
    return World(main.ts, foreign, bill["id"], view.private_metadata, values, view, tuple(sent))


def command_body(fields: dict[str, Any]) -> bytes:
    return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()
                      if v is not None}).encode()


# --- the properties ----------------------------------------------------------------------------


async def test_hostile_slash_commands(target: Target) -> None:
    stack = target.stack
    verbs = st.sampled_from(["", "help", "due", "show", "approvers", "payers", "connect",
                             "audit", "digest", "DUE", "approvers add", "payers remove"])

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(verb=verbs, rest=junk_text, user=user_ids, channel=channel_ids,
           extra=st.dictionaries(st.sampled_from(["team_id", "trigger_id", "response_url",
                                                  "api_app_id", "is_enterprise_install"]),
                                 json_leaf, max_size=3),
           drop=st.sets(st.sampled_from(["user_id", "channel_id", "text", "command"])))
    def property_(verb: str, rest: str, user: Any, channel: Any, extra: dict[str, Any],
                  drop: set[str]) -> None:
        text = f"{verb} {rest}".strip() if verb else rest
        parsed = cmd.parse(text)
        if user in WITH_ROLES and isinstance(parsed, cmd.Digest):
            text = "digest please"  # a real digest by a real approver is not hostile
        fields: dict[str, Any] = {
            "command": "/bills", "text": text, "user_id": user, "channel_id": channel,
            "response_url": stack.workspace.issue_response_url(CHANNEL, ANN),
            "trigger_id": stack.workspace.issue_trigger(ANN), **extra}
        for name in drop:
            fields.pop(name, None)
        waiting = (isinstance(fields.get("user_id"), str) and fields.get("user_id") in PEOPLE
                   and fields.get("channel_id") in (CHANNEL, OTHER_CHANNEL)
                   and fields.get("command") == "/bills")
        target.check("slash command", lambda: target.post(command_body(fields)),
                     user=fields.get("user_id"), channel=fields.get("channel_id"),
                     must_tell=bool(waiting) and "response_url" not in drop and
                     "response_url" not in extra)

    property_()
    print("\n" + target.tally.line("hostile slash commands"))
    assert target.tally.side_effects == target.tally.server_errors == 0


async def test_hostile_interactivity_payloads(target: Target) -> None:
    world = await build_world(target)
    stack = target.stack
    main = current(stack, world.main_ts)
    expired = stack.bot.signer.dump(ModalContext(
        bill_id=world.paid_bill, channel_id=CHANNEL, message_ts=world.main_ts, user_id=PAT,
        issued_at=(stack.bot.clock.now() - timedelta(minutes=31)).isoformat(),
        amount_due="10", currency="GBP"))
    payload_part, _, mac = world.paid_token.rpartition(".")
    tokens = st.sampled_from([
        world.paid_token,  # PAT's own form for the bill already paid: a replay after payment
        expired, payload_part + "." + mac[::-1], payload_part, "not.a.token", "",
        payload_part[:-4] + "AAAA." + mac])
    bill_values = st.one_of(st.sampled_from([world.foreign_bill, world.paid_bill + "x",
                                             world.paid_bill.upper() + " ", "../" + world.paid_bill]),
                            json_leaf)
    actions = st.one_of(st.sampled_from([ACTION_APPROVE, ACTION_REJECT, ACTION_PAY]),
                        st.text(max_size=30), json_leaf)

    @st.composite
    def click(draw: st.DrawFn) -> tuple[str, bytes, Any, Any, bool]:
        user = draw(st.sampled_from(PEOPLE))
        channel = draw(st.sampled_from([CHANNEL, OTHER_CHANNEL]))
        action = draw(actions)
        value = draw(bill_values)
        if action == ACTION_PAY and user == PAT and draw(st.booleans()):
            value = world.paid_bill  # Pay again on the paid bill
        payload = click_payload(stack, user, channel, main, "x", value)
        payload["actions"][0]["action_id"] = action
        replaced = draw(st.sets(st.sampled_from(["user", "channel", "container", "message",
                                                 "trigger_id", "actions"]), max_size=2))
        for name in replaced:
            payload[name] = draw(json_value)
        body = payloads.interaction_body(payload)
        # Someone is waiting for an answer when a real person pressed a bill button. A body
        # whose shape is not Slack's (e.g. `container: null`) is refused with a 400 before any
        # listener runs: no real press sends one, so nobody is waiting for it.
        waiting = isinstance(action, str) and action in (ACTION_APPROVE, ACTION_REJECT,
                                                         ACTION_PAY) and not (
            replaced & {"user", "channel", "actions"}) and slack_shaped(body)
        return "button click", body, payload.get("user"), channel, waiting

    @st.composite
    def submission(draw: st.DrawFn) -> tuple[str, bytes, Any, Any, bool]:
        user = draw(st.sampled_from([PAT, ANN, OSCAR]))
        view = world.pay_view
        values = draw(st.one_of(st.just(world.paid_values),
                                st.dictionaries(st.sampled_from(["account", "amount", "date",
                                                                 "reason"]),
                                                json_value, max_size=3)))
        payload = submission_payload(stack, user, view, world.paid_values,
                                     private_metadata=draw(tokens))
        payload["view"]["state"] = {"values": values}
        payload["view"]["callback_id"] = draw(st.one_of(
            st.sampled_from(["pay_bill", "reject_bill"]), st.text(max_size=20), json_leaf))
        replaced = draw(st.sets(st.sampled_from(["user", "view", "trigger_id"]), max_size=1))
        for name in replaced:
            payload[name] = draw(json_value)
        body = payloads.interaction_body(payload)
        known = payload["view"]["callback_id"] in ("pay_bill", "reject_bill") if not (
            replaced & {"user", "view"}) else False
        return "modal submission", body, None, None, known and slack_shaped(body)

    garbage = st.one_of(
        st.builds(lambda t: ("malformed JSON", urlencode({"payload": t}).encode(), None, None,
                             False), st.text(max_size=200)),
        st.builds(lambda v: ("any JSON", urlencode({"payload": json.dumps(v)}).encode(), None,
                             None, False), json_value),
        st.builds(lambda b: ("raw bytes", b, None, None, False), st.binary(max_size=300)),
        st.builds(lambda: ("replay after payment", world.replays[-1], None, None, False)),
        st.builds(lambda kind: ("unknown type", payloads.interaction_body(
            {"type": kind, "user": {"id": ANN}}), None, None, False),
            st.sampled_from(["block_suggestion", "view_closed", "shortcut", "message_action",
                             "interactive_message", "dialog_submission", "nonsense"])))

    # Mostly well-formed payloads with one hostile detail, where the app's own logic is
    # exercised; the rest is garbage for the parser.
    cases = st.sampled_from([click()] * 4 + [submission()] * 3 + [garbage] * 3).flatmap(
        lambda strategy: strategy)

    @settings(max_examples=EXAMPLES * 2, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=cases)
    def property_(case: tuple[str, bytes, Any, Any, bool]) -> None:
        kind, body, user, channel, must_tell = case
        user_id = user.get("id") if isinstance(user, dict) else None
        response = target.check(kind, lambda: target.post(body), user=user_id,
                                channel=channel, must_tell=must_tell)
        if kind == "modal submission" and must_tell:
            answer = json.loads(response.content) if response.content.strip() else {}
            assert answer.get("response_action") in ("errors", "update"), answer

    property_()
    assert len(stack.payments()) == 1
    assert stack.sandbox_bill(world.paid_bill)["amountDue"] in (0, Decimal(0), "0", 0.0)
    print("\n" + target.tally.line("hostile interactivity payloads"))
    assert target.tally.side_effects == target.tally.server_errors == 0
