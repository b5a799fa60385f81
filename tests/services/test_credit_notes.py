"""Recording a supplier credit note through the async API exactly once (services/credit_notes):
against the Codat sandbox over HTTP and a real database. Concurrent submits of one number
push once; a lost answer is resolved by the credit note's number before anything is sent
again; a failed push writes nothing and may be tried again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from billbot.codat import CodatClient
from billbot.codat.async_api import AsyncBillPayClient, FollowPolicy
from billbot.codat.async_api.credit_notes import NewCreditNote, open_credit_notes
from billbot.sandbox.codat import FaultKind
from billbot.services.credit_notes import IN_FLIGHT, RecordContext, claim, record_credit_note
from billbot.storage.audit import BillRef
from billbot.storage.db import session_scope
from billbot.storage.tables import AuditLog, CreditNoteRecord
from tests.codat.conftest import FAST
from tests.plugins.openapi_contract import CodatSandbox

T = TypeVar("T")
SUPPLIER = "4101"  # Northridge Office Supplies
PUSH_PATH = r"/push/billCreditNotes$"


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def client(codat_sandbox: CodatSandbox) -> AsyncIterator[AsyncBillPayClient]:
    async with httpx.AsyncClient() as http:
        yield AsyncBillPayClient(CodatClient(http, api_key=codat_sandbox.api_key,
                                             base_url=codat_sandbox.base_url, retry=FAST,
                                             timeout=5),
                                 sleep=_no_sleep, follow_policy=FollowPolicy(budget=5.0))


def _db(engine: Engine) -> Callable[[Callable[[Session], T]], Any]:
    async def run(work: Callable[[Session], T]) -> T:
        def inner() -> T:
            with session_scope(engine) as session:
                return work(session)
        return await asyncio.to_thread(inner)
    return run


def _ctx(sandbox: CodatSandbox) -> RecordContext:
    return RecordContext(BillRef(sandbox.company_id, sandbox.connection_id, "7110700001"),
                         bill_version={"id": "7110700001"}, actor="U0PAT", request_id=None)


def _note(number: str, amount: str = "80.00") -> NewCreditNote:
    return NewCreditNote(supplier_id=SUPPLIER, number=number, amount=Decimal(amount),
                         currency="GBP", issue_date=date(2026, 12, 1))


def _notes(sandbox: CodatSandbox, number: str) -> list[dict[str, Any]]:
    return [n for n in sandbox.state.main_ledger.credit_notes.values()
            if n["billCreditNoteNumber"] == number]


def _pushes(sandbox: CodatSandbox) -> list[Any]:
    return [r for r in sandbox.state.pushes.of(sandbox.company_id).values()
            if r.operation["dataType"] == "billCreditNotes"]


def _audits(engine: Engine) -> list[AuditLog]:
    with session_scope(engine, read_only=True) as session:
        return list(session.exec(select(AuditLog).where(
            col(AuditLog.action) == "credit_note.recorded")).all())


def _now() -> datetime:
    return datetime.now(UTC)


async def test_concurrent_submits_of_one_number_push_once(
        engine: Engine, client: AsyncBillPayClient, codat_sandbox: CodatSandbox) -> None:
    results = await asyncio.gather(*(record_credit_note(
        _db(engine), client, _ctx(codat_sandbox), _note("CN-T1"), now=_now) for _ in range(3)))
    ids = {r.note_id for r in results if r.note_id}
    assert len(ids) == 1 and len(_pushes(codat_sandbox)) == 1
    [stored] = _notes(codat_sandbox, "CN-T1")
    assert stored["id"] in ids and stored["remainingCredit"] == Decimal("80.00")
    # A later submit of the same number finds it recorded and sends nothing.
    again = await record_credit_note(_db(engine), client, _ctx(codat_sandbox), _note("CN-T1"),
                                     now=_now)
    assert again.note_id == stored["id"] and len(_pushes(codat_sandbox)) == 1
    [entry] = _audits(engine)
    assert entry.actor == "U0PAT" and entry.detail["amount"] == "80.00"
    await client.request_sync(codat_sandbox.company_id, codat_sandbox.connection_id,
                              "billCreditNotes")
    listed = await open_credit_notes(client, codat_sandbox.company_id, SUPPLIER, "GBP")
    assert "CN-T1" in [n.number for n in listed] and "CN-0001" in [n.number for n in listed]


async def test_a_lost_answer_is_found_by_its_number_and_not_sent_again(
        engine: Engine, client: AsyncBillPayClient, codat_sandbox: CodatSandbox) -> None:
    state = codat_sandbox.state
    state.faults.lose_response_hold_seconds = 1.0
    state.faults.next(FaultKind.LOSE_RESPONSE, 1, path=PUSH_PATH)
    async with httpx.AsyncClient() as http:
        impatient = AsyncBillPayClient(CodatClient(
            http, api_key=codat_sandbox.api_key, base_url=codat_sandbox.base_url, timeout=0.3,
            retry=FAST), sleep=_no_sleep)
        lost = await record_credit_note(_db(engine), impatient, _ctx(codat_sandbox),
                                        _note("CN-T2"), now=_now)
    assert lost.note_id is None and len(_pushes(codat_sandbox)) == 1
    later = _now() + IN_FLIGHT  # the next submit, once the first is no longer in flight
    found = None
    for _ in range(5):  # pending, then found by its number once the push has settled
        found = await record_credit_note(_db(engine), client, _ctx(codat_sandbox),
                                         _note("CN-T2"), now=lambda: later)
        if found.note_id:
            break
        await asyncio.sleep(0.2)
    assert found is not None and found.note_id is not None
    assert len(_pushes(codat_sandbox)) == 1 and len(_notes(codat_sandbox, "CN-T2")) == 1
    assert len(_audits(engine)) == 1


async def test_a_failed_push_writes_nothing_and_may_be_sent_again(
        engine: Engine, client: AsyncBillPayClient, codat_sandbox: CodatSandbox) -> None:
    codat_sandbox.state.faults.next(FaultKind.PUSH_FAILED, 1, path=PUSH_PATH)
    failed = await record_credit_note(_db(engine), client, _ctx(codat_sandbox), _note("CN-T3"),
                                      now=_now)
    assert failed.note_id is None and "did not record" in failed.message
    assert _notes(codat_sandbox, "CN-T3") == [] and _audits(engine) == []
    with session_scope(engine, read_only=True) as session:
        [row] = session.exec(select(CreditNoteRecord)).all()
        assert row.state == "failed"
    done = await record_credit_note(_db(engine), client, _ctx(codat_sandbox),
                                    _note("CN-T3", "50.00"), now=_now)
    assert done.note_id is not None and len(_pushes(codat_sandbox)) == 2
    [stored] = _notes(codat_sandbox, "CN-T3")
    assert stored["totalAmount"] == Decimal("50.00")


async def test_a_send_in_flight_is_left_alone(
        engine: Engine, client: AsyncBillPayClient, codat_sandbox: CodatSandbox) -> None:
    """A claim still `calling` (another request's send, not yet answered) is not touched."""
    ctx, note = _ctx(codat_sandbox), _note("CN-T4")
    await _db(engine)(lambda s: claim(s, ctx, note, now=_now()))
    busy = await record_credit_note(_db(engine), client, ctx, note, now=_now)
    assert busy.note_id is None and "being recorded" in busy.message
    assert _pushes(codat_sandbox) == []
    # Past IN_FLIGHT with nothing in Codat: provably absent, so it is sent.
    later = _now() + IN_FLIGHT + timedelta(seconds=1)
    done = await record_credit_note(_db(engine), client, ctx, note, now=lambda: later)
    assert done.note_id is not None and len(_pushes(codat_sandbox)) == 1
