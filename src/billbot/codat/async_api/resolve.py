"""Did a write whose answer was lost reach the books? The async API has no Idempotency-Key,
so billbot writes a unique `reference` into each record and, before sending anything again,
looks for it:

1. the records themselves, by reference (Codat's synced copy, e.g. `data/billPayments`);
2. the company's push operations of that data type requested since the first send and
   claimed by no other write billbot knows of: one still Pending may be ours (undecided:
   wait); a successful one is ours if the record it wrote carries our reference (a record
   the synced copy does not show yet: undecided, and a sync is requested); a failed one
   wrote nothing.

Only "absent" allows sending again: nothing carries the reference and every candidate push
operation has ended without writing it. Reusable for every async write that carries a
reference (payments, credit notes, allocations).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from billbot.codat.errors import CodatError, CodatNotFound

from .models import PushOperation, PushStatus
from .queries import safe_value

logger = logging.getLogger("billbot.codat")

# Codat's clock and ours may disagree; a push requested a little "before" our send is ours too.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Found:
    record_id: str | None
    push_key: str | None
    how: str


@dataclass(frozen=True)
class Undecided:
    why: str
    push_key: str | None = None  # a candidate still pending (followed next time)


@dataclass(frozen=True)
class Absent:
    why: str


Resolution = Found | Undecided | Absent


@dataclass(frozen=True)
class WrittenLookup:
    """How to look for one kind of record: list by reference, read one, sync its type."""

    data_type: str
    by_reference: Callable[[str], AsyncIterator[str | None]]  # references of matches
    reference_of: Callable[[str], Awaitable[str | None]]  # a record's reference by id
    push_operations: Callable[[], AsyncIterator[PushOperation]]
    request_sync: Callable[[], Awaitable[None]]


async def resolve(lookup: WrittenLookup, *, reference: str, connection_id: str,
                  sent_since: datetime, other_keys: Collection[str]) -> Resolution:
    """Where the write carrying `reference` stands (see the module docstring)."""
    safe_value(reference)
    async for match in lookup.by_reference(reference):
        return Found(match, await _key_of(lookup, match), "a record carries the reference")
    undecided: list[Undecided] = []
    async for op in lookup.push_operations():
        if not _candidate(op, lookup.data_type, connection_id, sent_since, other_keys):
            continue
        if op.status is PushStatus.PENDING:
            undecided.append(Undecided("a push operation is still pending", op.push_operation_key))
        elif op.status is PushStatus.SUCCESS:
            verdict = await _success(lookup, op, reference)
            if isinstance(verdict, Found):
                return verdict
            if verdict is not None:
                undecided.append(verdict)
        elif op.status is PushStatus.TIMED_OUT:
            undecided.append(Undecided("a push operation timed out; the books may hold it"))
    if undecided:
        await _sync(lookup)
        pending = [u for u in undecided if u.push_key]
        return pending[0] if pending else undecided[0]
    return Absent("no record carries the reference and no push operation may have written it")


async def _key_of(lookup: WrittenLookup, record_id: str | None) -> str | None:
    """The push operation that wrote `record_id`, when Codat still lists it."""
    if record_id is None:
        return None
    async for op in lookup.push_operations():
        if op.status is PushStatus.SUCCESS and op.record_id == record_id:
            return op.push_operation_key
    return None


def _candidate(op: PushOperation, data_type: str, connection_id: str, since: datetime,
               other_keys: Collection[str]) -> bool:
    if op.push_operation_key in other_keys:
        return False
    if op.data_type is not None and op.data_type != data_type:
        return False
    if op.data_connection_key is not None and op.data_connection_key != connection_id:
        return False
    if op.requested_on is None:
        return True
    requested = op.requested_on
    if requested.tzinfo is None:  # Codat's dates may carry no zone: they are UTC
        requested = requested.replace(tzinfo=UTC)
    return requested >= since - CLOCK_SKEW


async def _success(lookup: WrittenLookup, op: PushOperation,
                   reference: str) -> Found | Undecided | None:
    """Ours (Found), not ours (None), or not readable yet (Undecided)."""
    carried = (op.data or {}).get("reference")
    if carried == reference:
        return Found(op.record_id, op.push_operation_key, "the push operation carries it")
    record = op.record_id
    if record is None:
        return Undecided("a successful push operation names no record")
    try:
        found = await lookup.reference_of(record)
    except CodatNotFound:
        return Undecided("the record of a successful push operation is not synced yet")
    if found == reference:
        return Found(record, op.push_operation_key, "its push operation's record carries it")
    return None


async def _sync(lookup: WrittenLookup) -> None:
    try:
        await lookup.request_sync()
    except CodatError as exc:  # a refused or lost refresh only delays the answer
        logger.info("sync of %s not requested: %s", lookup.data_type, exc.__class__.__name__)


__all__ = ["CLOCK_SKEW", "Absent", "Found", "Resolution", "Undecided", "WrittenLookup",
           "resolve"]
