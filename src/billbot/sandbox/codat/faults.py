"""Faults the sandbox can inject, drawn from a seeded RNG so a run can be replayed.

Tests flip them in process (`state.faults.latency_ms = 50`, `state.faults.next(...)`) or
over HTTP (`POST /_sandbox/faults`). Only Codat API requests are affected, never `/_sandbox/`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FaultKind(StrEnum):
    SERVER_ERROR = "server_error"  # 500
    UNAVAILABLE = "unavailable"  # 503
    RATE_LIMIT = "rate_limit"  # 429 with Retry-After
    LOSE_RESPONSE = "lose_response"  # write applied, answer never delivered (writes only)
    LATENCY = "latency"  # extra delay of `latency_ms`
    REFUSE = "refuse"  # 400: the accounting platform refuses the request (a final answer)
    # async API: the push operation the request creates ends Failed with an errorMessage
    PUSH_FAILED = "push_failed"


@dataclass
class FaultRule:
    """Apply `kind` to the next `remaining` requests whose path matches `path` (a regex)."""

    kind: FaultKind
    remaining: int = 1
    path: str = ""
    method: str | None = None
    latency_ms: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.kind in (FaultKind.LOSE_RESPONSE, FaultKind.PUSH_FAILED) \
                and method not in WRITE_METHODS:
            return False
        return re.search(self.path, path) is not None


@dataclass(frozen=True)
class FaultDecision:
    latency_ms: int = 0
    error_status: int | None = None  # 500 or 503; 400 for a refusal
    rate_limited: bool = False
    lose_response: bool = False
    push_fails: bool = False


@dataclass
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0  # share of requests answered 500 or 503 (even split)
    rate_limit_rate: float = 0.0  # share of requests answered 429
    rate_limit_next: int = 0  # the next N requests are answered 429
    retry_after_seconds: int = 1
    lose_response_rate: float = 0.0  # share of writes applied and then never answered
    lose_response_next: int = 0
    # How long a lost response is held (waiting for the client to give up) before the
    # connection is cut mid-response.
    lose_response_hold_seconds: float = 10.0
    # False: injected 500/503 come from "in front of" Codat (a gateway), so they are not
    # stored under the Idempotency-Key. True: stored and replayed like any response (docs).
    cache_injected_errors: bool = False
    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def next(self, kind: FaultKind | str, count: int = 1, *, path: str = "",
             method: str | None = None, latency_ms: int = 0) -> FaultRule:
        """Fault the next `count` requests whose path matches the regex `path`."""
        rule = FaultRule(kind=FaultKind(kind), remaining=count, path=path, method=method,
                         latency_ms=latency_ms)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        fresh = Faults(seed=self.seed)
        for name in ("latency_ms", "error_rate", "rate_limit_rate", "rate_limit_next",
                     "retry_after_seconds", "lose_response_rate", "lose_response_next",
                     "lose_response_hold_seconds", "cache_injected_errors"):
            setattr(self, name, getattr(fresh, name))
        self.rules.clear()
        self.reseed(self.seed)

    def decide(self, method: str, path: str) -> FaultDecision:
        """Consume the rules and draws that apply to one request (call under the state lock)."""
        fired = {kind: False for kind in FaultKind}
        extra_latency = 0
        for rule in self.rules:
            if not fired[rule.kind] and rule.matches(method, path):
                rule.remaining -= 1
                fired[rule.kind] = True
                extra_latency += rule.latency_ms
        self.rules = [rule for rule in self.rules if rule.remaining > 0]
        # Always draw in the same order so a seed replays the same run.
        draw_rate_limit, draw_error, draw_split, draw_lose = (self._rng.random() for _ in range(4))
        rate_limited = fired[FaultKind.RATE_LIMIT] or draw_rate_limit < self.rate_limit_rate
        if not rate_limited and self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            rate_limited = True
        error_status: int | None = None
        if fired[FaultKind.REFUSE]:
            error_status = 400
        elif fired[FaultKind.SERVER_ERROR]:
            error_status = 500
        elif fired[FaultKind.UNAVAILABLE]:
            error_status = 503
        elif draw_error < self.error_rate:
            error_status = 500 if draw_split < 0.5 else 503
        lose = False
        if method in WRITE_METHODS and not rate_limited and error_status is None:
            lose = fired[FaultKind.LOSE_RESPONSE] or draw_lose < self.lose_response_rate
            if not lose and self.lose_response_next > 0:
                self.lose_response_next -= 1
                lose = True
        latency = self.latency_ms + extra_latency
        if fired[FaultKind.LATENCY] and not extra_latency:
            latency += 1000  # a latency rule without its own figure adds a second
        return FaultDecision(latency_ms=latency, error_status=error_status,
                             rate_limited=rate_limited, lose_response=lose,
                             push_fails=fired[FaultKind.PUSH_FAILED])

    def to_json(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms, "error_rate": self.error_rate,
            "rate_limit_rate": self.rate_limit_rate, "rate_limit_next": self.rate_limit_next,
            "retry_after_seconds": self.retry_after_seconds,
            "lose_response_rate": self.lose_response_rate,
            "lose_response_next": self.lose_response_next,
            "lose_response_hold_seconds": self.lose_response_hold_seconds,
            "cache_injected_errors": self.cache_injected_errors, "seed": self.seed,
            "rules": [{"kind": r.kind.value, "remaining": r.remaining, "path": r.path,
                       "method": r.method, "latency_ms": r.latency_ms} for r in self.rules],
        }
