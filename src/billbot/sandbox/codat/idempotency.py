"""Codat's Idempotency-Key semantics (`using-the-api/write-data/idempotency.md`, D).

The first response for a (company, key) is stored and replayed byte for byte, with its
status, for 90 minutes; the same key with a different request is refused with 422; the
same key while the first request is still being processed gets 409; a 429 is not stored
(the key is released). Every other response, 4xx and 5xx included, is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from billbot.sandbox.codat import jsonio

KEY_LIFETIME = timedelta(minutes=90)

Scope = tuple[str, str]  # (companyId, Idempotency-Key)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    content_type: str
    body: bytes


@dataclass
class _Entry:
    fingerprint: str
    started_at: datetime
    response: StoredResponse | None = None  # None while the first request is in flight


class Outcome(Enum):
    NEW = "new"
    REPLAY = "replay"
    IN_FLIGHT = "in_flight"
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class Begin:
    outcome: Outcome
    stored: StoredResponse | None = None


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and the JSON body's content."""
    try:
        canonical = jsonio.canonical(jsonio.loads(body)) if body.strip() else b""
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotencyStore:
    """Not thread-safe by itself: the sandbox calls it under its state lock."""

    def __init__(self, lifetime: timedelta = KEY_LIFETIME) -> None:
        self.lifetime = lifetime
        self._entries: dict[Scope, _Entry] = {}

    def begin(self, scope: Scope, request_fingerprint: str, now: datetime) -> Begin:
        entry = self._entries.get(scope)
        if entry is not None and now - entry.started_at >= self.lifetime:
            entry = None  # expired: the key is free again
        if entry is None:
            self._entries[scope] = _Entry(fingerprint=request_fingerprint, started_at=now)
            return Begin(Outcome.NEW)
        if entry.fingerprint != request_fingerprint:
            return Begin(Outcome.MISMATCH)
        if entry.response is None:
            return Begin(Outcome.IN_FLIGHT)
        return Begin(Outcome.REPLAY, entry.response)

    def finish(self, scope: Scope, response: StoredResponse) -> None:
        entry = self._entries.get(scope)
        if entry is None:
            return
        if response.status == 429:
            del self._entries[scope]  # (D) 429s are not cached: the key is released
        else:
            entry.response = response

    def release(self, scope: Scope) -> None:
        self._entries.pop(scope, None)

    def __len__(self) -> int:
        return len(self._entries)
