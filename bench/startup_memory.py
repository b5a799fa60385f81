"""Where a `billbot run` replica's memory goes: at start, and after one 5,000-bill digest.

    python bench/startup_memory.py [--bills 5000] [--codat-latency-ms 0] [--database-url URL]

First, in a fresh interpreter, the top-level dependencies are imported one after another in
the order below and the resident set (VmRSS) is read after each: what each one adds on top of
those before it (a library another already pulled in adds nothing). Then the stand-ins
(`bench/standins.py`, seeded with --bills open bills, all due) and `billbot run` (a fresh
SQLite file, or --database-url, migrated beforehand) are started; printed: RSS once /healthz
answers, then RSS and peak RSS (VmHWM) after `/bills digest` has been posted and billbot is
idle again.
Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# The shared helpers (bench/ack_latency.py); run from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ack_latency import billbot_env, fire, prepare, start, wait_healthy, wait_idle
from billbot.sandbox.serving import free_port
from billbot.storage.db import upgrade_database

BENCH_DIR = Path(__file__).resolve().parent
# In the order a replica meets them; `billbot.server` is the rest of billbot itself. Alembic,
# last, is loaded by a replica only when it has a migration to run. (In a dev install httpx
# also loads rich and pygments for its CLI, about 2.5 MB: a plain install has neither.)
MODULES = (
    "pydantic", "pydantic_settings", "yaml", "httpx", "cryptography.fernet", "sqlalchemy",
    "sqlmodel", "psycopg", "procrastinate", "apscheduler",
    "prometheus_client", "starlette", "uvicorn", "slack_sdk", "slack_bolt",
    "slack_bolt.async_app", "billbot.codat", "billbot.storage.tables", "billbot.slackapp.app",
    "billbot.server", "alembic.command",
)
# Run in the fresh interpreter: one "module kib" line per import, then the heavy packages
# that `billbot.server` left loaded.
PROBE = """
import importlib, sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
print("python", rss())
for name in sys.argv[1:]:
    importlib.import_module(name)
    print(name, rss())
tops = sorted({m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names))
print("#", len(sys.modules), " ".join(t for t in tops if not t.startswith("_")))
"""


def status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def import_breakdown() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE, *MODULES], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    print("RSS after importing each module (MiB, and what it added):")
    before = 0.0
    for line in out:
        if line.startswith("#"):
            count, _, tops = line[2:].partition(" ")
            print(f"  {count} modules loaded; packages beside the standard library: {tops}")
            continue
        name, kib = line.rsplit(" ", 1)
        mib = int(kib) / 1024
        print(f"  {name:<24} {mib:7.1f}  +{mib - before:5.1f}")
        before = mib


def replica(bills: int, latency_ms: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        standins = start([sys.executable, str(BENCH_DIR / "standins.py"), "--bills", str(bills),
                          "--approvers", "1", "--codat-latency-ms", str(latency_ms)],
                         dict(os.environ), workdir / "standins.log")
        procs = [standins]
        try:
            assert standins.stdout is not None
            info = json.loads(standins.stdout.readline())
            control, secret = info["control_url"], info["signing_secret"]
            port = free_port()
            url = database_url or f"sqlite:///{workdir / 'billbot.db'}"
            # Migrated beforehand, as for a replica joining a running deployment (the first
            # replica after a release migrates, and holds Alembic's ~10 MB besides).
            upgrade_database(url)
            bot = start([sys.executable, "-m", "billbot.cli", "run", "--host", "127.0.0.1",
                         "--port", str(port)], billbot_env(info, url), workdir / "billbot.log")
            procs.append(bot)
            wait_healthy(f"http://127.0.0.1:{port}/healthz", bot, within=120)
            wait_idle(control, quiet=2.0)
            started = status_mib(bot.pid, "VmRSS")
            print(f"`billbot run` started: RSS {started:.1f} MiB "
                  f"(peak so far {status_mib(bot.pid, 'VmHWM'):.1f} MiB)")
            requests = prepare(control, digest=True, round=0)
            asyncio.run(fire(f"http://127.0.0.1:{port}/slack/events", requests, secret))
            seen = wait_idle(control, quiet=3.0, within=600)
            print(f"after one digest of {bills} bills: RSS {status_mib(bot.pid, 'VmRSS'):.1f} "
                  f"MiB, peak {status_mib(bot.pid, 'VmHWM'):.1f} MiB "
                  f"({seen['slack_calls']} Slack calls, {seen['codat_requests']} Codat requests)")
        finally:
            for proc in procs:
                if proc.stdin:
                    proc.stdin.close()
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=5000)
    parser.add_argument("--codat-latency-ms", type=int, default=0)
    parser.add_argument("--database-url", default=None,
                        help="default: a fresh SQLite file in a temporary directory")
    args = parser.parse_args(argv)
    import_breakdown()
    replica(args.bills, args.codat_latency_ms, args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
