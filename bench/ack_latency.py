"""Acknowledgement times of `billbot run` under N concurrent signed requests, next to a bare Bolt app.

    python bench/ack_latency.py [--concurrency 10 50 100] [--rounds 5] [--database-url URL]

What runs, each in its own process on loopback:
- the stand-ins (`bench/standins.py`): the Codat sandbox (answering after --codat-latency-ms)
  and the local Slack, seeded with --bills open bills that are all due;
- `billbot run` on a fresh SQLite file (or --database-url), with the digest posted first;
- `bench/bare_bolt.py`: Bolt under the same server stack, acknowledging and nothing else.

For each concurrency N, each round sends the same N requests to both, all at once: half are Approve clicks (a
different approver each round, one bill per click, so every click does the real work after
its acknowledgement: re-reading the bill from Codat, recording the approval, chat.update),
half are `/bills help` and `/bills due 7`. The requests are signed just before sending and
written on connections opened beforehand; a request's time runs from writing its first
byte to reading the last byte of the answer. Between rounds the benchmark waits until billbot
has finished the work it started after acknowledging. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from billbot.sandbox.serving import free_port
from billbot.sandbox.slack.payloads import signature

BENCH_DIR = Path(__file__).resolve().parent


@dataclass
class Sample:
    kind: str  # "click" or "command"
    seconds: float
    status: int


@dataclass
class Prepared:
    body: bytes
    content_type: str

    @property
    def kind(self) -> str:
        return "click" if self.body.startswith(b"payload=") else "command"


# --- processes ---------------------------------------------------------------------------


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=out)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], *, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not become healthy within {within}s")


def billbot_env(info: dict[str, Any], database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "CODAT_", "BILLBOT_", "DATABASE_URL"))}
    # The scheduled digest must not fire during the run: put it three hours away.
    later = (datetime.now(UTC) + timedelta(hours=3)).strftime("%H:%M")
    env.update({
        "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": info["signing_secret"],
        "SLACK_API_URL": info["slack_api_url"], "CODAT_API_KEY": info["codat_api_key"],
        "CODAT_BASE_URL": info["codat_base_url"], "CODAT_COMPANY_ID": info["company_id"],
        "CODAT_CONNECTION_ID": info["connection_id"], "BILLBOT_CHANNEL": info["channel"],
        "BILLBOT_APPROVERS": ",".join(info["approvers"]), "BILLBOT_DIGEST_AT": later,
        "BILLBOT_TIMEZONE": "UTC", "DATABASE_URL": database_url,
    })
    return env


# --- the load ----------------------------------------------------------------------------


def http_request(url: str, prepared: Prepared, secret: str) -> bytes:
    parts = urlsplit(url)
    ts = str(int(time.time()))
    head = (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: {prepared.content_type}\r\nContent-Length: {len(prepared.body)}\r\n"
            f"User-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n"
            f"X-Slack-Request-Timestamp: {ts}\r\n"
            f"X-Slack-Signature: {signature(secret, ts, prepared.body)}\r\n\r\n")
    return head.encode() + prepared.body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def fire(url: str, requests: list[Prepared], secret: str) -> list[Sample]:
    """Open one connection per request, then write every request at once and time each."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    streams = [await asyncio.open_connection(host, port) for _ in requests]
    wire = [http_request(url, r, secret) for r in requests]
    go = asyncio.Event()

    async def one(i: int) -> Sample:
        reader, writer = streams[i]
        await go.wait()
        started = time.perf_counter()
        writer.write(wire[i])
        await writer.drain()
        status = await read_response(reader)
        elapsed = time.perf_counter() - started
        writer.close()
        return Sample(requests[i].kind, elapsed, status)

    tasks = [asyncio.create_task(one(i)) for i in range(len(requests))]
    await asyncio.sleep(0)
    go.set()
    return list(await asyncio.gather(*tasks))


def prepare(control: str, **spec: Any) -> list[Prepared]:
    answer = httpx.post(f"{control}/prepare", json=spec, timeout=60).json()
    return [Prepared(r["body"].encode(), r["content_type"]) for r in answer["requests"]]


def counts(control: str) -> dict[str, int]:
    return dict(httpx.get(f"{control}/counts", timeout=10).json())


def wait_idle(control: str, *, quiet: float = 1.0, within: float = 120.0) -> dict[str, int]:
    """Until neither Slack nor Codat has seen a request for `quiet` seconds."""
    deadline = time.monotonic() + within
    last, since = counts(control), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = counts(control)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
    return last


# --- figures -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def row(name: str, samples: list[Sample]) -> str:
    ms = [s.seconds * 1000 for s in samples]
    bad = sum(1 for s in samples if s.status != 200)
    return (f"{name:<22} {len(ms):>8} {percentile(ms, 0.5):>8.1f} {percentile(ms, 0.9):>8.1f} "
            f"{percentile(ms, 0.99):>8.1f} {max(ms):>8.1f} {statistics.fmean(ms):>8.1f} {bad:>7}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bills", type=int, default=120)
    parser.add_argument("--codat-latency-ms", type=int, default=100)
    parser.add_argument("--per-round", action="store_true", help="print each round's p50/max")
    parser.add_argument("--database-url", default=None,
                        help="default: a fresh SQLite file in a temporary directory")
    args = parser.parse_args(argv)
    if max(args.concurrency) // 2 > args.bills:
        raise SystemExit("--bills must be at least half of --concurrency (one bill per click)")
    rounds = args.rounds * len(args.concurrency)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        standins = start([sys.executable, str(BENCH_DIR / "standins.py"),
                          "--bills", str(args.bills), "--approvers", str(rounds + 1),
                          "--codat-latency-ms", str(args.codat_latency_ms)],
                         dict(os.environ), workdir / "standins.log")
        procs = [standins]
        try:
            assert standins.stdout is not None
            info = json.loads(standins.stdout.readline())
            control, secret = info["control_url"], info["signing_secret"]
            database_url = args.database_url or f"sqlite:///{workdir / 'billbot.db'}"
            bot_port, bare_port = free_port(), free_port()
            bot = start([sys.executable, "-m", "billbot.cli", "run", "--host", "127.0.0.1",
                         "--port", str(bot_port)], billbot_env(info, database_url),
                        workdir / "billbot.log")
            bare = start([sys.executable, str(BENCH_DIR / "bare_bolt.py"), "--port",
                          str(bare_port)], {**os.environ, "SLACK_SIGNING_SECRET": secret},
                         workdir / "bare.log")
            procs += [bot, bare]
            bot_url = f"http://127.0.0.1:{bot_port}/slack/events"
            bare_url = f"http://127.0.0.1:{bare_port}/slack/events"
            wait_healthy(f"http://127.0.0.1:{bot_port}/healthz", bot)
            wait_healthy(f"http://127.0.0.1:{bare_port}/healthz", bare)

            # The digest the clicks land on, and a warm-up for both servers.
            asyncio.run(fire(bot_url, prepare(control, digest=True, round=0), secret))
            wait_idle(control)
            warm = prepare(control, commands=10, round=0)
            asyncio.run(fire(bot_url, warm, secret))
            asyncio.run(fire(bare_url, warm, secret))
            wait_idle(control)
            start_counts = counts(control)

            results: dict[int, dict[str, list[Sample]]] = {}
            approver = 0
            for n in args.concurrency:
                results[n] = {"billbot": [], "bare": []}
                for _ in range(args.rounds):
                    approver += 1
                    load = prepare(control, clicks=n // 2, commands=n - n // 2, round=approver)
                    got = asyncio.run(fire(bot_url, load, secret))
                    wait_idle(control)
                    floor = asyncio.run(fire(bare_url, load, secret))
                    results[n]["billbot"] += got
                    results[n]["bare"] += floor
                    if args.per_round:
                        print(f"N={n} round {approver}: billbot {row('', got)}")
                        print(f"N={n} round {approver}: bare    {row('', floor)}")
            end_counts = wait_idle(control)
        finally:
            for p in procs:
                if p.stdin:
                    p.stdin.close()
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()

    db = "SQLite file" if args.database_url is None else "the given database"
    print(f"ack latency: N concurrent signed requests per round (half Approve clicks, half "
          f"/bills commands), {args.rounds} rounds per N, {db}, Codat latency "
          f"{args.codat_latency_ms} ms, {os.cpu_count()} CPUs")
    print(f"{'N':>4} {'server':<22} {'requests':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'mean ms':>8} {'non-200':>7}")
    for n, by_server in results.items():
        bb, bare_samples = by_server["billbot"], by_server["bare"]
        print(f"{n:>4} {row('billbot run', bb)}")
        print(f"{n:>4} {row('  clicks', [s for s in bb if s.kind == 'click'])}")
        print(f"{n:>4} {row('  slash commands', [s for s in bb if s.kind == 'command'])}")
        print(f"{n:>4} {row('bare Bolt (ack only)', bare_samples)}")
        p99_bot = percentile([s.seconds for s in bb], 0.99) * 1000
        p99_bare = percentile([s.seconds for s in bare_samples], 0.99) * 1000
        print(f"{n:>4} p99 billbot / bare: {p99_bot / p99_bare:.2f}x   "
              f"(p99 < 50 ms: {'met' if p99_bot < 50 else 'NOT met'}; "
              f"within 1.5x of bare: {'met' if p99_bot <= 1.5 * p99_bare else 'NOT met'})")
    clicks = sum(n // 2 for n in args.concurrency) * args.rounds
    done = {k: end_counts[k] - start_counts[k] for k in ("chat_update", "response_url")}
    print(f"work done after acknowledging: {done['chat_update']} chat.update "
          f"(for {clicks} clicks), {done['response_url']} response_url answers, "
          f"{end_counts['violations']} Block Kit violations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
