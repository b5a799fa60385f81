"""Many bound channels, 1-3 replicas on one PostgreSQL: the day's digests, Codat's cost,
memory and acknowledgements.

    python bench/scale.py [--channels 1000] [--bills 200] [--big-bills 5000]
                          [--replicas 1 2 3] [--latency-ms 100] [--full-read-hours 24]
                          [--database-url URL] [--web-replicas N] [--standins-nice N]
                          [--codat-per-minute 1000] [--job-concurrency N]

`--channels` channels are bound each to its own company of `--bills` open bills (all due
soon), and one more to a company of `--big-bills`. The Codat sandbox (answering after
`--latency-ms`, its daily quota enforced, and `--codat-per-minute` requests a minute from
127.0.0.1 with 10 at once per company, as Codat's limits are; 0 lifts the per-minute one) and
the Slack stand-in (its rate limits on) run in a child process, so their work never slows
the measuring process. For each replica count, that many `billbot run` processes share a
fresh PostgreSQL database (`--database-url` is an admin URL; default
BILLBOT_TEST_POSTGRES_URL). The channels are bound once every replica
answers, and the next minute's digest sweep queues the day. Printed per replica count:
time from the first digest claimed to the last posted, the floor Slack's per-channel limit
and Codat's per-minute limit set (the requests Codat answered at that rate) and the time
against it, digests per second, Codat requests per company, peak RSS (VmHWM) of each replica, and
acknowledgement p99 of signed `/bills help` commands while the digests run, next to the p99
of the same commands before (idle; after a warm-up round). Two probes, alternating: rounds of
20 sent 4 at a time, each answer releasing the next (closed loop: the probe itself keeps about
a core busy, so "idle" is half the machine's two cores), and commands sent at a steady
`--paced-rate` whatever the answers do (open loop, as people's clicks arrive: the latency
one click sees beside the background work). With `--web-replicas N`, N more
replicas run with BILLBOT_RUN_JOBS=false and take those commands, the others doing the jobs.
With the largest replica count, the replicas are then
restarted twice with their clock a day ahead (the books unchanged): first in the night's
quiet hour (BILLBOT_BILLS_FULL_READ_AT just passed, the digest hours away), where the
nightly job reads the companies in full, then at the next day's digest time, where the
digests are posted; Codat requests per company are counted for each (`--full-read-hours`,
the replicas' BILLBOT_BILLS_FULL_READ_HOURS: at 24 the night reads every company in full; at
168 it reads none, the week not being out). Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import col

from billbot.sandbox.slack.method_rules import POST_BURST, POST_PER_SECOND
from billbot.sandbox.slack.payloads import FORM, signature
from billbot.services import bindings
from billbot.storage.bill_cache_tables import BillRefresh
from billbot.storage.db import make_engine, parse_database_url, session_scope, upgrade_database
from billbot.storage.tables import DigestPost

API_KEY = "bench-codat-key"
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-scale"
ANN = "U0ANN"
BIG_CHANNEL = "C0BIGLEDGER"
COMMANDS = 200  # commands in the warm-up round
# Idle rounds: 3,000 acknowledgements, so that the idle p99 is not the 6th slowest of 600 (it
# moved 19-34 ms between runs of the same code at 600).
IDLE_ROUNDS = 150
# The paced probe: commands a second, and how many in one stretch between closed rounds.
PACED_RATE = 50.0
PACED_STRETCH = 50
# Commands per round, idle and under load alike: each round opens new connections, whose
# first request costs more, so rounds of different sizes would not compare.
ROUND = 20
# `billbot run` with every clock of the product (billbot.clock.SystemClock) a day ahead, as
# the replicas of the next morning see it; Slack's request signatures still use the real time.
NEXT_DAY = ("import sys; from datetime import timedelta; from billbot import cli, clock; "
            "real = clock.SystemClock.now; "
            "clock.SystemClock.now = lambda self: real(self) + timedelta(days=1); "
            "sys.exit(cli.main(sys.argv[1:]))")


def fleet_channel(n: int) -> str:
    return f"C0SCALE{n:05d}"


def standins(pipe: Any, channels: int, bills: int, big_bills: int, latency_ms: int,
             niceness: int = 0, codat_per_minute: int = 0) -> None:
    """The child process: both stand-ins and a pipe that answers the parent's questions."""
    # Slack and Codat run on other machines in production; --standins-nice lowers the CPU
    # priority of their stand-ins, which share this machine's cores with the replicas.
    os.nice(niceness)
    from billbot.sandbox.codat.app import create_app
    from billbot.sandbox.codat.fleet import add_fleet
    from billbot.sandbox.codat.state import SandboxState
    from billbot.sandbox.serving import serve_in_thread
    from billbot.sandbox.slack.payloads import form_body, slash_command
    from billbot.sandbox.slack.server import serve_slack_standin
    from billbot.sandbox.slack.workspace import SlackWorkspace

    state = SandboxState.seeded(bills=big_bills, due_soon=big_bills)
    fleet = add_fleet(state, channels, bills=bills)
    state.faults.latency_ms = latency_ms
    state.enforce_quota = True
    if codat_per_minute:  # Codat's limits: so many a minute (all replicas share 127.0.0.1)
        state.throttle.documented()
        state.throttle.per_window = codat_per_minute
    per_company: Counter[str] = Counter()
    codat_429s, answered = [0], [0]  # Codat requests refused 429 / answered otherwise
    seen = [0]  # chat.postMessage calls before the last reset

    def count(exchange: Any) -> None:
        parts = exchange.request.path.split("/")
        if len(parts) > 2 and parts[1] == "companies":
            per_company[parts[2]] += 1
        if exchange.response.status == 429:
            codat_429s[0] += 1
        else:
            answered[0] += 1

    codat = serve_in_thread(create_app(state, api_key=API_KEY, on_exchange=count))
    workspace = SlackWorkspace(bot_tokens=[TOKEN])
    user = workspace.add_user(ANN, "ann")
    names = [fleet_channel(n) for n in range(channels)] + [BIG_CHANNEL]
    for name in names:
        workspace.add_channel(name, name.lower())
    slack = serve_slack_standin(workspace)
    companies = [*fleet, (state.main_company_id, state.main_connection_id)]
    pipe.send({"codat": codat.base_url, "slack": workspace.api_url,
               "bindings": list(zip(names, companies, strict=True))})
    while True:
        ask = pipe.recv()
        if ask == "stop":
            break
        if ask == "counts":
            posts = workspace.calls("chat.postMessage")[seen[0]:]
            pipe.send({"codat": dict(per_company), "posts": len(posts),
                       "limited": sum(1 for c in posts if c.status == 429),
                       "codat_429": codat_429s[0], "codat_answered": answered[0]})
        elif ask == "reset":
            per_company.clear()
            codat_429s[0] = answered[0] = 0
            seen[0] = len(workspace.calls("chat.postMessage"))
            pipe.send(True)
        elif ask == "commands":
            channel = workspace.channel(names[0])
            assert channel is not None
            bodies = []
            for _ in range(COMMANDS):
                fields = slash_command(
                    workspace, user=user, channel=channel,
                    command="/bills", text="help",
                    response_url=workspace.issue_response_url(names[0], ANN),
                    trigger_id=workspace.issue_trigger(ANN))
                bodies.append(form_body(fields))
            pipe.send(bodies)
    slack.stop()
    codat.stop()


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    name = f"billbot_scale_{uuid.uuid4().hex[:12]}"
    admin = create_engine(parse_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def replica_env(info: dict[str, Any], database_url: str, digest_at: str,
                full_read_hours: float, codat_per_minute: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "CODAT_", "BILLBOT_", "DATABASE_URL"))}
    env.update({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": info["slack"], "CODAT_API_KEY": API_KEY,
                "CODAT_BASE_URL": info["codat"], "BILLBOT_APPROVERS": ANN,
                "BILLBOT_DIGEST_DAYS": "mon-sun", "BILLBOT_DIGEST_AT": digest_at,
                "DATABASE_URL": database_url, "BILLBOT_LOG_LEVEL": "warning",
                "BILLBOT_BILLS_FULL_READ_HOURS": str(full_read_hours),
                "BILLBOT_CODAT_REQUESTS_PER_MINUTE": str(codat_per_minute)})
    return env


def start_replicas(count: int, env: dict[str, str], workdir: Path, *,
                   next_day: bool = False, role: str = "replica",
                   phase: str = "") -> list[tuple[Any, str]]:
    from billbot.sandbox.serving import free_port

    started = []
    for n in range(count):
        port = free_port()
        log = (workdir / f"{role}-{count}-{n}{phase}.log").open("wb")
        launch = ["-c", NEXT_DAY] if next_day else ["-m", "billbot.cli"]
        proc = subprocess.Popen([sys.executable, *launch, "run", "--host",
                                 "127.0.0.1", "--port", str(port)], cwd=workdir, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        started.append((proc, f"http://127.0.0.1:{port}"))
    for proc, url in started:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"a replica exited {proc.returncode}; see {workdir}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"a replica did not become healthy; see {workdir}")
            time.sleep(0.2)
    return started


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def timed_command(http: httpx.AsyncClient, url: str, body: bytes) -> float:
    """Seconds to the answer of one signed command, signed as Slack signs it."""
    ts = str(int(time.time()))
    started = time.perf_counter()
    await http.post(url + "/slack/events", content=body, headers={
        "Content-Type": FORM, "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(SECRET, ts, body)})
    return time.perf_counter() - started


async def acks(urls: list[str], bodies: list[bytes], *, concurrency: int = 4) -> list[float]:
    """Seconds to each answer, the commands spread over the replicas, a few at a time."""
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30) as http:
        async def one(i: int) -> float:
            async with gate:
                return await timed_command(http, urls[i % len(urls)], bodies[i])
        return list(await asyncio.gather(*(one(i) for i in range(len(bodies)))))


async def paced_acks(urls: list[str], bodies: list[bytes], *, rate: float) -> list[float]:
    """Seconds to each answer, the commands sent `rate` a second on a fixed timetable, however
    long the answers take (an open loop: a slow answer does not hold back the next click)."""
    async with httpx.AsyncClient(timeout=30) as http:
        start = time.perf_counter()

        async def one(i: int) -> float:
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            return await timed_command(http, urls[i % len(urls)], bodies[i])
        return list(await asyncio.gather(*(one(i) for i in range(len(bodies)))))


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] * 1000 if len(values) > 1 else float("nan")


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else float("nan")


def bind_all(database_url: str, pairs: list[Any]) -> None:
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        for channel, (company, connection) in pairs:
            bindings.bind(session, channel_id=channel, company_id=company,
                          connection_id=connection, actor=ANN, request_id=None, at=now)
    engine.dispose()


def digest_window(database_url: str, day: date | None = None) -> tuple[int, float]:
    """Digests posted (of one local day, or any), and seconds from the first claimed to the
    last posted."""
    engine = make_engine(database_url)
    posted_rows = col(DigestPost.state) == "posted"
    if day is not None:
        posted_rows = posted_rows & (col(DigestPost.local_date) == day)
    with engine.connect() as conn:
        posted, first, last = conn.execute(select(
            func.count(), func.min(DigestPost.claimed_at), func.max(DigestPost.posted_at)
        ).where(posted_rows)).one()
    engine.dispose()
    if not posted or first is None or last is None:
        return int(posted), float("nan")
    return int(posted), (last - first).total_seconds()


@dataclass
class AckSamples:
    """Acknowledgement times of the two probes (seconds)."""

    closed: list[float] = field(default_factory=list)
    paced: list[float] = field(default_factory=list)

    def sample(self, urls: list[str], bodies: list[bytes], rate: float) -> None:
        """One closed round, then one paced stretch."""
        self.closed += asyncio.run(acks(urls, bodies[:ROUND]))
        if rate > 0:
            self.paced += asyncio.run(paced_acks(urls, bodies[:PACED_STRETCH], rate=rate))


def wait_for_digests(database_url: str, total: int, urls: list[str], bodies: list[bytes],
                     *, within: float, day: date | None = None,
                     rate: float = PACED_RATE) -> tuple[int, AckSamples]:
    """Sample acknowledgements until every digest is posted (or `within` runs out)."""
    samples = AckSamples()
    deadline = time.monotonic() + within
    while True:
        posted, _ = digest_window(database_url, day)
        if posted >= total or time.monotonic() > deadline:
            return posted, samples
        if posted > 0:  # the day is being posted: the load the acks are measured under
            samples.sample(urls, bodies, rate)
        else:
            time.sleep(0.5)


def digest_spans(database_url: str, day: date | None = None) -> str:
    """Each digest's time from its claim to its last message, and how many were in flight on
    average: near the job concurrency, the day waits on each digest's own latency, not on
    the rate limits."""
    engine = make_engine(database_url)
    rows = col(DigestPost.state) == "posted"
    if day is not None:
        rows = rows & (col(DigestPost.local_date) == day)
    with engine.connect() as conn:
        spans = conn.execute(select(col(DigestPost.claimed_at), col(DigestPost.posted_at))
                             .where(rows)).all()
    engine.dispose()
    seconds = sorted((posted - claimed).total_seconds() for claimed, posted in spans if posted)
    if not seconds:
        return "no digest posted"
    window = (max(p for _, p in spans if p) - min(c for c, _ in spans)).total_seconds()
    return (f"each digest {statistics.median(seconds):.2f} s median, "
            f"{seconds[int(0.9 * (len(seconds) - 1))]:.2f} s p90 from claim to post, "
            f"{sum(seconds) / window if window else float('nan'):.1f} in flight on average")


def first_day(database_url: str) -> date:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        day = conn.execute(select(func.min(DigestPost.local_date))).scalar_one()
    engine.dispose()
    return date.fromisoformat(str(day))


def read_in_full_since(database_url: str, since: datetime) -> int:
    """Companies whose last full read is at or after `since` (the replicas' clock)."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).where(
            col(BillRefresh.full_read_at) >= since)).scalar_one()
    engine.dispose()
    return int(count)


def hh_mm(at: datetime) -> str:
    return at.strftime("%H:%M")


def per_company(counts: dict[str, Any]) -> str:
    per = sorted(counts["codat"].values())
    return (f"Codat requests per company median {statistics.median(per) if per else 0}, "
            f"max {max(per) if per else 0} ({sum(per)} in all, {len(per)} companies)")


def night_full_read(replicas: int, env: dict[str, str], workdir: Path, pipe: Any, url: str,
                    total: int, full_read_hours: float, codat_per_minute: int) -> None:
    """The next night: replicas a day ahead, the full-read time just passed, the digest
    hours away; the nightly job's Codat requests per company."""
    now = datetime.now(UTC)
    night = dict(env, BILLBOT_BILLS_FULL_READ_AT=hh_mm(now - timedelta(minutes=1)),
                 BILLBOT_DIGEST_AT=hh_mm(now + timedelta(hours=3)))
    pipe.send("reset")
    pipe.recv()
    started = start_replicas(replicas, night, workdir, next_day=True, phase="-night")
    try:
        since = now + timedelta(days=1)
        # Day 1's full reads are a day old: at 24 hours every company is due, at 168 none.
        due = full_read_hours < 24 or max(full_read_hours - 24, 2) <= 24
        deadline = time.monotonic() + (3600 if due else 90)
        began = time.monotonic()
        while time.monotonic() < deadline and (
                not due or read_in_full_since(url, since) < total):
            time.sleep(1)
        seconds = time.monotonic() - began
        pipe.send("counts")
        counts = pipe.recv()
        least, limits = floor(counts, total, codat_per_minute)
        print(f"  full read (the night, a day later): {read_in_full_since(url, since)}/{total}"
              f" companies read in full{f' within {seconds:.1f} s of the start' if due else ''}"
              f"; Codat floor {least:.1f} s ({limits}); {per_company(counts)}")
    finally:
        stop(started)


def stop(started: list[tuple[Any, str]]) -> None:
    for proc, _ in started:
        proc.terminate()
    for proc, _ in started:
        proc.wait(timeout=60)


def measure(replicas: int, info: dict[str, Any], pipe: Any, admin_url: str, workdir: Path,
            *, second_day: bool, full_read_hours: float, codat_per_minute: int,
            web: int = 0, job_concurrency: int | None = None,
            paced_rate: float = PACED_RATE) -> None:
    total = len(info["bindings"])
    with fresh_database(admin_url) as url:
        upgrade_database(url)
        # Due since a minute ago (inside the 2-hour catch-up window): the first sweep after
        # the binding finds the whole day due.
        due = datetime.now(UTC) - timedelta(minutes=1)
        env = replica_env(info, url, due.strftime("%H:%M"), full_read_hours, codat_per_minute)
        if job_concurrency:
            env["BILLBOT_JOB_CONCURRENCY"] = str(job_concurrency)
        started = start_replicas(replicas, env, workdir)
        # --web-replicas: replicas that run no jobs (BILLBOT_RUN_JOBS=false) take the acks.
        front = start_replicas(web, dict(env, BILLBOT_RUN_JOBS="false"), workdir, role="web")
        urls = [u for _, u in front or started]
        try:
            pipe.send("commands")
            bodies = pipe.recv()
            # A first round warms the replicas (first requests load code and fill caches),
            # then the idle p99 is taken as the loaded one is: rounds of the same commands.
            asyncio.run(acks(urls, bodies))
            idle = AckSamples()
            for n in range(IDLE_ROUNDS):
                idle.sample(urls, bodies, paced_rate if n % 2 == 0 else 0.0)
            pipe.send("reset")
            pipe.recv()
            bind_all(url, info["bindings"])
            posted, loaded = wait_for_digests(url, total, urls, bodies, within=3600,
                                              rate=paced_rate)
            _, seconds = digest_window(url)
            pipe.send("counts")
            counts = pipe.recv()
            report(replicas, total, posted, seconds, counts, started, idle, loaded, front,
                   codat_per_minute, paced_rate)
            stop(front)
            front = []
            if second_day:
                # The night, then the next morning: the same replicas restarted with the
                # clock a day ahead. Whatever day 1 left queued or running ends with them.
                day = first_day(url) + timedelta(days=1)
                stop(started)
                started = []
                night_full_read(replicas, env, workdir, pipe, url, total, full_read_hours,
                                codat_per_minute)
                pipe.send("reset")
                pipe.recv()
                # The morning: the digest due, the full-read time hours away.
                morning = dict(env, BILLBOT_BILLS_FULL_READ_AT=hh_mm(
                    datetime.now(UTC) + timedelta(hours=3)))
                started = start_replicas(replicas, morning, workdir, next_day=True,
                                         phase="-day2")
                urls = [u for _, u in started]
                posted, _ = wait_for_digests(url, total, urls, bodies, within=3600, day=day,
                                             rate=0.0)
                _, seconds = digest_window(url, day)
                pipe.send("counts")
                day2 = pipe.recv()
                least, limits = floor(day2, total, codat_per_minute)
                print(f"  day 2 (a day later, books unchanged): {posted}/{total} digests of "
                      f"{day} in {seconds:.1f} s; rate-limit floor {least:.1f} s, "
                      f"{against(seconds, least)} ({limits}); {per_company(day2)}; "
                      f"{digest_spans(url, day)}")
        finally:
            stop(started + front)


def floor(counts: dict[str, Any], total: int, codat_per_minute: int) -> tuple[float, str]:
    """The time Slack's and Codat's limits alone would take for this work, and the sum."""
    # Slack's limit is per channel (about 1 a second after a burst of POST_BURST): a digest
    # of at most 3 messages per channel is inside the burst, so its floor is one post's turn.
    most = max(1, counts["posts"] // max(1, total))
    slack = max(0.0, (most - POST_BURST) / POST_PER_SECOND)
    # Codat's per-minute limit: the requests it answered (not its 429s) at that rate.
    codat = counts["codat_answered"] * 60 / codat_per_minute if codat_per_minute else 0.0
    limit = f"{codat_per_minute}/min" if codat_per_minute else "no per-minute limit"
    return max(slack, codat), (f"Slack {slack:.1f} s, Codat {codat:.1f} s "
                               f"({counts['codat_answered']} requests, {limit}; "
                               f"{counts['codat_429']} answered 429)")


def ack_figures(idle: list[float], loaded: list[float]) -> str:
    if len(idle) < 2 or len(loaded) < 2:  # a day too short to sample under load
        return f"idle {p99(idle):.1f} ms, not sampled under load ({len(loaded)} samples)"
    return (f"idle {p99(idle):.1f} ms, under load {p99(loaded):.1f} ms "
            f"({p99(loaded) / p99(idle):.2f}x; p50 {p50(idle):.1f} and {p50(loaded):.1f} ms; "
            f"{len(idle)} and {len(loaded)} samples)")


def against(seconds: float, floor_seconds: float) -> str:
    return f"{seconds / floor_seconds:.2f}x the floor" if floor_seconds else "no floor"


def queue_figures(started: list[tuple[Any, str]]) -> str:
    """What each job-running replica's /metrics says of its worker: restarts, settled races."""
    from prometheus_client.parser import text_string_to_metric_families

    seen: Counter[str] = Counter()
    for _, url in started:
        text = httpx.get(url + "/metrics", timeout=30).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "billbot_job_worker_restarts_total":
                    seen["restarts"] += int(sample.value)
                elif sample.name == "billbot_job_queue_races_total":
                    seen[f"{sample.labels['kind']} races"] += int(sample.value)
    return ", ".join(f"{n} {what}" for what, n in sorted(seen.items())) or "nothing scraped"


def report(replicas: int, total: int, posted: int, seconds: float, counts: dict[str, Any],
           started: list[tuple[Any, str]], idle: AckSamples, loaded: AckSamples,
           front: list[tuple[Any, str]], codat_per_minute: int, paced_rate: float) -> None:
    least, limits = floor(counts, total, codat_per_minute)
    rss = ", ".join(f"{peak_rss_mib(proc.pid):.0f}" for proc, _ in started)
    if front:
        rss += "; web replica(s) " + ", ".join(f"{peak_rss_mib(p.pid):.0f}" for p, _ in front)
    acked = f" (acks to {len(front)} web replica(s))" if front else ""
    print(f"{replicas} replica(s){acked}: {posted}/{total} digests in {seconds:.1f} s "
          f"({posted / seconds if seconds else float('nan'):.1f} digests/s); rate-limit floor "
          f"{least:.1f} s, {against(seconds, least)} ({limits}; {counts['posts']} "
          f"chat.postMessage, {counts['limited']} answered 429); {per_company(counts)}; "
          f"peak RSS per replica {rss} MiB; ack p99 {ack_figures(idle.closed, loaded.closed)}; "
          f"paced at {paced_rate:g}/s: p99 {ack_figures(idle.paced, loaded.paced)}; job workers: "
          f"{queue_figures(started)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--bills", type=int, default=200)
    parser.add_argument("--big-bills", type=int, default=5000)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--latency-ms", type=int, default=100)
    # The night and day 2 come 24 hours after day 1: with the product's default (24) the
    # nightly job reads every company in full; 168 shows a night without it.
    parser.add_argument("--full-read-hours", type=float, default=24.0)
    parser.add_argument("--database-url", default=os.environ.get("BILLBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--web-replicas", type=int, default=0,
                        help="more replicas with BILLBOT_RUN_JOBS=false, which take the acks")
    parser.add_argument("--codat-per-minute", type=int, default=1000,
                        help="Codat's per-minute limit, in the stand-in and the replicas' "
                             "pace (0: off, as before this limit was modelled)")
    parser.add_argument("--standins-nice", type=int, default=0,
                        help="niceness of the Slack and Codat stand-ins' process (0-19)")
    parser.add_argument("--job-concurrency", type=int, default=None,
                        help="BILLBOT_JOB_CONCURRENCY of every replica (default: billbot's)")
    parser.add_argument("--paced-rate", type=float, default=PACED_RATE,
                        help="commands a second of the paced (open-loop) probe; 0: off")
    parser.add_argument("--logs", type=Path, default=None,
                        help="keep the replicas' logs in this folder (default: a temporary one)")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or BILLBOT_TEST_POSTGRES_URL): a PostgreSQL admin URL")
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=standins, args=(theirs, args.channels, args.bills,
                                                   args.big_bills, args.latency_ms,
                                                   args.standins_nice, args.codat_per_minute))
    child.start()
    info = ours.recv()
    print(f"scale: {args.channels} channels of {args.bills} bills and one of "
          f"{args.big_bills}; Codat latency {args.latency_ms} ms; replicas {args.replicas}; "
          f"full read every {args.full_read_hours:g} h; stand-ins at nice {args.standins_nice}; "
          f"Codat {args.codat_per_minute or 'unlimited'} requests/min")
    with tempfile.TemporaryDirectory(prefix="billbot-scale-") as tmp:
        logs = args.logs or Path(tmp)
        logs.mkdir(parents=True, exist_ok=True)
        for n, replicas in enumerate(args.replicas):
            measure(replicas, info, ours, args.database_url, logs,
                    second_day=n == len(args.replicas) - 1,
                    full_read_hours=args.full_read_hours,
                    codat_per_minute=args.codat_per_minute, web=args.web_replicas,
                    job_concurrency=args.job_concurrency, paced_rate=args.paced_rate)
    ours.send("stop")
    child.join(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
