"""A rate-limit schedule that notes whether each request it paced went as urgent (a person's)
or waited its turn (background work), around the bot's own schedule."""

from __future__ import annotations

from billbot.pacing import Limit, SlotBook, Slots


class RecordingSlots:
    def __init__(self, schedule: SlotBook | None = None) -> None:
        self.schedule: SlotBook = schedule or Slots()
        self.urgent: list[bool] = []

    async def reserve(self, key: str, limit: Limit, *, urgent: bool = False) -> float:
        self.urgent.append(urgent)
        return await self.schedule.reserve(key, limit, urgent=urgent)

    async def hold(self, key: str, seconds: float, limit: Limit) -> None:
        await self.schedule.hold(key, seconds, limit)
