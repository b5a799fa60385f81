"""A Hypothesis model of the whole payment flow: approvals (authorized or not, double
clicks), payment clicks (double clicks from two payers at once), Codat faults, crashes at
every crash point followed by a restart (a new engine and runner, as a new process would
have), bills edited in the accounting software, time passing and recovery ticks.

After every step the money invariants must hold:
- at most one open payment per bill, and Codat applied each idempotency key at most once;
- no payment reached Codat without the approvals its round needed, from approvers, before it
  started, and made by a payer;
- billbot never says "nothing was paid" about a key Codat applied, and never says "paid"
  about one it did not (unless it inferred it from amountDue, which it says so);
- while the round's approval stands, Codat's amount due is exactly the approved amount due
  less billbot's recorded payments;
- every transition is audited: each approval and rejection has its entry, and replaying an
  intent's entries gives its state and attempts (trial_audit.audit_problem).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from bench.trial_audit import audit_problem
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlmodel import col, select

from billbot.clock import FixedClock
from billbot.codat.models import Bill
from billbot.domain.policy import PolicySettings
from billbot.domain.versions import BillVersion
from billbot.services import approvals, bindings, intents, tracks
from billbot.services.payment_runner import PaymentRunner, RunnerSettings, payment_body
from billbot.services.payments import start_payment
from billbot.storage.audit import BillRef
from billbot.storage.db import make_engine, session_scope, upgrade_database
from billbot.storage.tables import Approval, AuditLog, PaymentIntent
from billbot.testhooks import PAYMENT_CRASH_POINTS, CrashPoint, SimulatedCrash, no_crash, raise_at

from .conftest import T0, make_bill, run_together
from .fake_codat import FakeCodat, touched

POLICY = PolicySettings(approvers=frozenset({"UA", "UB"}), payers=frozenset({"UP", "UQ"}),
                        dual_approval_over=Decimal(5000))
ACTIONS = st.sampled_from(["ok", "ok", "unknown", "lost", "not_sent", "400:Refused"])
NOTHING_PAID = ("nothing was paid", "did not record it")


async def _no_sleep(_: float) -> None:
    return None


# One migrated database file, copied for every example (a migration per example is slow).
_TEMPLATE: dict[str, Path] = {}


def _template_db() -> Path:
    if "path" not in _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="billbot-model-")) / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade_database(engine)
        engine.dispose()  # the last connection to close checkpoints the WAL into the file
        _TEMPLATE["path"] = path
    return _TEMPLATE["path"]


class PaymentModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="billbot-model-"))
        shutil.copy(_template_db(), self.dir / "billbot.db")
        self.engine = make_engine(f"sqlite:///{self.dir / 'billbot.db'}")
        self.clock = FixedClock(T0)
        self.fake = FakeCodat()
        self.runner = self._runner()
        self.restarts = 0
        with session_scope(self.engine) as session:
            self.binding = bindings.ensure_default_binding(
                session, channel_id="C", company_id="co", connection_id="cn", at=T0)
        self.ref = BillRef("co", "cn", "bill-1")

    @initialize(amount=st.sampled_from([Decimal(1000), Decimal(6000)]))
    def a_bill_approved_once(self, amount: Decimal) -> None:
        """Most paths worth exploring start from an approved bill; above 5000 one approval
        is not enough, so a payment must wait for the second."""
        self.fake.add(make_bill(totalAmount=amount, amountDue=amount))
        self.approve("UA")

    def _runner(self, crash: CrashPoint | None = None) -> PaymentRunner:
        return PaymentRunner(self.engine, self.clock, policy=POLICY, sleep=_no_sleep,
                             settings=RunnerSettings(retry_delays=(1.0,)),
                             crash=raise_at(frozenset({crash})) if crash else no_crash)

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def bill(self) -> Bill:
        return self.fake.bills["bill-1"]

    def open_intent(self) -> PaymentIntent | None:
        with session_scope(self.engine, read_only=True) as session:
            return session.exec(select(PaymentIntent).where(
                col(PaymentIntent.state).in_(("created", "calling", "unknown")))).first()

    # --- what people and the world do ----------------------------------------------------

    @rule(user=st.sampled_from(["UA", "UB", "UP"]))
    def approve(self, user: str) -> None:
        with session_scope(self.engine) as session:
            approvals.approve(session, bill=self.bill, binding=self.binding, user_id=user,
                              request_id=None, policy=POLICY, at=self.clock.now())

    @rule()
    def reject(self) -> None:
        with session_scope(self.engine) as session:
            approvals.reject(session, bill=self.bill, binding=self.binding, user_id="UB",
                             reason="no", request_id=None, policy=POLICY, at=self.clock.now())

    @rule(cents=st.integers(min_value=1, max_value=105_000),
          payer=st.sampled_from(["UP", "UQ", "UA"]))
    def start(self, cents: int, payer: str) -> None:
        self._start(payer, Decimal(cents) / 100)

    def _start(self, payer: str, amount: Decimal) -> None:
        with session_scope(self.engine) as session:
            start_payment(session, bill_ref=self.ref, fresh_bill=self.bill, user_id=payer,
                          request_id=None, amount=amount, account_id="acc",
                          account_name=None, payment_date=T0.date(), channel_id="C",
                          message_ts="1.1", policy=POLICY, at=self.clock.now())

    @rule(full=st.booleans())
    def double_click_pay(self, full: bool) -> None:
        """Two payers submit at the same instant (two threads, two transactions)."""
        due = self.bill.amount_due or Decimal(0)
        amount = due if full or due < 2 else (due / 2).quantize(Decimal("0.01"))
        if amount > 0:
            run_together(2, lambda i: self._start(("UP", "UQ")[i], amount))

    @precondition(lambda self: self.open_intent() is not None)
    @rule(point=st.sampled_from(PAYMENT_CRASH_POINTS), script=st.lists(ACTIONS, max_size=2))
    def crash_and_restart(self, point: CrashPoint, script: list[str]) -> None:
        """The process dies at a crash point (if the run reaches it); a new one starts."""
        intent = self.open_intent()
        assert intent is not None
        self.fake.script = list(script)
        with contextlib.suppress(SimulatedCrash):
            asyncio.run(self._runner(point).execute(intent.id, self.fake))
        self.engine.dispose()
        self.engine = make_engine(f"sqlite:///{self.dir / 'billbot.db'}")
        self.runner = self._runner()
        self.restarts += 1

    @precondition(lambda self: self.open_intent() is not None)
    @rule(script=st.lists(ACTIONS, max_size=3))
    def execute(self, script: list[str]) -> None:
        intent = self.open_intent()
        assert intent is not None
        self.fake.script = list(script)
        asyncio.run(self.runner.execute(intent.id, self.fake))

    @precondition(lambda self: self.open_intent() is not None)
    @rule(applied=st.booleans())
    def crash_mid_call(self, applied: bool) -> None:
        """The process died after marking the intent calling, maybe after Codat applied it."""
        intent = self.open_intent()
        assert intent is not None
        lease_for = RunnerSettings().lease
        with session_scope(self.engine) as session:
            lease = intents.claim(session, intent.id, now=self.clock.now(), lease_for=lease_for)
            if lease is None:
                return
            calling = intents.mark_calling(session, lease, now=self.clock.now(),
                                           lease_for=lease_for, recovery=False)
        if applied and calling is not None:
            self.fake.script = ["lost"]
            with contextlib.suppress(Exception):  # the answer is lost either way
                asyncio.run(self.fake.create_bill_payment(
                    "co", "cn", "bill-1", payment_body(calling),
                    idempotency_key=calling.intent.idempotency_key))

    @rule(minutes=st.sampled_from([1, 3, 30, 80]))
    def time_passes(self, minutes: int) -> None:
        self.clock.set(self.clock.now() + timedelta(minutes=minutes))

    @rule(script=st.lists(ACTIONS, max_size=2), unreadable=st.booleans())
    def recover(self, script: list[str], unreadable: bool) -> None:
        self.fake.script, self.fake.unreadable = list(script), unreadable
        asyncio.run(self.runner.recover(self.fake))
        self.fake.unreadable = False

    @rule(change=st.sampled_from(["due_date", "amount", "paid_outside"]),
          amount_due=st.sampled_from([Decimal(400), Decimal(1000), Decimal(6000)]))
    def bill_edited_in_the_accounting_software(self, change: str, amount_due: Decimal) -> None:
        """A bookkeeper moves the due date, changes the amount (above 5000 two approvers are
        needed), or records a payment made outside billbot. One rule for all three, so that
        edits (which void approvals) do not crowd out the paths where money moves."""
        if change == "due_date":
            self.fake.add(touched(self.bill, due_date=self.bill.due_date + timedelta(days=1)))
        elif change == "amount" and self.bill.status.payable:
            self.fake.add(touched(self.bill, amount_due=amount_due, total_amount=amount_due))
        elif change == "paid_outside" and (self.bill.amount_due or 0) > Decimal("7.77"):
            self.fake.pay_directly("bill-1", Decimal("7.77"))

    # --- what must always hold -------------------------------------------------------------

    @invariant()
    def payments_had_their_approvals(self) -> None:
        """Each payment Codat applied: a payer started it after its round's approvals."""
        with session_scope(self.engine, read_only=True) as session:
            by_key = {i.idempotency_key: i for i in session.exec(select(PaymentIntent)).all()}
            decisions = list(session.exec(select(Approval)).all())
        assert POLICY.payers is not None and POLICY.approvers is not None
        for call in self.fake.applied:
            intent = by_key[call.key]
            assert intent.payer_id in POLICY.payers
            approved = sorted((a for a in decisions if a.bill_track_id == intent.bill_track_id
                               and a.round == intent.round and a.decision == "approve"
                               and a.at <= intent.created_at), key=lambda a: (a.at, a.id or 0))
            assert {a.user_id for a in approved} <= POLICY.approvers
            assert approved, f"payment {call.key} without any approval"
            baseline = BillVersion.from_json(approved[0].bill_version)
            needed = POLICY.required_approvals(baseline.amount_due)
            assert len({a.user_id for a in approved}) >= needed, (needed, approved)

    @invariant()
    def every_transition_is_audited(self) -> None:
        with session_scope(self.engine, read_only=True) as session:
            rows = list(session.exec(select(PaymentIntent)).all())
            audit = list(session.exec(select(AuditLog).order_by(col(AuditLog.id))).all())
            decisions = list(session.exec(select(Approval)).all())
        for intent in rows:
            problem = audit_problem(intent, audit)
            assert problem is None, problem
        actions = Counter(a.action for a in audit)
        assert actions["approval.recorded"] == sum(d.decision == "approve" for d in decisions)
        assert actions["rejection.recorded"] == sum(d.decision == "reject" for d in decisions)

    @invariant()
    def money_is_consistent(self) -> None:
        with session_scope(self.engine, read_only=True) as session:
            rows = list(session.exec(select(PaymentIntent)).all())
            audit = list(session.exec(select(AuditLog)).all())
            track = tracks.load_track(session, self.ref)
        assert sum(r.state in ("created", "calling", "unknown") for r in rows) <= 1
        applied = Counter(call.key for call in self.fake.applied)
        assert all(count == 1 for count in applied.values())
        for intent in rows:
            if intent.state == "failed" and any(w in (intent.last_error or "")
                                                for w in NOTHING_PAID):
                assert applied[intent.idempotency_key] == 0, intent.last_error
            if intent.state == "succeeded":
                assert applied[intent.idempotency_key] == 1 or intent.remote_payment_id is None
            if intent.state == "created":
                assert applied[intent.idempotency_key] == 0
            by_intent = [a for a in audit if a.detail.get("intent_id") == str(intent.id)]
            actions = Counter(a.action for a in by_intent)
            assert actions["payment.started"] == 1
            assert actions["payment.calling"] == intent.attempts
            final = actions["payment.succeeded"] + actions["payment.failed"]
            assert final == (1 if intent.state in ("succeeded", "failed") else 0)
        if track is not None and track.open_intent_id is None:
            current = BillVersion.of(self.bill)
            if tracks.is_current(track, current):
                assert track.baseline_amount_due is not None and current.amount_due is not None
                assert current.amount_due == track.baseline_amount_due - track.paid_in_round


@pytest.mark.slow
def test_payment_model() -> None:
    PaymentModel.TestCase.settings = settings(
        max_examples=50, stateful_step_count=30, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow])
    PaymentModel.TestCase().runTest()
