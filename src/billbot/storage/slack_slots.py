"""Rate-limit buckets shared by every replica on one PostgreSQL: Slack's (slack_web/pacing.py)
and Codat's (codat/pacing.py). billbot/pacing.py's `Slots` keeps them in the process otherwise;
the table is still named `slack_pace`, for the buckets it held first.

Each bucket is a `slack_pace` row: a call takes it under a row lock (SELECT … FOR UPDATE),
computes its slot with the same GCRA as the process-local schedule, moves the row on and
commits: one short transaction per Slack call, so two replicas never hand out the same slot
and their calls together stay within Slack's limit. Time is the database's
(`clock_timestamp()`), so the replicas' clocks need not agree. A row lock rather than an
advisory lock: the schedule must outlive the transaction that reserves a slot.

If the database does not answer, the call is paced by this process's schedule instead
(a replica's share of Slack is then a guess, and a 429 is still honoured).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from billbot.pacing import Limit, Slots, held_until, next_slot

logger = logging.getLogger("billbot.pacing")

_CREATE = text("INSERT INTO slack_pace (key, tat) VALUES (:key, 0) ON CONFLICT (key) DO NOTHING")
_TAKE = text("SELECT tat, EXTRACT(EPOCH FROM clock_timestamp()) FROM slack_pace "
             "WHERE key = :key FOR UPDATE")
_MOVE = text("UPDATE slack_pace SET tat = :tat WHERE key = :key")


class DatabaseSlots:
    def __init__(self, engine: Engine, fallback: Slots | None = None) -> None:
        self._engine = engine
        self._fallback = fallback or Slots()

    async def reserve(self, key: str, limit: Limit, *, urgent: bool = False) -> float:
        try:
            return await asyncio.to_thread(self._reserve, key, limit, urgent)
        except SQLAlchemyError as exc:
            logger.warning("pacing of %s kept in this process: %s", key.split(":")[0],
                           exc.__class__.__name__)
            return await self._fallback.reserve(key, limit, urgent=urgent)

    async def hold(self, key: str, seconds: float, limit: Limit) -> None:
        await self._fallback.hold(key, seconds, limit)
        try:
            await asyncio.to_thread(self._hold, key, seconds, limit)
        except SQLAlchemyError as exc:
            logger.warning("pacing hold of %s kept in this process: %s", key.split(":")[0],
                           exc.__class__.__name__)

    def _reserve(self, key: str, limit: Limit, urgent: bool) -> float:
        with self._engine.begin() as conn:
            conn.execute(_CREATE, {"key": key})
            tat, now = conn.execute(_TAKE, {"key": key}).one()
            slot, moved = next_slot(float(tat) or None, float(now), limit, urgent=urgent)
            conn.execute(_MOVE, {"key": key, "tat": moved})
        return slot - float(now)

    def _hold(self, key: str, seconds: float, limit: Limit) -> None:
        with self._engine.begin() as conn:
            conn.execute(_CREATE, {"key": key})
            tat, now = conn.execute(_TAKE, {"key": key}).one()
            conn.execute(_MOVE, {"key": key,
                                 "tat": held_until(float(tat) or None, float(now), seconds,
                                                   limit)})
