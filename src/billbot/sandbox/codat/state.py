"""Everything the sandbox holds, in memory, behind one lock.

API resources are kept as plain dicts in the spec's JSON shape (money as Decimal, dates as
ISO strings), so what is stored is what is served. Records of what the sandbox did
(`payments`, `requests`) are typed dataclasses for tests to read.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from billbot.clock import Clock, SystemClock
from billbot.sandbox.codat.async_seed import seed_acme_async, seed_async_records
from billbot.sandbox.codat.books import SYNCED_TYPES
from billbot.sandbox.codat.cache import CompanyCache, sync
from billbot.sandbox.codat.errors import ApiError
from billbot.sandbox.codat.faults import Faults
from billbot.sandbox.codat.idempotency import IdempotencyStore
from billbot.sandbox.codat.ledger import Json, Ledger
from billbot.sandbox.codat.push import PushBook
from billbot.sandbox.codat.seed import populate
from billbot.sandbox.codat.throttle import Throttle

REQUEST_LOG_LIMIT = 20_000
DEFAULT_OPEN_BILLS = 120


@dataclass(frozen=True)
class PaymentRecord:
    """A bill payment the sandbox applied (replays never add one)."""

    company_id: str
    connection_id: str
    bill_id: str
    idempotency_key: str | None
    payment_id: str
    amount: Decimal
    currency: str
    account_id: str
    date: str
    reference: str | None
    currency_rate: Decimal | None
    recorded_at: datetime

    def to_json(self) -> Json:
        return {
            "companyId": self.company_id, "connectionId": self.connection_id,
            "billId": self.bill_id, "idempotencyKey": self.idempotency_key,
            "paymentId": self.payment_id, "amount": self.amount, "currency": self.currency,
            "accountId": self.account_id, "date": self.date, "reference": self.reference,
            "currencyRate": self.currency_rate, "recordedAt": self.recorded_at.isoformat(),
        }


@dataclass
class RequestRecord:
    """One Codat API request as the sandbox saw it; `outcome` says what it did with it."""

    method: str
    path: str
    query: str
    idempotency_key: str | None
    at: datetime
    status: int = 0
    outcome: str = "pending"  # handled, replayed, idempotency_conflict, fault_429, lost...

    def to_json(self) -> Json:
        return {"method": self.method, "path": self.path, "query": self.query,
                "idempotencyKey": self.idempotency_key, "at": self.at.isoformat(),
                "status": self.status, "outcome": self.outcome}


class IdFactory:
    """Ids for records created at run time: uuids from a seeded RNG, so runs repeat."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._counter = 0

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def sequence(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:06d}"


@dataclass
class SandboxState:
    today: date
    clock: Clock = field(default_factory=SystemClock)
    page_size: int = 100  # payables lists (bills, suppliers, mapping options)
    faults: Faults = field(default_factory=Faults)
    seed: int = 0
    companies: dict[str, Json] = field(default_factory=dict)  # without dataConnections
    connections: dict[str, dict[str, Json]] = field(default_factory=dict)  # company -> id ->
    ledgers: dict[tuple[str, str], Ledger] = field(default_factory=dict)
    payments: list[PaymentRecord] = field(default_factory=list)
    requests: deque[RequestRecord] = field(
        default_factory=lambda: deque(maxlen=REQUEST_LOG_LIMIT))
    idempotency: IdempotencyStore = field(default_factory=IdempotencyStore)
    # Daily quota (D: 1,000 x (1 + connected companies)); enforced only when asked, since
    # a long demo or benchmark would otherwise run out.
    daily_quota: int | None = None
    enforce_quota: bool = False
    requests_today: int = 0
    # Codat's per-minute (per IP) and per-company concurrency limits; off unless set.
    throttle: Throttle = field(default_factory=Throttle)
    quota_day: date | None = None
    main_company_id: str = ""
    main_connection_id: str = ""
    # The async API: Codat's cache per company, push operations, and the periodic sync
    # (None: only when asked).
    caches: dict[str, CompanyCache] = field(default_factory=dict)
    pushes: PushBook = field(default_factory=PushBook)
    sync_interval_seconds: float | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    ids: IdFactory = field(init=False, repr=False)
    # Ids of the async API's operations and records: a stream of their own, so the sync
    # API's ids stay what they were before the async API existed.
    async_ids: IdFactory = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ids = IdFactory(self.seed)
        self.async_ids = IdFactory(self.seed + 1)

    # --- construction ----------------------------------------------------------------------

    @classmethod
    def seeded(cls, today: date | None = None, *, bills: int = DEFAULT_OPEN_BILLS,
               due_soon: int | None = None, clock: Clock | None = None, seed: int = 0,
               page_size: int = 100) -> SandboxState:
        """A sandbox holding the standard seed (see `seed.py`), dated relative to `today`.

        `bills` is the number of Open/PartiallyPaid bills of the main company; `due_soon`
        (default: the curated handful) how many of them are overdue or due within 7 days.
        """
        state = cls(today=today or datetime.now(UTC).date(), clock=clock or SystemClock(),
                    seed=seed, page_size=page_size)
        state.reseed(bills=bills, due_soon=due_soon)
        return state

    def reseed(self, *, bills: int = DEFAULT_OPEN_BILLS, due_soon: int | None = None,
               today: date | None = None) -> None:
        """Replace all data with a fresh seed; forget payments, requests, keys and faults."""
        with self.lock:
            if today is not None:
                self.today = today
            self.companies.clear()
            self.connections.clear()
            self.ledgers.clear()
            self.payments.clear()
            self.requests.clear()
            self.idempotency = IdempotencyStore(self.idempotency.lifetime)
            self.faults.clear()
            self.ids = IdFactory(self.seed)
            self.async_ids = IdFactory(self.seed + 1)
            self.requests_today = 0
            populate(self, open_bills=bills, due_soon=due_soon)
            self._seed_async()

    def _seed_async(self) -> None:
        """The async-only records, and a first sync of every linked company."""
        self.caches.clear()
        self.pushes = PushBook()
        for (company_id, connection_id), ledger in self.ledgers.items():
            if company_id == self.main_company_id:
                seed_acme_async(ledger, self.today)
            else:
                seed_async_records(ledger, self.today, prefix=company_id)
            if self.connections[company_id][connection_id]["status"] == "Linked":
                self.sync_company(company_id)

    # --- the async API's cache ------------------------------------------------------------

    def linked_connection(self, company_id: str) -> str:
        """The company's accounting connection that syncs (the first Linked one)."""
        self.company(company_id)
        for connection_id, connection in self.connections.get(company_id, {}).items():
            if connection["status"] == "Linked":
                return connection_id
        raise ApiError(400, f"Company {company_id} has no Linked data connection to sync.")

    def sync_company(self, company_id: str,
                     data_types: tuple[str, ...] = SYNCED_TYPES) -> list[Json]:
        """Copy the books into Codat's cache now; return the pull operations (Complete)."""
        connection_id = self.linked_connection(company_id)
        cache = self.caches.get(company_id)
        if cache is None or cache.connection_id != connection_id:
            cache = self.caches[company_id] = CompanyCache(connection_id=connection_id)
        return sync(cache, self.ledger(company_id, connection_id), company_id=company_id,
                    data_types=data_types, now=self.now(), new_id=self.async_ids.uuid)

    def cache(self, company_id: str) -> CompanyCache:
        """The company's cache, after the periodic sync and due push operations (if any)."""
        self.company(company_id)
        now = self.now()
        self.pushes.settle_due(company_id, now)
        cache = self.caches.get(company_id)
        interval = self.sync_interval_seconds
        if cache is not None and interval is not None and cache.last_sync is not None \
                and (now - cache.last_sync).total_seconds() >= interval:
            self.sync_company(company_id)
            cache = self.caches[company_id]
        if cache is None:
            raise ApiError(409, f"Company {company_id} has no synced data yet; link a "
                                "connection and queue a sync first.")
        return cache

    # --- lookups (raise the API's 404s) ------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now().astimezone(UTC)

    def timestamp(self) -> str:
        """`sourceModifiedDate`-style UTC instant."""
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def company(self, company_id: str) -> Json:
        company = self.companies.get(company_id)
        if company is None:
            raise ApiError(404, f"No company was found with ID {company_id}")
        return company

    def connection(self, company_id: str, connection_id: str) -> Json:
        self.company(company_id)
        connection = self.connections.get(company_id, {}).get(connection_id)
        if connection is None:
            raise ApiError(404, f"Data connection {connection_id} not found")
        return connection

    def ledger(self, company_id: str, connection_id: str) -> Ledger:
        """The data behind a payables call; the connection must be Linked (A)."""
        connection = self.connection(company_id, connection_id)
        if connection["status"] != "Linked":
            # (A) No source says how Codat refuses payables calls on an unlinked connection;
            # 403 is declared on every payables endpoint.
            raise ApiError(403, f"Data connection {connection_id} is {connection['status']}; "
                                "payables operations need a Linked connection.")
        ledger = self.ledgers.get((company_id, connection_id))
        if ledger is None:
            ledger = Ledger(company_name=self.companies[company_id]["name"],
                            base_currency="GBP")
            self.ledgers[(company_id, connection_id)] = ledger
        return ledger

    def company_json(self, company_id: str) -> Json:
        company = dict(self.company(company_id))
        company["dataConnections"] = list(self.connections.get(company_id, {}).values())
        return company

    # --- rate limit headers (D: on every response) ------------------------------------------

    def quota(self) -> int:
        if self.daily_quota is not None:
            return self.daily_quota
        linked = sum(1 for conns in self.connections.values()
                     if any(c["status"] == "Linked" for c in conns.values()))
        return 1000 * (1 + linked)

    def count_request(self) -> tuple[int, int, int]:
        """Count one API request; return (limit, remaining, reset unix time)."""
        now = self.now()
        if self.quota_day != now.date():
            self.quota_day = now.date()
            self.requests_today = 0
        self.requests_today += 1
        limit = self.quota()
        remaining = max(0, limit - self.requests_today)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        return limit, remaining, int(midnight.timestamp())

    # --- what tests read ----------------------------------------------------------------------

    def bill(self, bill_id: str, *, company_id: str | None = None,
             connection_id: str | None = None) -> Json:
        """A bill of the main company (or the one named), as stored."""
        key = (company_id or self.main_company_id, connection_id or self.main_connection_id)
        return self.ledgers[key].bills[bill_id]

    @property
    def main_ledger(self) -> Ledger:
        return self.ledgers[(self.main_company_id, self.main_connection_id)]
