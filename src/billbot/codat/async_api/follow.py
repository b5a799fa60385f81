"""Following a push operation to its end: Codat sends no webhook for them, so billbot polls
with backoff (0.5 s doubling to 8 s by default) within a budget. A push still Pending when the
budget runs out is left to the caller (the payment recovery tick follows it again later).

Reusable for every write of the async API (payments, bills, credit notes, deletes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from billbot.codat.errors import CodatApiError, CodatNotSent, CodatOutcomeUnknown

from .models import PushOperation

logger = logging.getLogger("billbot.codat")


class PushReader(Protocol):
    async def get_push_operation(self, company_id: str, key: str) -> PushOperation: ...


@dataclass(frozen=True)
class FollowPolicy:
    initial_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 8.0
    budget: float = 30.0  # seconds of waiting in one follow, then the caller decides

    def delays(self) -> list[float]:
        out: list[float] = []
        delay, total = self.initial_delay, 0.0
        while total + delay <= self.budget and delay > 0:
            out.append(delay)
            total += delay
            delay = min(delay * self.factor, self.max_delay)
        return out


async def follow(reader: PushReader, company_id: str, operation: PushOperation,
                 policy: FollowPolicy, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> PushOperation:
    """The operation once final, or as last seen when the budget ran out (still Pending).

    A read that fails keeps the last answer: a poll is only a read, the next one may do.
    """
    current = operation
    for delay in policy.delays():
        if current.status.final:
            return current
        await sleep(delay)
        try:
            current = await reader.get_push_operation(company_id,
                                                      operation.push_operation_key)
        except (CodatApiError, CodatNotSent, CodatOutcomeUnknown) as exc:
            logger.info("push operation poll failed: %s", exc.__class__.__name__)
    return current
