"""The open-bills cache against the Codat sandbox over real HTTP (every exchange checked
against the spec) and a real database: full read, then only what changed; edits, payments
made outside billbot, voids, new bills, deletions at the periodic full read; replicas
single-flighted; a failed refresh keeps the cache serving; the reserve defers background
reads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine

from billbot.codat.client import CodatClient
from billbot.codat.models import Bill, BillPaymentPrototype, IdRef
from billbot.codat.retry import RetryPolicy
from billbot.sandbox.codat.faults import FaultKind, FaultRule
from billbot.services.open_bills import OpenBills, RefreshDeferred, RefreshPolicy
from billbot.storage import bill_cache
from billbot.storage.db import session_scope
from tests.plugins.openapi_contract import CodatSandbox

GBP_BILL = "7110700008"  # Open, GBP 7,267.20
PART_PAID_BILL = "7110700009"  # PartiallyPaid, GBP 2,500.00 of 5,000.00 due
GBP_ACCOUNT = "56f518ef-0594-5946-8283-752772c842dd"
FAST = RetryPolicy(initial_interval=0.01, max_interval=0.02, max_elapsed=0.5)


class MovableClock:
    """The wall clock, moved forward by hand (the periodic full read is a day away)."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@pytest.fixture
async def codat(codat_sandbox: CodatSandbox) -> AsyncIterator[CodatClient]:
    async with httpx.AsyncClient() as http:
        yield CodatClient(http, api_key=codat_sandbox.api_key, base_url=codat_sandbox.base_url,
                          retry=FAST)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def cache(engine: Engine, codat: CodatClient, clock: MovableClock, **policy: object
          ) -> OpenBills:
    return OpenBills(engine, codat, clock, RefreshPolicy(**policy),  # type: ignore[arg-type]
                     rate_limits=codat.rate_limits)


def bill_reads(sandbox: CodatSandbox) -> list[str]:
    """The query of every list-bills request so far ('' for the default listing)."""
    return [r.query for r in sandbox.state.requests if r.path.endswith("/payables/bills")]


def open_in_books(sandbox: CodatSandbox) -> dict[str, dict[str, object]]:
    return {b["id"]: b for b in sandbox.state.main_ledger.bills.values()
            if b["status"] in ("Open", "PartiallyPaid")}


async def test_first_a_full_read_then_only_what_changed(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    sandbox, ids = codat_sandbox, (codat_sandbox.company_id, codat_sandbox.connection_id)
    bills = cache(engine, codat, clock)
    first = await bills.bills(*ids)
    # The default listing, every page (120 open bills, 100 a page).
    assert bill_reads(sandbox) == ["", "continuationToken=" + bill_reads(sandbox)[1][18:]]
    assert {b.id for b in first} == set(open_in_books(sandbox))
    # Exactly what a live read gives: the same figures feed the same version tokens.
    live = {b.id: b for b in await codat.list_bills(*ids)}
    assert {b.id: b for b in first} == live
    before = len(bill_reads(sandbox))
    again = await bills.bills(*ids)
    reads = bill_reads(sandbox)[before:]
    assert len(reads) == 1 and reads[0].startswith("query=sourceModifiedDate%3E")
    assert {b.id: b for b in again} == live
    # Each stored bill is parsed once per process: an unchanged one is the same object.
    assert all(a is b for a, b in zip(sorted(first, key=lambda b: b.id),
                                      sorted(again, key=lambda b: b.id), strict=True))


async def test_background_reads_give_the_same_bills_and_keep_none_parsed(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    """A digest's read (background) is parsed for the digest and let go; a person's read is
    kept, and a later digest of that company reuses it."""
    ids = (codat_sandbox.company_id, codat_sandbox.connection_id)
    bills = cache(engine, codat, clock)
    digest = await bills.bills(*ids, background=True)
    assert bills.parsed.count == 0
    person = await bills.bills(*ids)
    assert {b.id: b for b in person} == {b.id: b for b in digest}
    assert bills.parsed.count == len(person)
    later = await bills.bills(*ids, background=True)
    assert sorted(map(id, later)) == sorted(map(id, person))


async def test_a_read_that_keeps_nothing_folds_each_bill_and_holds_none(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    """A digest asked for by a person (`keep=False`, not background) reads in full, folds over
    the bills as they are parsed and leaves none parsed; a later person's read parses them
    from the stored texts and is the same set."""
    ids = (codat_sandbox.company_id, codat_sandbox.connection_id)
    bills = cache(engine, codat, clock)
    seen: list[str] = []

    def fold(each: Iterator[Bill]) -> int:
        count = 0
        for bill in each:
            seen.append(bill.id)
            count += 1
        return count
    assert await bills.read(*ids, fold, keep=False) == len(open_in_books(codat_sandbox))
    assert bills.parsed.count == 0 and not bills.parsed.holds(ids)
    person = await bills.bills(*ids)
    assert sorted(b.id for b in person) == sorted(seen)
    assert bills.parsed.count == len(person)
    # Kept now: a read that keeps nothing brings the kept company up to date all the same.
    assert await bills.read(*ids, fold, keep=False) == len(person)
    assert bills.parsed.holds(ids)


async def test_changes_in_the_books_are_seen_at_the_next_refresh(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    sandbox, ids = codat_sandbox, (codat_sandbox.company_id, codat_sandbox.connection_id)
    bills = cache(engine, codat, clock)
    await bills.bills(*ids)
    async with httpx.AsyncClient(base_url=sandbox.base_url) as control:
        # A bookkeeper edits one bill and voids another; one is deleted outright.
        edited, voided, deleted = "7110700004", "7110700005", "7110700006"
        assert (await control.patch(f"/_sandbox/bills/{edited}",
                                    json={"amountDue": "400.00", "totalAmount": 400})).is_success
        assert (await control.patch(f"/_sandbox/bills/{voided}",
                                    json={"status": "Void"})).is_success
        assert (await control.delete(f"/_sandbox/bills/{deleted}")).status_code == 204
    # Payments made outside billbot: one in full, one in part.
    for bill_id, amount in ((GBP_BILL, "7267.20"), (PART_PAID_BILL, "100.00")):
        await codat.create_bill_payment(*ids, bill_id, BillPaymentPrototype(
            amount=Decimal(amount), date="2099-01-01T00:00:00",
            account_ref=IdRef(id=GBP_ACCOUNT)), idempotency_key=str(uuid.uuid4()))
    # A new bill in the books.
    new = sandbox.state.main_ledger.bills["7110700007"] | {
        "id": "NEW-1", "sourceModifiedDate": sandbox.state.timestamp()}
    sandbox.state.main_ledger.bills["NEW-1"] = new

    assert await bills.refresh(*ids) == "incremental"
    seen = {b.id: b for b in await bills.bills(*ids)}
    assert seen[edited].amount_due == Decimal("400.00")
    assert voided not in seen and GBP_BILL not in seen and "NEW-1" in seen
    assert seen[PART_PAID_BILL].amount_due == Decimal("2400.00")
    # A deletion leaves no modification date behind: the periodic full read finds it. That
    # is the nightly job's; a reader a day on still reads only what changed.
    assert deleted in seen
    clock.ahead = timedelta(hours=25)
    assert await bills.refresh(*ids) == "incremental"
    assert deleted in {b.id for b in await bills.bills(*ids)}
    assert await bills.full_read(*ids) == "full"
    assert set(b.id for b in await bills.bills(*ids)) == set(open_in_books(sandbox))


async def test_two_replicas_refreshing_at_once_read_codat_once(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    sandbox, ids = codat_sandbox, (codat_sandbox.company_id, codat_sandbox.connection_id)
    sandbox.state.faults.latency_ms = 300  # the first read is still going when the second asks
    one, two = cache(engine, codat, clock), cache(engine, codat, clock)
    assert one.owner != two.owner
    outcomes = await asyncio.gather(one.refresh(*ids), two.refresh(*ids))
    assert sorted(outcomes) == ["full", "shared"]
    assert len(bill_reads(sandbox)) == 2  # one full read: two pages
    assert {b.id for b in await one.bills(*ids)} == set(open_in_books(sandbox))


async def test_a_failed_refresh_leaves_the_cache_serving(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    sandbox, ids = codat_sandbox, (codat_sandbox.company_id, codat_sandbox.connection_id)
    bills = cache(engine, codat, clock)
    before = {b.id for b in await bills.bills(*ids)}
    sandbox.state.faults.rules.append(FaultRule(kind=FaultKind.SERVER_ERROR, remaining=50,
                                                path="/payables/bills$"))
    assert await bills.refresh(*ids) == "stale"
    assert {b.id for b in await bills.bills(*ids)} == before
    with session_scope(engine) as session:
        state = bill_cache.refresh_state(session, company_id=ids[0], connection_id=ids[1])
    assert state is not None and state.lease_owner is None  # the lease was given back
    sandbox.state.faults.rules.clear()
    assert await bills.refresh(*ids) == "incremental"


async def test_nothing_cached_and_codat_failing_is_an_error(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    codat_sandbox.state.faults.rules.append(FaultRule(kind=FaultKind.SERVER_ERROR, remaining=50,
                                                      path="/payables/bills$"))
    with pytest.raises(Exception, match=r"500|Codat"):
        await cache(engine, codat, clock).bills(codat_sandbox.company_id,
                                                codat_sandbox.connection_id)


async def test_background_reads_wait_while_the_allowance_is_under_the_reserve(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    sandbox, ids = codat_sandbox, (codat_sandbox.company_id, codat_sandbox.connection_id)
    state = sandbox.state
    state.daily_quota = 100
    bills = cache(engine, codat, clock)
    await codat.get_company(ids[0])  # 99 of 100 left: plenty
    allowance = codat.rate_limits.latest
    assert allowance is not None and (allowance.limit, allowance.remaining) == (100, 99)
    assert allowance.reset_at is not None and allowance.reset_at > datetime.now(UTC)
    state.requests_today = 92
    await codat.get_company(ids[0])  # 7 left: under the 10% reserve
    # Nothing cached yet: background work is deferred, and makes no request.
    with pytest.raises(RefreshDeferred):
        await bills.bills(*ids, background=True)
    assert bill_reads(sandbox) == []
    # A person's read still goes through (and fills the cache).
    assert {b.id for b in await bills.bills(*ids)} == set(open_in_books(sandbox))
    reads = len(bill_reads(sandbox))
    # Background work now reads the cache without asking Codat.
    assert await bills.refresh(*ids, background=True) == "deferred"
    assert {b.id for b in await bills.bills(*ids, background=True)} == set(
        open_in_books(sandbox))
    assert len(bill_reads(sandbox)) == reads
    # Once the allowance is renewed (midnight UTC), background reads resume.
    clock.ahead = timedelta(days=1)
    assert await bills.refresh(*ids, background=True) == "incremental"


async def test_a_recent_refresh_is_reused_when_asked_to(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    ids = (codat_sandbox.company_id, codat_sandbox.connection_id)
    bills = cache(engine, codat, clock, fresh_for=timedelta(minutes=1))
    assert await bills.refresh(*ids) == "full"
    assert await bills.refresh(*ids) == "fresh"
    clock.ahead = timedelta(minutes=2)
    assert await bills.refresh(*ids) == "incremental"


async def test_the_full_read_is_the_jobs_and_readers_only_fall_back_on_it(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    sandbox, ids = codat_sandbox, (codat_sandbox.company_id, codat_sandbox.connection_id)
    bills = cache(engine, codat, clock)  # full_every: 24 hours
    # Nothing cached: the job reads it all; just after, it has nothing to do.
    assert await bills.full_read(*ids) == "full"
    assert await bills.full_read(*ids) == "fresh"
    # Its next night: the last full read would be over a day old by the one after.
    clock.ahead = timedelta(hours=20)
    assert await bills.full_read(*ids) == "full"
    reads = len(bill_reads(sandbox))
    # Readers read in full only past twice the period since the last one (the job stopped).
    clock.ahead = timedelta(hours=20 + 47)
    assert await bills.refresh(*ids) == "incremental"
    clock.ahead = timedelta(hours=20 + 49)
    assert await bills.refresh(*ids, background=True) == "full"
    assert bill_reads(sandbox)[reads + 1] == ""  # the default listing's first page


async def test_a_week_long_period_is_read_on_its_last_night(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    ids = (codat_sandbox.company_id, codat_sandbox.connection_id)
    bills = cache(engine, codat, clock, full_every=timedelta(days=7))
    assert await bills.full_read(*ids) == "full"
    clock.ahead = timedelta(days=5, hours=23)
    assert await bills.full_read(*ids) == "fresh"
    clock.ahead = timedelta(days=6, hours=1)  # the next night would be past the week
    assert await bills.full_read(*ids) == "full"


async def test_two_replicas_running_the_full_read_at_once_read_codat_once(
        engine: Engine, codat: CodatClient, clock: MovableClock,
        codat_sandbox: CodatSandbox) -> None:
    sandbox, ids = codat_sandbox, (codat_sandbox.company_id, codat_sandbox.connection_id)
    one, two = cache(engine, codat, clock), cache(engine, codat, clock)
    assert await one.full_read(*ids) == "full"
    clock.ahead = timedelta(hours=23)
    sandbox.state.faults.latency_ms = 300  # the first read is still going when the second asks
    reads = len(bill_reads(sandbox))
    outcomes = await asyncio.gather(one.full_read(*ids), two.full_read(*ids))
    assert sorted(outcomes) == ["full", "shared"]
    assert len(bill_reads(sandbox)) - reads == 2  # one full read: two pages
