"""How long a digest takes to build and post, and how many Codat requests it costs.

    python bench/digest_build.py [--bills 120 5000] [--latency-ms 100]

For each size, the Codat sandbox is seeded with that many Open bills, all due within the
window, and answers every API request after `--latency-ms` (a realistic round trip to
Codat). billbot then posts the digest into the local Slack stand-in on a fresh SQLite file.
Printed per size: Codat requests and time to read the due bills, time to post the whole
digest (read again, row states from the database, Block Kit, chat.postMessage per message;
at most three messages, BILLBOT_DIGEST_MAX_ROWS rows), the messages and blocks posted, the
peak Python heap (tracemalloc) during the post, and the time and blocks of an approver's App
Home (every open bill read, the first page of each section published).
Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

# The shared set-up (bench/one_company.py); run from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.one_company import CHANNEL, serve_one_company
from billbot.runtime import build_billbot
from billbot.slackapp.digests import post_digest
from billbot.slackapp.home import publish_home


async def measure(bills: int, latency_ms: int, workdir: Path) -> dict[str, Any]:
    world = serve_one_company(bills, workdir / f"digest-{bills}.db")
    state, workspace, settings = world.state, world.workspace, world.settings
    bot = build_billbot(settings)
    try:
        await bot.startup()
        binding = await bot.binding_for(CHANNEL)
        assert binding is not None
        state.faults.latency_ms = latency_ms

        before = world.codat_requests()
        started = time.perf_counter()
        due = await bot.due_bills(binding, within_days=settings.billbot_due_within_days)
        read_seconds = time.perf_counter() - started
        read_requests = world.codat_requests() - before

        before = world.codat_requests()
        tracemalloc.start()
        started = time.perf_counter()
        posted = await post_digest(bot, CHANNEL, binding)
        post_seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        post_requests = world.codat_requests() - before

        messages = [workspace.message(CHANNEL, ts) for ts in posted]
        blocks = sum(len(m.blocks) for m in messages if m is not None)
        started = time.perf_counter()
        await publish_home(bot, "U0ANN")
        home_seconds = time.perf_counter() - started
        home = workspace.views.home("U0ANN")
        return {"bills": bills, "due": len(due), "read_requests": read_requests,
                "read_s": read_seconds, "post_requests": post_requests, "post_s": post_seconds,
                "messages": len(posted), "blocks": blocks, "peak_mib": peak / 2**20,
                "violations": len(workspace.violations), "home_s": home_seconds,
                "home_blocks": len(home.blocks) if home else 0}
    finally:
        await bot.shutdown()
        world.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, nargs="+", default=[120, 5000])
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args(argv)
    print(f"digest build: Codat sandbox latency {args.latency_ms} ms per request, "
          "100 bills per Codat page, SQLite file, local Slack stand-in")
    header = (f"{'open bills':>10} {'due':>5} {'Codat req':>9} {'read s':>7} "
              f"{'post: Codat req':>15} {'post s':>7} {'messages':>8} {'blocks':>6} "
              f"{'peak MiB':>8} {'Block Kit violations':>20} {'home s':>6} {'home blocks':>11}")
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.bills:
            r = asyncio.run(measure(size, args.latency_ms, Path(tmp)))
            print(f"{r['bills']:>10} {r['due']:>5} {r['read_requests']:>9} {r['read_s']:>7.2f} "
                  f"{r['post_requests']:>15} {r['post_s']:>7.2f} {r['messages']:>8} "
                  f"{r['blocks']:>6} {r['peak_mib']:>8.1f} {r['violations']:>20} "
                  f"{r['home_s']:>6.2f} {r['home_blocks']:>11}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
