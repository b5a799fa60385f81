"""The controls service: supplier histories read from the Codat sandbox (paged, once per
supplier per request), payments billbot recorded, an unreadable history never taken as clean,
and start_payment enforcing a duplicate's confirmation and the payer's limits."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from billbot.codat.client import CodatClient
from billbot.codat.models import Bill
from billbot.codat.retry import RetryPolicy
from billbot.domain.bill_controls import ControlKind, controls_for
from billbot.domain.policy import PolicySettings
from billbot.services import controls
from billbot.services.bindings import Binding
from billbot.services.payments import StartOutcome, StartResult, start_payment
from billbot.storage.audit import BillRef
from billbot.storage.db import session_scope
from tests.plugins.openapi_contract import CodatSandbox

from .conftest import T0, approve, audit_of, make_bill
from .fake_codat import FakeCodat

TODAY = date(2026, 11, 22)


async def test_a_suppliers_bills_are_read_page_by_page_once(
        engine: Engine, codat_sandbox: CodatSandbox, codat_client: CodatClient) -> None:
    codat_sandbox.state.page_size = 5
    ledger = codat_sandbox.state.main_ledger
    expected = {b["id"] for b in ledger.bills.values() if b["supplierRef"]["id"] == "4101"}
    cache = controls.HistoryCache()
    args = (codat_sandbox.company_id, codat_sandbox.connection_id, "4101")
    found = await controls.supplier_bills(codat_client, *args, cache=cache)
    assert found is not None and {b.id for b in found} == expected
    assert {b.status.value for b in found} >= {"Open", "Paid", "PartiallyPaid"}
    calls = len(codat_sandbox.state.requests)
    assert await controls.supplier_bills(codat_client, *args, cache=cache) is found
    assert len(codat_sandbox.state.requests) == calls


async def test_an_unreadable_history_asks_for_the_duplicate_check(
        engine: Engine, codat_sandbox: CodatSandbox) -> None:
    import httpx
    async with httpx.AsyncClient() as http:
        dead = CodatClient(http, api_key="x", base_url="http://127.0.0.1:9", timeout=0.5,
                           retry=RetryPolicy.none())
        met = await controls.controls_of(dead, engine, company_id="c", connection_id="k",
                                         bill=make_bill(), today=TODAY)
    assert met == [controls.UNCHECKED] and controls.needs_confirmation(met)
    # An id Codat's query language cannot carry is not guessed at either.
    async with httpx.AsyncClient() as http:
        client = CodatClient(http, api_key=codat_sandbox.api_key,
                             base_url=codat_sandbox.base_url)
        odd = make_bill(supplierRef={"id": "a&&b", "supplierName": "Odd"})
        assert await controls.controls_of(client, engine, company_id=codat_sandbox.company_id,
                                          connection_id=codat_sandbox.connection_id, bill=odd,
                                          today=TODAY) == [controls.UNCHECKED]


def start(engine: Engine, binding: Binding, policy: PolicySettings, bill: Bill, *,
          amount: Decimal, **extra: object) -> StartResult:
    with session_scope(engine) as session:
        return start_payment(
            session, bill_ref=BillRef(binding.company_id, binding.connection_id, bill.id),
            fresh_bill=bill, user_id="UP", request_id="view-UP", amount=amount,
            account_id="acc-gbp", account_name="Business Current", payment_date=TODAY,
            channel_id="CBILLS", message_ts=None, policy=policy, at=T0,
            **extra)  # type: ignore[arg-type]


def test_a_duplicate_is_paid_only_when_confirmed_and_that_is_audited(
        engine: Engine, binding: Binding, policy: PolicySettings, fake: FakeCodat) -> None:
    bill = fake.add(make_bill("bill-1", reference="INV-7"))
    twin = make_bill("bill-2", reference="INV-7")
    approve(engine, binding, policy, bill)
    met = controls_for(bill, [twin], today=TODAY, paid_by_billbot=False)
    assert [c.kind for c in met] == [ControlKind.DUPLICATE, ControlKind.FIRST_PAYMENT]

    refused = start(engine, binding, policy, bill, amount=Decimal(100), controls=met)
    assert refused.outcome is StartOutcome.REFUSED and refused.intent_id is None
    assert refused.message.startswith("Possible duplicate of INV-7: it is paid only on its own")
    assert audit_of(engine, bill.id)[-1] == "payment.refused"

    started = start(engine, binding, policy, bill, amount=Decimal(100), controls=met,
                    not_duplicate=True)
    assert started.outcome is StartOutcome.STARTED
    assert audit_of(engine, bill.id)[-2:] == ["payment.started", "payment.controls_overridden"]
    with session_scope(engine) as session:
        assert controls.billbot_paid_any(session, company_id=binding.company_id,
                                         connection_id=binding.connection_id,
                                         bill_ids=[bill.id]) is False  # not succeeded yet


def test_the_payers_limit_and_currencies_are_enforced_when_starting(
        engine: Engine, binding: Binding, policy: PolicySettings, fake: FakeCodat) -> None:
    bill = fake.add(make_bill())
    approve(engine, binding, policy, bill)
    over = start(engine, binding, policy, bill, amount=Decimal("100.01"),
                 payer_limits={"GBP": Decimal(100)})
    assert over.outcome is StartOutcome.REFUSED
    assert "above your payment limit of GBP 100.00" in over.message
    euro_only = start(engine, binding, policy, bill, amount=Decimal(1),
                      payer_limits={"EUR": Decimal(100)})
    assert "only in EUR" in euro_only.message
    assert start(engine, binding, policy, bill, amount=Decimal(100),
                 payer_limits={"GBP": Decimal(100)}).outcome is StartOutcome.STARTED


def test_rows_keep_the_last_answer_and_an_unchecked_one_changes_nothing(
        engine: Engine, binding: Binding) -> None:
    bill = make_bill("bill-1", reference="INV-7")
    twin = make_bill("bill-2", reference="INV-7")
    ids = {"company_id": binding.company_id, "connection_id": binding.connection_id}
    met = controls_for(bill, [twin], today=TODAY, paid_by_billbot=False)
    with session_scope(engine) as session:
        controls.remember(session, **ids, bill_id=bill.id, controls=met, at=T0)
    with session_scope(engine) as session:
        controls.remember(session, **ids, bill_id=bill.id, controls=[controls.UNCHECKED], at=T0)
        assert controls.row_lines(session, **ids, bill_ids=[bill.id, "other"]) == {
            bill.id: ("Possible duplicate of INV-7", "First payment to this supplier")}
    with session_scope(engine) as session:  # the bill checked again: clean now
        controls.remember(session, **ids, bill_id=bill.id, controls=[], at=T0)
        assert controls.row_lines(session, **ids, bill_ids=[bill.id]) == {}


def test_a_row_is_checked_again_only_when_its_bill_changed_or_its_check_is_old(
        engine: Engine, binding: Binding) -> None:
    ids = {"company_id": binding.company_id, "connection_id": binding.connection_id}
    plain = make_bill("bill-1")
    first = make_bill("bill-2", supplierRef={"id": "sup-2", "supplierName": "Contoso"})
    first_payment = [c for c in controls_for(first, [], today=TODAY, paid_by_billbot=False)
                     if c.kind is ControlKind.FIRST_PAYMENT]
    assert first_payment
    with session_scope(engine) as session:
        for bill, met in ((plain, []), (first, first_payment)):
            controls.remember(session, **ids, bill_id=bill.id, controls=met, at=T0,
                              bill_modified=controls.modified_mark(bill))

    def unchanged(bills: list[Bill], *, since: timedelta, first_since: timedelta) -> set[str]:
        with session_scope(engine) as session:
            return controls.unchanged_since_checked(
                session, **ids, bills=bills, since=T0 - since,
                first_payment_since=T0 - first_since)

    day = timedelta(days=1)
    assert unchanged([plain, first], since=day, first_since=day) == {"bill-1", "bill-2"}
    # Checked longer ago than allowed: the "first payment" row first, then every row.
    assert unchanged([plain, first], since=day, first_since=-day) == {"bill-1"}
    assert unchanged([plain, first], since=-day, first_since=-day) == set()
    # Edited in the books (a new modified date, or a new amount where none is given).
    edited = make_bill("bill-1", sourceModifiedDate="2026-11-02T10:00:00Z")
    part_paid = make_bill("bill-1", amountDue=200.5, sourceModifiedDate=None)
    assert unchanged([edited], since=day, first_since=day) == set()
    assert unchanged([part_paid], since=day, first_since=day) == set()
    assert controls.modified_mark(plain) == controls.modified_mark(make_bill("bill-1"))


class _SlowForOneSupplier:
    """Codat's supplier histories: one supplier's answers at once, the other's never (a Codat
    that stopped answering mid-digest)."""

    def __init__(self, bills: list[Bill], slow_supplier: str) -> None:
        self.bills = bills
        self.slow_supplier = slow_supplier

    async def list_bills(self, company_id: str, connection_id: str, *,
                         query: str | None = None) -> list[Bill]:
        if query and self.slow_supplier in query:
            await asyncio.Event().wait()
        return [b for b in self.bills if query and b.supplier_ref.id in query]


async def test_rows_checked_before_a_digest_stops_waiting_keep_their_answers(
        engine: Engine, binding: Binding) -> None:
    ids = {"company_id": binding.company_id, "connection_id": binding.connection_id}
    northwind = [make_bill("bill-1"), make_bill("bill-2", reference="INV-bill-1")]
    contoso = [make_bill("bill-3", supplierRef={"id": "sup-2", "supplierName": "Contoso"})]
    codat = _SlowForOneSupplier(northwind + contoso, slow_supplier="sup-2")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(controls.check_and_remember(
            codat, engine, **ids, bills=northwind + contoso, today=TODAY, at=T0), 1.0)
    with session_scope(engine) as session:
        assert controls.unchanged_since_checked(
            session, **ids, bills=northwind + contoso, since=T0 - timedelta(days=1),
            first_payment_since=T0 - timedelta(days=1)) == {"bill-1", "bill-2"}
        lines = controls.row_lines(session, **ids, bill_ids=["bill-1", "bill-2", "bill-3"])
    assert "Possible duplicate of INV-bill-1" in lines["bill-2"]
    assert "bill-3" not in lines  # never checked: its next digest checks it
