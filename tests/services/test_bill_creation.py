"""Create bill exactly once against the Codat sandbox over real HTTP: one supplier, one bill
and one attachment under double submits, lost responses and crashes between the steps."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import select

from billbot.clock import FixedClock
from billbot.codat.client import CodatClient
from billbot.codat.models import BillLineItem, BillPrototype, IdRef, SupplierPrototype, SupplierRef
from billbot.codat.retry import RetryPolicy
from billbot.sandbox.codat.faults import FaultKind
from billbot.sandbox.codat.ledger import Ledger
from billbot.services.bill_creation import BillCreator, Draft, SourceFile, begin
from billbot.storage import bill_creations
from billbot.storage.creation_tables import CreatedBill
from billbot.storage.db import session_scope
from billbot.testhooks import CrashPoint, SimulatedCrash
from tests.plugins.openapi_contract import CodatSandbox

from .conftest import T0

PDF = b"%PDF-1.4\n% an invoice\n" + bytes(range(256)) * 4
NAME = "Fabrikam-INV-77.pdf"


async def slack_file(file_id: str) -> SourceFile:
    assert file_id == "F0INVOICE"
    return SourceFile(NAME, PDF, "application/pdf")


@pytest.fixture
async def impatient(codat_sandbox: CodatSandbox) -> AsyncIterator[CodatClient]:
    async with httpx.AsyncClient() as http:
        yield CodatClient(http, api_key=codat_sandbox.api_key, base_url=codat_sandbox.base_url,
                          timeout=0.5, retry=RetryPolicy.none())


def ledger(sandbox: CodatSandbox) -> Ledger:
    return sandbox.state.ledger(sandbox.company_id, sandbox.connection_id)


def draft(sandbox: CodatSandbox, *, new_supplier: bool = True, file: bool = True) -> Draft:
    book = ledger(sandbox)
    account = next(a["id"] for a in book.accounts.values() if a["status"] == "Active")
    bill = BillPrototype(
        supplier_ref=SupplierRef(id="-"), issue_date=date(2026, 11, 20),
        due_date=date(2026, 12, 20), currency=book.base_currency, reference="FAB-77",
        line_items=[BillLineItem(description="Widgets", unit_amount=Decimal("120.50"),
                                 quantity=Decimal(1), account_ref=IdRef(id=account))])
    if new_supplier:
        return Draft(bill=bill, new_supplier=SupplierPrototype(
            supplier_name="Fabrikam Fresh Ltd", default_currency=book.base_currency),
            file_id="F0INVOICE" if file else None)
    supplier = next(iter(book.suppliers))
    return Draft(bill=bill, supplier_id=supplier, file_id="F0INVOICE" if file else None)


def submit(engine: Engine, sandbox: CodatSandbox, key: str = "V1", **kw: bool) -> uuid.UUID:
    with session_scope(engine) as session:
        return begin(session, request_key=key, company_id=sandbox.company_id,
                     connection_id=sandbox.connection_id, user_id="UA",
                     draft=draft(sandbox, **kw), channel_id="CBILLS", at=T0)


def counts(sandbox: CodatSandbox) -> tuple[int, int, int]:
    book = ledger(sandbox)
    suppliers = sum(s["supplierName"] == "Fabrikam Fresh Ltd" for s in book.suppliers.values())
    bills = [b for b in book.bills.values() if b["reference"] == "FAB-77"]
    attachments = sum(len(book.attachments.get(b["id"], {})) for b in bills)
    return suppliers, len(bills), attachments


async def test_new_supplier_bill_and_invoice_are_created_once(
        engine: Engine, clock: FixedClock, codat_sandbox: CodatSandbox,
        codat_client: CodatClient) -> None:
    creation = submit(engine, codat_sandbox)
    assert submit(engine, codat_sandbox) == creation  # a double submit: the same row
    creator = BillCreator(engine, clock)
    first, second = await asyncio.gather(creator.run(creation, codat_client, slack_file),
                                         creator.run(creation, codat_client, slack_file))
    done = await creator.outcome(creation)
    assert done.step == "done" and done.error is None and done.attachment_id
    assert counts(codat_sandbox) == (1, 1, 1)
    stored = ledger(codat_sandbox).bills[done.bill_id or ""]
    assert stored["totalAmount"] == Decimal("120.50") and stored["status"] == "Open"
    with session_scope(engine) as session:
        assert bill_creations.creator_of(session, company_id=codat_sandbox.company_id,
                                         connection_id=codat_sandbox.connection_id,
                                         bill_id=done.bill_id or "") == "UA"
        assert len(session.exec(select(CreatedBill)).all()) == 1
    assert {first.step, second.step} <= {"done", "supplier", "bill", "attachment"}


async def test_existing_supplier_without_a_file(
        engine: Engine, clock: FixedClock, codat_sandbox: CodatSandbox,
        codat_client: CodatClient) -> None:
    before = len(ledger(codat_sandbox).suppliers)
    creation = submit(engine, codat_sandbox, new_supplier=False, file=False)
    done = await BillCreator(engine, clock).run(creation, codat_client, slack_file)
    assert done.step == "done" and done.bill_id and done.attachment_id is None
    assert len(ledger(codat_sandbox).suppliers) == before


@pytest.mark.parametrize("path", [r"/suppliers$", r"/bills$", r"/attachments$"])
async def test_a_lost_response_is_finished_by_recovery_without_a_second_record(
        engine: Engine, clock: FixedClock, codat_sandbox: CodatSandbox,
        impatient: CodatClient, codat_client: CodatClient, path: str) -> None:
    codat_sandbox.state.faults.lose_response_hold_seconds = 2.0
    codat_sandbox.state.faults.next(FaultKind.LOSE_RESPONSE, 1, path=path)
    creation = submit(engine, codat_sandbox)
    creator = BillCreator(engine, clock)
    pending = await creator.run(creation, impatient, slack_file)
    assert not pending.finished and pending.error
    clock.set(T0 + timedelta(minutes=3))
    [done] = await creator.recover(codat_client, slack_file)
    assert done.step == "done" and done.attachment_id
    assert counts(codat_sandbox) == (1, 1, 1)
    keys = [r.idempotency_key for r in codat_sandbox.state.requests
            if r.method == "POST" and r.path.endswith(("/suppliers", "/bills"))]
    uploads = [r for r in codat_sandbox.state.requests
               if r.method == "POST" and r.path.endswith("/attachments")]
    if path == r"/attachments$":  # no key there: the landed upload is found, not resent
        assert len(keys) == len(set(keys)) == 2 and len(uploads) == 1
    else:  # the lost step went again with the same key
        assert len(keys) == len(set(keys)) + 1 and len(uploads) == 1


@pytest.mark.parametrize("point", [CrashPoint.BEFORE_CODAT_CALL, CrashPoint.AFTER_CODAT_ANSWER,
                                   CrashPoint.AFTER_LOCAL_COMMIT])
async def test_a_crash_at_any_point_is_finished_by_recovery(
        engine: Engine, clock: FixedClock, codat_sandbox: CodatSandbox,
        codat_client: CodatClient, point: CrashPoint) -> None:
    def crash(at: CrashPoint) -> None:
        if at == point:
            raise SimulatedCrash(at)
    creation = submit(engine, codat_sandbox)
    with pytest.raises(SimulatedCrash):
        await BillCreator(engine, clock, crash=crash).run(creation, codat_client, slack_file)
    clock.set(T0 + timedelta(minutes=3))
    [done] = await BillCreator(engine, clock).recover(codat_client, slack_file)
    assert done.step == "done" and done.attachment_id
    assert counts(codat_sandbox) == (1, 1, 1)


async def test_a_refused_bill_fails_and_is_not_retried(
        engine: Engine, clock: FixedClock, codat_sandbox: CodatSandbox,
        codat_client: CodatClient) -> None:
    codat_sandbox.state.faults.next(FaultKind.REFUSE, 1, path=r"/bills$")
    creation = submit(engine, codat_sandbox)
    creator = BillCreator(engine, clock)
    failed = await creator.run(creation, codat_client, slack_file)
    assert failed.step == "failed" and failed.error
    clock.set(T0 + timedelta(minutes=3))
    assert await creator.recover(codat_client, slack_file) == []
    assert counts(codat_sandbox) == (1, 0, 0)
