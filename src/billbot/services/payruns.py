"""Pay runs: many bills, one decision, each bill paid by its own payment intent.

A run is a `draft` while the payer fills in the form and reads the review (the bills offered
are stored server-side; the form carries only positions). Confirming moves it to `running`
with a conditional update and, in the SAME transaction, starts every selected bill through
`payments.start_payment` (every check of a single payment, the bill claimed, the intent and
its Idempotency-Key committed) before any Codat call. A second submit, a Slack retry or a
concurrent confirmation finds the run taken and starts nothing. `Retry failed` does the same
for the failed bills only, conditional on the attempt it saw.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from billbot.codat.models import Bill
from billbot.domain.bill_controls import Control
from billbot.domain.policy import PolicySettings
from billbot.storage.audit import BillRef, record_audit
from billbot.storage.tables import OPEN_INTENT_STATES, PaymentIntent, PayRun, PayRunItem

from .bindings import Binding
from .payment_groups import EACH, choice_problem, to_send
from .payments import StartOutcome, start_payment


@dataclass(frozen=True)
class Offered:
    """A bill as the run's form offers it."""

    bill_id: str
    reference: str | None
    supplier: str | None
    currency: str
    amount: Decimal
    issue_date: date
    supplier_id: str | None = None


@dataclass(frozen=True)
class Choice:
    """The payer's choice for one currency: the account, and the rate for a foreign one."""

    account_id: str
    account_name: str | None
    rate: Decimal | None

    def to_json(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "account_name": self.account_name,
                "rate": None if self.rate is None else format(self.rate, "f")}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Choice:
        rate = raw.get("rate")
        return cls(str(raw["account_id"]), raw.get("account_name"),
                   Decimal(str(rate)) if rate is not None else None)


def create_draft(session: Session, *, binding: Binding, payer_id: str, offered: list[Offered],
                 base_currency: str | None, at: datetime,
                 platform: str | None = None) -> uuid.UUID:
    """`platform`: the connection's platformName as read from Codat (None: not read)."""
    run_id = uuid.uuid4()
    session.add(PayRun(id=run_id, company_id=binding.company_id,
                       connection_id=binding.connection_id, channel_id=binding.channel_id,
                       payer_id=payer_id, state="draft", base_currency=base_currency,
                       platform=platform, choices={}, created_at=at, updated_at=at))
    session.flush()  # the items' foreign key needs the run first (PostgreSQL checks at once)
    for position, item in enumerate(offered):
        session.add(PayRunItem(run_id=run_id, position=position, bill_id=item.bill_id,
                               reference=(item.reference or "")[:255] or None,
                               supplier=(item.supplier or "")[:255] or None,
                               supplier_id=(item.supplier_id or "")[:255] or None,
                               currency=item.currency.upper(), amount=item.amount,
                               issue_date=item.issue_date, selected=True))
    session.flush()
    return run_id


def get_run(session: Session, run_id: uuid.UUID) -> PayRun | None:
    return session.exec(select(PayRun).where(PayRun.id == run_id)
                        .execution_options(populate_existing=True)).first()


def items_of(session: Session, run_id: uuid.UUID) -> list[PayRunItem]:
    return list(session.exec(select(PayRunItem).where(PayRunItem.run_id == run_id)
                             .order_by(col(PayRunItem.position))
                             .execution_options(populate_existing=True)).all())


def save_page(session: Session, *, run_id: uuid.UUID, payer_id: str, positions: range,
              selected: set[int], settings: tuple[date, Mapping[str, Choice]] | None,
              at: datetime) -> bool:
    """One page of the form onto the draft: which of its bills are ticked, and (first page)
    the date and the per-currency choices; False when the run is no longer a draft."""
    run = get_run(session, run_id)
    if run is None or run.state != "draft" or run.payer_id != payer_id:
        return False
    if settings is not None:
        run.payment_date, choices = settings
        run.choices = {cur: c.to_json() for cur, c in choices.items()}
    run.updated_at = at
    session.add(run)
    for item in items_of(session, run_id):
        if item.position in positions:
            item.selected = item.position in selected
            item.skip_reason = None
            session.add(item)
    session.flush()
    return True


def leave_out(session: Session, *, run_id: uuid.UUID, skipped: Mapping[int, str]) -> None:
    """Ticked bills that cannot be paid on the run's date: not selected, with the reason."""
    for item in items_of(session, run_id):
        if item.position in skipped:
            item.selected = False
            item.skip_reason = skipped[item.position]
            session.add(item)
    session.flush()


def set_choices(session: Session, run_id: uuid.UUID, choices: Mapping[str, Choice]) -> None:
    """The accounts as re-read from Codat at confirmation (real ids), onto the draft."""
    session.exec(update(PayRun).where(col(PayRun.id) == run_id, col(PayRun.state) == "draft")
                 .values(choices={cur: c.to_json() for cur, c in choices.items()}))


def _take(session: Session, run: PayRun, *, from_state: str, attempt: int, at: datetime,
          lease_until: datetime) -> bool:
    taken = session.exec(update(PayRun).where(
        col(PayRun.id) == run.id, col(PayRun.state) == from_state,
        col(PayRun.attempt) == attempt,
    ).values(state="running", attempt=attempt + 1, locked_until=lease_until, updated_at=at,
             finished_at=None))
    return taken.rowcount == 1


@dataclass(frozen=True)
class RunChecks:
    """The controls each bill meets now and the payer's limits. A run never confirms a
    possible duplicate: such a bill is left out, to be paid on its own with Pay."""

    controls: Mapping[str, list[Control]]
    payer_limits: Mapping[str, Decimal] | None = None


def _start_item(session: Session, run: PayRun, item: PayRunItem, bill: Bill | None, *,
                policy: PolicySettings, at: datetime, request_id: str | None,
                user_id: str, checks: RunChecks | None = None) -> None:
    """Start one bill's payment (its own intent and key), or record why it was not started."""
    item.intent_id = None
    item.skip_reason = None
    choice_raw = run.choices.get(item.currency)
    if bill is None:
        item.skip_reason = "The bill is no longer open in the accounting software."
    elif bill.amount_due != item.amount:
        item.skip_reason = ("Its amount due changed since the review (now "
                            f"{bill.amount_due} {bill.currency}); pay it on its own.")
    elif choice_raw is None or run.payment_date is None:
        item.skip_reason = f"No account was chosen for {item.currency}."
    else:
        choice = Choice.from_json(choice_raw)
        started = start_payment(
            session, bill_ref=BillRef(run.company_id, run.connection_id, item.bill_id),
            fresh_bill=bill, user_id=user_id, request_id=request_id, amount=item.amount,
            account_id=choice.account_id, account_name=choice.account_name,
            payment_date=run.payment_date, channel_id=None, message_ts=None, policy=policy,
            at=at, currency_rate=choice.rate,
            base_currency=run.base_currency if choice.rate is not None else None,
            controls=checks.controls.get(item.bill_id, []) if checks else (),
            payer_limits=checks.payer_limits if checks else None)
        if started.outcome is StartOutcome.STARTED:
            item.intent_id = started.intent_id
        else:
            item.skip_reason = started.message
    session.add(item)


@dataclass(frozen=True)
class Started:
    taken: bool  # False: another submit (or a retry) started this attempt already
    intent_ids: list[uuid.UUID]
    refused: str | None = None  # the choice could not be taken: nothing changed


def start_run(session: Session, *, run_id: uuid.UUID, user_id: str,
              fresh: Mapping[str, Bill], policy: PolicySettings, at: datetime,
              lease_until: datetime, request_id: str | None,
              checks: RunChecks | None = None, grouping: str = EACH) -> Started:
    """Confirm a draft: the run taken and every selected bill's intent committed together
    (`grouping`: how they become payments, `payment_groups`; refused before anything)."""
    run = get_run(session, run_id)
    if run is None or run.payer_id != user_id or run.state != "draft":
        return Started(False, [])
    if refused := choice_problem(session, run, grouping):
        return Started(False, [], refused)
    if not _take(session, run, from_state="draft", attempt=run.attempt, at=at,
                 lease_until=lease_until):
        return Started(False, [])
    started: list[tuple[str, uuid.UUID]] = []
    for item in items_of(session, run_id):
        if not item.selected:
            continue
        _start_item(session, run, item, fresh.get(item.bill_id), policy=policy, at=at,
                    request_id=request_id, user_id=user_id, checks=checks)
        if item.intent_id is not None:
            started.append((item.bill_id, item.intent_id))
    _audit(session, run, "payrun.started", at, user_id, request_id,
           bills=sum(1 for i in items_of(session, run_id) if i.selected), started=len(started))
    return Started(True, to_send(session, run, started, fresh=fresh, at=at, actor=user_id,
                                 request_id=request_id, grouping=grouping,
                                 limits=checks.payer_limits if checks else None))


def failed_items(session: Session, run_id: uuid.UUID) -> list[PayRunItem]:
    """Selected bills that were not paid: refused when starting, or their payment failed."""
    items = [i for i in items_of(session, run_id) if i.selected]
    states = _intent_states(session, [i.intent_id for i in items if i.intent_id])
    return [i for i in items if (i.intent_id is None and i.skip_reason)
            or (i.intent_id is not None and states.get(i.intent_id, ("", None))[0] == "failed")]


def retry_failed(session: Session, *, run_id: uuid.UUID, attempt: int, user_id: str,
                 fresh: Mapping[str, Bill], policy: PolicySettings, at: datetime,
                 lease_until: datetime, request_id: str | None,
                 checks: RunChecks | None = None) -> Started:
    """Start the failed bills again (new intents, new keys), only those; once per attempt."""
    run = get_run(session, run_id)
    if run is None or run.state != "finished":
        return Started(False, [])
    retry = failed_items(session, run_id)
    if not retry or not _take(session, run, from_state="finished", attempt=attempt, at=at,
                              lease_until=lease_until):
        return Started(False, [])
    started: list[tuple[str, uuid.UUID]] = []
    for item in retry:
        _start_item(session, run, item, fresh.get(item.bill_id), policy=policy, at=at,
                    request_id=request_id, user_id=user_id, checks=checks)
        if item.intent_id is not None:
            started.append((item.bill_id, item.intent_id))
    _audit(session, run, "payrun.retried", at, user_id, request_id, bills=len(retry),
           started=len(started))
    return Started(True, to_send(session, run, started, fresh=fresh, at=at, actor=user_id,
                                 request_id=request_id,
                                 limits=checks.payer_limits if checks else None))


def _audit(session: Session, run: PayRun, action: str, at: datetime, actor: str,
           request_id: str | None, **detail: Any) -> None:
    record_audit(session, at=at, actor=actor, action=action, company_id=run.company_id,
                 connection_id=run.connection_id, request_id=request_id,
                 detail={"run_id": str(run.id), "attempt": run.attempt + 1, **detail})


def _intent_states(session: Session,
                   ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str | None]]:
    found: dict[uuid.UUID, tuple[str, str | None]] = {}
    for start in range(0, len(ids), 500):
        rows = session.exec(select(PaymentIntent.id, PaymentIntent.state,
                                   PaymentIntent.last_error)
                            .where(col(PaymentIntent.id).in_(ids[start:start + 500]))
                            .execution_options(populate_existing=True)).all()
        found.update({row[0]: (row[1], row[2]) for row in rows})
    return found


@dataclass(frozen=True)
class Failure:
    reference: str
    supplier: str
    reason: str


@dataclass(frozen=True)
class Progress:
    """What a run's message and modal show; read from the intents, whoever drives them."""

    run_id: uuid.UUID
    state: str
    attempt: int
    payer_id: str
    channel_id: str
    message_ts: str | None
    view_id: str | None
    selected: int
    recorded: int
    failed: int
    pending: int
    recorded_totals: dict[str, Decimal]
    failures: list[Failure]
    bill_ids: list[str]  # every selected bill (their rows are refreshed)

    @property
    def settled(self) -> bool:
        return self.pending == 0


def progress(session: Session, run_id: uuid.UUID) -> Progress | None:
    run = get_run(session, run_id)
    if run is None:
        return None
    items = [i for i in items_of(session, run_id) if i.selected]
    states = _intent_states(session, [i.intent_id for i in items if i.intent_id])
    recorded = failed = pending = 0
    totals: dict[str, Decimal] = {}
    failures: list[Failure] = []
    for item in items:
        state, error = states.get(item.intent_id, ("", None)) if item.intent_id else ("", None)
        reason = item.skip_reason if item.intent_id is None else error
        if state == "succeeded":
            recorded += 1
            totals[item.currency] = totals.get(item.currency, Decimal(0)) + item.amount
        elif state in OPEN_INTENT_STATES:
            pending += 1
        else:
            failed += 1
            failures.append(Failure(item.reference or item.bill_id, item.supplier or "",
                                    reason or "It was not started."))
    return Progress(run_id=run.id, state=run.state, attempt=run.attempt, payer_id=run.payer_id,
                    channel_id=run.channel_id, message_ts=run.message_ts, view_id=run.view_id,
                    selected=len(items), recorded=recorded, failed=failed, pending=pending,
                    recorded_totals=totals, failures=failures,
                    bill_ids=[i.bill_id for i in items])


def set_slack_places(session: Session, run_id: uuid.UUID, *, message_ts: str | None = None,
                     view_id: str | None = None) -> None:
    values: dict[str, Any] = {}
    if message_ts is not None:
        values["message_ts"] = message_ts
    if view_id is not None:
        values["view_id"] = view_id[:64]
    if values:
        session.exec(update(PayRun).where(col(PayRun.id) == run_id).values(**values))


def renew(session: Session, run_id: uuid.UUID, *, until: datetime) -> None:
    session.exec(update(PayRun).where(col(PayRun.id) == run_id, col(PayRun.state) == "running")
                 .values(locked_until=until))


def claim_stale(session: Session, run_id: uuid.UUID, *, now: datetime,
                until: datetime) -> bool:
    """Take over a running run whose driver's lease ran out (the process died)."""
    taken = session.exec(update(PayRun).where(
        col(PayRun.id) == run_id, col(PayRun.state) == "running",
        col(PayRun.locked_until) <= now).values(locked_until=until))
    return taken.rowcount == 1


def stale_runs(session: Session, *, now: datetime, limit: int = 20) -> list[uuid.UUID]:
    return list(session.exec(select(PayRun.id).where(
        col(PayRun.state) == "running", col(PayRun.locked_until) <= now)
        .order_by(col(PayRun.created_at)).limit(limit)).all())


def finish(session: Session, run_id: uuid.UUID, *, at: datetime) -> bool:
    """Running → finished once no intent of the run is open; audited once."""
    now_progress = progress(session, run_id)
    if now_progress is None or not now_progress.settled:
        return False
    done = session.exec(update(PayRun).where(col(PayRun.id) == run_id,
                                             col(PayRun.state) == "running")
                        .values(state="finished", finished_at=at, locked_until=None,
                                updated_at=at))
    if done.rowcount == 1:
        run = get_run(session, run_id)
        assert run is not None
        record_audit(session, at=at, actor="billbot", action="payrun.finished",
                     company_id=run.company_id, connection_id=run.connection_id,
                     detail={"run_id": str(run_id), "attempt": run.attempt,
                             "recorded": now_progress.recorded, "failed": now_progress.failed})
    return done.rowcount == 1


__all__ = ["Choice", "Failure", "Offered", "Progress", "RunChecks", "Started", "claim_stale",
           "create_draft", "failed_items", "finish", "get_run", "items_of", "leave_out",
           "progress", "renew", "retry_failed", "save_page", "set_choices", "set_slack_places",
           "stale_runs", "start_run"]
