"""How long Slack row updates take under Slack's rate limits, against the floor those limits
set, and how many 429s they meet.

    python bench/pacing.py [--updates 300] [--replicas 1] [--inject-429 0]
                           [--database-url postgresql://…]

The local Slack stand-in enforces Slack's tiers (chat.update: Tier 3, a bucket of 50 that
refills at 50 a minute). billbot's Slack client (`PacedSlackClient`) sends `--updates`
chat.update calls, four at a time as a pay run does, spread over 30 messages in 10 channels,
from `--replicas` clients. Each client keeps its own pacing schedule, as replicas without a
shared one would; with `--database-url` (PostgreSQL, migrated here) each client has its own
engine on that database and they share one schedule, as `billbot run` replicas on
PostgreSQL do (storage/slack_slots.py). `--inject-429 K` makes the stand-in refuse K more calls with
Retry-After 1. Printed: wall time, the floor ((updates - 50) / (50 per minute)), their
ratio, the 429s (the stand-in's own and injected), and calls that failed. Figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from billbot.sandbox.serving import ServedApp
from billbot.sandbox.slack.method_rules import TIER_PER_MINUTE
from billbot.sandbox.slack.server import serve_slack_standin
from billbot.sandbox.slack.workspace import SlackWorkspace
from billbot.slack_web.paced_client import PacedSlackClient, build_slack_client
from billbot.slack_web.pacing import SlotBook
from billbot.storage.db import make_engine, upgrade_database
from billbot.storage.slack_slots import DatabaseSlots

CHANNELS = [f"C0BENCH{n:02d}" for n in range(10)]
CONCURRENCY = 4  # payrun_exec.CONCURRENCY: payments (and so row updates) in flight at once


async def post_rows(client: PacedSlackClient) -> list[tuple[str, str]]:
    places = []
    for channel in CHANNELS:
        for n in range(3):
            answer = await client.chat_postMessage(channel=channel, text=f"row {n}")
            places.append((channel, str(answer["ts"])))
    return places


async def update_rows(clients: list[PacedSlackClient], places: list[tuple[str, str]],
                      updates: int) -> int:
    slots = asyncio.Semaphore(CONCURRENCY * len(clients))
    failed = 0

    async def one(n: int) -> None:
        nonlocal failed
        channel, ts = places[n % len(places)]
        async with slots:
            try:
                await clients[n % len(clients)].chat_update(channel=channel, ts=ts,
                                                            text=f"update {n}")
            except Exception:
                failed += 1

    await asyncio.gather(*(one(n) for n in range(updates)))
    return failed


def schedules(replicas: int, database_url: str | None) -> list[SlotBook | None]:
    if database_url is None:
        return [None] * replicas  # each client its own Slots
    engines = [make_engine(database_url) for _ in range(replicas)]
    upgrade_database(engines[0])
    with engines[0].begin() as conn:
        conn.exec_driver_sql("DELETE FROM slack_pace")
    return [DatabaseSlots(engine) for engine in engines]


async def run(updates: int, replicas: int, inject: int, database_url: str | None) -> None:
    workspace = SlackWorkspace()
    for channel in CHANNELS:
        workspace.add_channel(channel, channel.lower())
    served: ServedApp = serve_slack_standin(workspace)
    try:
        clients = [build_slack_client(workspace.bot_token, workspace.api_url, slots=slots)
                   for slots in schedules(replicas, database_url)]
        places = await post_rows(clients[0])
        workspace.rate_limits.reset()  # the updates start on a full bucket, as the floor assumes
        if inject:
            workspace.faults.rate_limit("chat.update", times=inject, retry_after=1)
        started = time.monotonic()
        failed = await update_rows(clients, places, updates)
        wall = time.monotonic() - started
    finally:
        served.stop()
    per_minute = TIER_PER_MINUTE[3]
    floor = max(0, updates - per_minute) * 60 / per_minute
    statuses = Counter(c.status for c in workspace.calls("chat.update"))
    own = statuses[429] - inject
    shared = "one schedule in PostgreSQL" if database_url else "each its own schedule"
    ratio = f"{wall / floor:.2f}x" if floor else "within the burst"
    print(f"{updates} chat.update from {replicas} client(s), {shared}: {wall:.1f} s; "
          f"floor {floor:.1f} s ({ratio}); 429s: {own} from the stand-in's limits + {inject} "
          f"injected; {failed} failed; {statuses[200]} updated")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--inject-429", type=int, default=0)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL: the clients share one pacing schedule there")
    args = parser.parse_args()
    asyncio.run(run(args.updates, args.replicas, args.inject_429, args.database_url))


if __name__ == "__main__":
    main()
