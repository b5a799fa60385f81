"""Each bound company's open bills, kept in the database and refreshed from Codat by reading
only what changed.

The first refresh of a company is a full read (every page of the default listing: Open and
PartiallyPaid bills). Later ones ask `query=sourceModifiedDate>{watermark - overlap}`: the
bills modified since the newest modification already read, in any status, so a bill paid or
voided in the books leaves the set and an edited one is replaced. The overlap re-reads the
last few minutes, because equal or late-arriving timestamps must not be skipped. A full read
again every `full_every` catches what no modification date reveals: deleted bills. That one is
the nightly job's (`full_read`, at a quiet hour): readers (digests, `/bills due`, reminders)
read in full only when nothing is cached, or as a safety net once the last full read is twice
`full_every` old (the job has not run), so a person or a digest never waits on every page.

A refresh is single-flighted within the process (`SingleFlight`) and across replicas (the
`bill_refresh` lease): a caller that finds another replica refreshing waits for it and reads
what it stored. A failed read leaves the previous cache serving. Background callers (digests,
reminders) skip the refresh and read the cache while Codat's remaining allowance is under
the reserve, so people's clicks keep room; they are deferred only when nothing is cached.

Payments never read from here: they re-read the bill from Codat as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from billbot.clock import Clock
from billbot.codat.errors import CodatNotSent
from billbot.codat.models import Bill
from billbot.codat.rate_limits import RateLimits
from billbot.services.parsed_bills import ParsedBills, text_digest
from billbot.singleflight import SingleFlight
from billbot.storage import bill_cache
from billbot.storage.bill_cache import FetchedBill, RefreshState
from billbot.storage.db import session_scope

logger = logging.getLogger("billbot.open_bills")

T = TypeVar("T")
Key = tuple[str, str]
# Bills turned into stored texts per hop to a worker thread (a page of Codat's listing).
_TEXTS_PER_HOP = 100


@dataclass(frozen=True)
class RefreshPolicy:
    full_every: timedelta = timedelta(hours=24)
    overlap: timedelta = timedelta(minutes=5)
    # A refresh this recent is reused as it is (0: every reader refreshes first).
    fresh_for: timedelta = timedelta(0)
    # How long one replica may hold a refresh, and another waits for it.
    lease_for: timedelta = timedelta(minutes=2)
    # Background reads stop while less than this share of the daily allowance is left.
    reserve: float = 0.10
    poll_seconds: float = 0.1


class BillLister(Protocol):
    """Codat's list bills, page by page (the sync client, or the router choosing each
    company's API)."""

    def iter_bills(self, company_id: str, connection_id: str, *,
                   query: str | None = None) -> AsyncIterator[Bill]: ...


class RefreshDeferred(CodatNotSent):
    """Background work met an allowance under the reserve and has nothing cached to use."""


def codat_instant(at: datetime) -> str:
    """The spec's form in queries: `2023-12-15T00:00:00.000Z`."""
    utc = at.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _stored_json(bill: Bill) -> str:
    # Money as exact text and dates as ISO strings: parsing it back gives an equal Bill, so
    # version tokens and approvals' versions are the same as from a live read.
    return json.dumps(bill.model_dump(by_alias=True, mode="python", exclude_none=True),
                      default=str, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class _ReadBill:
    """What a refresh holds of each bill it read until it stores them: the stored text of
    an open one (about 830 bytes) rather than the parsed bill (about 2 KB), which is held
    only when the parsed bills will keep it."""

    bill_id: str
    modified: datetime | None
    text: str | None  # None: the bill left the open set (paid, voided...)
    bill: Bill | None


def _read_bills(page: Sequence[Bill], *, retain: bool) -> list[_ReadBill]:
    return [_ReadBill(bill_id=b.id, modified=b.source_modified_date,
                      text=_stored_json(b) if b.status.payable else None,
                      bill=b if retain and b.status.payable else None) for b in page]


def _aware(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


class OpenBills:
    """The cache's one entry point: `bills()` refreshes (cheaply) and reads."""

    def __init__(self, engine: Engine, codat: BillLister, clock: Clock,
                 policy: RefreshPolicy | None = None, *, rate_limits: RateLimits,
                 owner: str | None = None) -> None:
        self._engine = engine
        self._codat = codat
        self._rate_limits = rate_limits
        self._clock = clock
        self.policy = policy or RefreshPolicy()
        # The lease owner: this process (its id is logged by a replica that waits on it).
        self.owner = owner or uuid.uuid4().hex[:16]
        self._flights: SingleFlight[tuple[str, str, bool, bool], str] = SingleFlight()
        self.parsed = ParsedBills()

    async def _db(self, work: Callable[[Session], T], *, read_only: bool = False) -> T:
        def run() -> T:
            with session_scope(self._engine, read_only=read_only) as session:
                return work(session)
        return await asyncio.to_thread(run)

    async def bills(self, company_id: str, connection_id: str, *,
                    background: bool = False) -> list[Bill]:
        """The company's open bills after a refresh (or the cache, when a refresh fails)."""
        return await self.read(company_id, connection_id, list, background=background)

    async def read(self, company_id: str, connection_id: str, use: Callable[[Iterator[Bill]], T],
                   *, background: bool = False, keep: bool | None = None) -> T:
        """`use` applied to the company's open bills after a refresh, as they are parsed.
        `keep` (default: not `background`) whether ParsedBills keeps them for the next read;
        background work (a digest, a reminder) keeps no company it parsed."""
        keep = not background if keep is None else keep
        await self.refresh(company_id, connection_id, background=background, keep=keep)
        key = (company_id, connection_id)
        # On the worker thread: parsing 5,000 bills would hold the event loop (and every
        # acknowledgement waiting on it) for a noticeable moment.
        return await self._db(lambda s: use(self.parsed.each(key, bill_cache.iter_cached_bills(
            s, company_id=company_id, connection_id=connection_id), keep=keep)),
            read_only=True)

    async def refresh(self, company_id: str, connection_id: str, *,
                      background: bool = False, keep: bool | None = None) -> str:
        """Bring the cache up to date; says what happened (for logs, tests and the bench):
        `full`, `incremental`, `fresh`, `shared`, `deferred` or `stale`. `keep` as `read`."""
        keep = not background if keep is None else keep
        return await self._flights.run((company_id, connection_id, background, False),
                                       lambda: self._refresh((company_id, connection_id),
                                                             background, keep=keep))

    async def full_read(self, company_id: str, connection_id: str) -> str:
        """The periodic full read (the nightly job's), when `full_due` says so: `full`, or
        `fresh` / `shared` when one is recent enough, `deferred` under the reserve."""
        return await self._flights.run((company_id, connection_id, True, True),
                                       lambda: self._refresh((company_id, connection_id),
                                                             True, keep=False, nightly=True))

    def full_due(self, state: RefreshState | None, now: datetime, *, nightly: bool) -> bool:
        """Whether a refresh must read every page. A reader's: only with nothing cached, or
        after twice `full_every` (the safety net). The job's: once a day at most, it reads
        when waiting for the next night would let the last full read grow older than
        `full_every` (so at 24 h every night, unless one ran in the last two hours); under a
        day, it runs at any hour and reads at `full_every`."""
        if state is None or state.watermark is None or state.full_read_at is None:
            return True
        every = self.policy.full_every
        if not nightly:
            period = every * 2  # the safety net
        elif every < timedelta(days=1):
            period = every
        else:  # tonight, unless tomorrow night is still within the period
            period = max(every - timedelta(days=1), timedelta(hours=2))
        last = _aware(state.full_read_at)
        return last is None or now - last >= period

    async def _state(self, key: Key) -> RefreshState | None:
        return await self._db(lambda s: bill_cache.refresh_state(
            s, company_id=key[0], connection_id=key[1]), read_only=True)

    async def _refresh(self, key: Key, background: bool, *, keep: bool,
                       nightly: bool = False) -> str:
        policy = self.policy
        start = await self._state(key)
        cached_at = start.refreshed_at if start else None
        now = self._clock.now()
        if nightly and not self.full_due(start, now, nightly=True):
            return "fresh"
        if not nightly and cached_at is not None and policy.fresh_for > timedelta(0) \
                and now - cached_at < policy.fresh_for:
            return "fresh"
        if background and self._rate_limits.under_reserve(policy.reserve, now=now):
            if cached_at is None and not nightly:
                raise RefreshDeferred("Codat's remaining allowance is under the reserve and "
                                      "no bills are cached yet: background work waits")
            logger.info("bill refresh deferred: Codat allowance under the reserve")
            return "deferred"
        deadline = asyncio.get_running_loop().time() + policy.lease_for.total_seconds()
        while True:
            claimed = await self._db(lambda s: bill_cache.claim_refresh(
                s, company_id=key[0], connection_id=key[1], owner=self.owner,
                now=self._clock.now(), lease_for=policy.lease_for))
            if claimed is not None and (not self.full_due(claimed, now, nightly=True)
                                        if nightly else claimed.refreshed_at != cached_at):
                # Another replica finished a refresh since we looked: that one is ours too.
                await self._db(lambda s: bill_cache.release_refresh(
                    s, company_id=key[0], connection_id=key[1], owner=self.owner, error=None))
                return "shared"
            if claimed is not None:
                return await self._read(key, claimed, has_cache=cached_at is not None,
                                        nightly=nightly, keep=keep)
            # Another replica is refreshing this company: its result is ours too (the job
            # claims again after it, and reads in full unless that one did).
            await asyncio.sleep(policy.poll_seconds)
            seen = await self._state(key)
            if not nightly and seen is not None and seen.refreshed_at != cached_at:
                return "shared"
            if asyncio.get_running_loop().time() >= deadline:
                if cached_at is None:
                    raise CodatNotSent("another replica's refresh of these bills did not "
                                       "finish in time")
                return "stale"

    async def _read(self, key: Key, claimed: RefreshState, *, has_cache: bool,
                    nightly: bool, keep: bool) -> str:
        company_id, connection_id = key
        now = self._clock.now()
        watermark = _aware(claimed.watermark)
        full = self.full_due(claimed, now, nightly=nightly)
        if full and has_cache and not nightly:
            logger.warning("bills read in full by a reader: the last full read is over twice "
                           "BILLBOT_BILLS_FULL_READ_HOURS old (has the nightly job run?)")
        query = None if full or watermark is None else \
            f"sourceModifiedDate>{codat_instant(watermark - self.policy.overlap)}"
        # The parsed bills are held only for a company the parsed bills will keep; for the
        # rest (the night's reads, digests) each page is turned into stored texts and let go.
        retain = keep or self.parsed.holds(key)
        latest: dict[str, _ReadBill] = {}  # by id: a repeat, the later wins
        try:
            page: list[Bill] = []
            async for bill in self._codat.iter_bills(company_id, connection_id, query=query):
                page.append(bill)
                if len(page) == _TEXTS_PER_HOP:
                    latest.update((r.bill_id, r) for r in await self._texts(page, retain))
                    page = []
            latest.update((r.bill_id, r) for r in await self._texts(page, retain))
        except Exception as exc:  # (cancelled: the lease simply expires)
            error = f"{exc.__class__.__name__}: {exc}"
            await self._db(lambda s: bill_cache.release_refresh(
                s, company_id=company_id, connection_id=connection_id, owner=self.owner,
                error=error))
            if has_cache:
                logger.warning("bill refresh failed (%s); the cached bills keep serving",
                               exc.__class__.__name__)
                return "stale"
            raise

        def store(session: Session) -> bool:
            stored = self._store(session, key, latest, full=full, watermark=watermark)
            if stored and retain:  # (lost the lease: nothing was written)
                # The bills just read need no second parse when they are read back. Here,
                # on the worker thread: 5,000 digests are milliseconds of CPU.
                self.parsed.seed(key, [(text_digest(r.text), r.bill) for r in latest.values()
                                       if r.text is not None and r.bill is not None],
                                 replace=full, keep=keep)
            return stored
        stored = await self._db(store)
        kind = "full" if full else "incremental"
        logger.info("bills refreshed (%s): %d read", kind, len(latest),
                    extra={"refresh": kind, "bills_read": len(latest), "stored": stored})
        return kind

    async def _texts(self, page: list[Bill], retain: bool) -> list[_ReadBill]:
        # On a worker thread: a page's texts are a few milliseconds of CPU that on the event
        # loop would hold the acknowledgements arriving meanwhile.
        return await asyncio.to_thread(_read_bills, page, retain=retain) if page else []

    def _store(self, session: Session, key: Key, latest: dict[str, _ReadBill], *, full: bool,
               watermark: datetime | None) -> bool:
        open_now = [r for r in latest.values() if r.text is not None]
        gone = [r.bill_id for r in latest.values() if r.text is None]
        now = self._clock.now()
        newest = [m for r in latest.values() if (m := _aware(r.modified))]
        if newest:
            # Never past our own present: a date the books put in the future (a skewed
            # clock) would otherwise hide every real change made before it.
            watermark = min(max([*newest, *([watermark] if watermark else [])]), now)
        return bill_cache.store_refresh(
            session, company_id=key[0], connection_id=key[1], owner=self.owner, now=now,
            full=full, open_ids=[r.bill_id for r in open_now], gone=gone, watermark=watermark,
            open_bills=(FetchedBill(bill_id=r.bill_id, bill_json=text,
                                    source_modified_at=r.modified)
                        for r in open_now if (text := r.text) is not None))


__all__ = ["BillLister", "OpenBills", "RefreshDeferred", "RefreshPolicy", "codat_instant"]
