"""billbot's Prometheus metrics: the metric objects, the functions the rest of billbot calls to
count things, and the exposition `/metrics` serves. One module, so names stay in one place
(README "Metrics" lists them; tests/test_metrics.py pins them).

Several processes (`billbot run --workers N`): prometheus_client's multiprocess mode.
`billbot run --workers N` sets `PROMETHEUS_MULTIPROC_DIR` (a new temporary directory, or the
one given, emptied) before its processes start and import this module (prometheus_client
picks its value store at import); every process then writes its figures to files there and
`render` sums them, whichever process answers the scrape. A process that ends should be passed to
`process_exited` so its live gauges stop counting. Gauges say how they combine (`mostrecent`:
the newest value any process set).
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

# No `*_created` series: multiprocess mode has none, and one process should answer like many.
disable_created_metrics()  # type: ignore[no-untyped-call]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Slack gives an acknowledgement 3 s; the buckets resolve the part that matters.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)

HTTP_REQUEST_SECONDS = Histogram(
    "billbot_http_request_duration_seconds",
    "Time from an HTTP request's arrival to billbot's answer, by route and status.",
    ["route", "status"], buckets=_LATENCY_BUCKETS)
ACK_SECONDS = Histogram(
    "billbot_slack_ack_duration_seconds",
    "Time from a signed Slack request's arrival to its acknowledgement, by kind of request.",
    ["kind"], buckets=_LATENCY_BUCKETS)
CODAT_CALLS = Counter(
    "billbot_codat_calls",
    "Codat HTTP attempts by operation (method and path template) and outcome.",
    ["operation", "outcome"])
CODAT_REMAINING = Gauge(
    "billbot_codat_rate_limit_remaining",
    "Codat requests left in the current allowance, from its X-Rate-Limit-Remaining header.",
    multiprocess_mode="mostrecent")
CODAT_LIMIT = Gauge(
    "billbot_codat_rate_limit_limit",
    "Codat's request allowance for the window, from its X-Rate-Limit-Limit header.",
    multiprocess_mode="mostrecent")
SLACK_CALLS = Counter(
    "billbot_slack_calls",
    "Slack Web API attempts by method and outcome (ok, error, ratelimited, transport_error).",
    ["method", "outcome"])
SLACK_RATELIMITED = Counter(
    "billbot_slack_ratelimited",
    "Slack Web API answers HTTP 429 (rate limited), by method.",
    ["method"])
SLACK_PACED_SECONDS = Counter(
    "billbot_slack_paced_seconds",
    "Seconds Slack calls waited for their turn under billbot's pacing (and Retry-After), by method.",
    ["method"])
CODAT_PACED_SECONDS = Counter(
    "billbot_codat_paced_seconds",
    "Seconds background Codat calls waited for their turn under billbot's per-minute pacing.")
PAYMENTS = Counter(
    "billbot_payments",
    "Payment intents that reached an outcome: succeeded, failed, or unknown (Codat's answer "
    "lost; recovery settles it).",
    ["outcome"])
DIGESTS_POSTED = Counter(
    "billbot_digests_posted",
    "Digests posted to a channel.")
JOB_WORKERS_RUNNING = Gauge(
    "billbot_job_workers_running",
    "PostgreSQL job-queue workers running (one per replica; 0 while one restarts).",
    multiprocess_mode="livesum")
JOB_WORKER_RESTARTS = Counter(
    "billbot_job_worker_restarts",
    "Job-queue workers that ended on an error (the database lost, a failed heartbeat) and "
    "were started again.")
JOB_QUEUE_RACES = Counter(
    "billbot_job_queue_races",
    "Races between workers on the job queue that billbot settled: `fetch` (two took jobs of "
    "one lock at once; fetched again), `retry` (a failed job had a queued copy; closed).",
    ["kind"])
JOB_QUEUE_RACE_KINDS = ("fetch", "retry")
for _kind in JOB_QUEUE_RACE_KINDS:  # shown at 0 before the first one
    JOB_QUEUE_RACES.labels(kind=_kind)

OPEN_PAYMENT_INTENTS = "billbot_open_payment_intents"

SLACK_OUTCOMES = ("ok", "error", "ratelimited", "transport_error")
PAYMENT_OUTCOMES = ("succeeded", "failed", "unknown")


def codat_call(operation: str, outcome: str) -> None:
    """One Codat attempt. `outcome`: ok, client_error, rate_limited, server_error, transport_error."""
    CODAT_CALLS.labels(operation=operation, outcome=outcome).inc()


def codat_allowance(remaining: float, limit: float | None = None) -> None:
    """What Codat's rate-limit headers said on its latest answer."""
    CODAT_REMAINING.set(remaining)
    if limit is not None:
        CODAT_LIMIT.set(limit)


def slack_call(method: str, outcome: str) -> None:
    """One Slack Web API attempt; a 429 also counts in billbot_slack_ratelimited_total."""
    SLACK_CALLS.labels(method=method, outcome=outcome).inc()
    if outcome == "ratelimited":
        SLACK_RATELIMITED.labels(method=method).inc()


def slack_paced(method: str, seconds: float) -> None:
    if seconds > 0:
        SLACK_PACED_SECONDS.labels(method=method).inc(seconds)


def codat_paced(seconds: float) -> None:
    if seconds > 0:
        CODAT_PACED_SECONDS.inc(seconds)


def payment(outcome: str) -> None:
    if outcome not in PAYMENT_OUTCOMES:
        raise ValueError(f"unknown payment outcome {outcome!r}")
    PAYMENTS.labels(outcome=outcome).inc()


def digest_posted() -> None:
    DIGESTS_POSTED.inc()


def job_worker_running(change: int) -> None:
    """+1 as a job worker starts, -1 as it ends (several can run in one process)."""
    JOB_WORKERS_RUNNING.inc(change)


def job_worker_restarted() -> None:
    JOB_WORKER_RESTARTS.inc()


def job_queue_race(kind: str) -> None:
    if kind not in JOB_QUEUE_RACE_KINDS:
        raise ValueError(f"unknown job queue race {kind!r}")
    JOB_QUEUE_RACES.labels(kind=kind).inc()


def request_seconds(route: str, status: int, seconds: float) -> None:
    HTTP_REQUEST_SECONDS.labels(route=route, status=str(status)).observe(seconds)


def ack_seconds(kind: str, seconds: float) -> None:
    ACK_SECONDS.labels(kind=kind).observe(seconds)


@dataclass(frozen=True)
class ScrapeFigures:
    """Figures computed when /metrics is scraped (from the database, so every replica agrees)."""

    open_payment_intents: int | None = None


class _ScrapeCollector:
    def __init__(self, figures: ScrapeFigures) -> None:
        self._figures = figures

    def collect(self) -> Iterator[Metric]:
        if self._figures.open_payment_intents is not None:
            yield GaugeMetricFamily(
                OPEN_PAYMENT_INTENTS,
                "Payment intents not yet finished (created, calling or outcome unknown).",
                value=self._figures.open_payment_intents)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiprocess_dir() -> tuple[str, bool]:
    """Before `--workers N` starts its processes (they inherit the environment): the
    directory they share, emptied of an earlier run's files, or a new temporary one when
    none is set. Returns it and whether it was made here (to remove at the end)."""
    given = multiprocess_dir()
    if given is None:
        made = tempfile.mkdtemp(prefix="billbot-metrics-")
        os.environ[MULTIPROC_ENV] = made
        return made, True
    os.makedirs(given, exist_ok=True)
    for stale in glob.glob(os.path.join(given, "*.db")):  # an earlier run's counters
        os.remove(stale)
    return given, False


def render(figures: ScrapeFigures | None = None) -> bytes:
    """The text exposition: this process's metrics (or, in multiprocess mode, every
    process's), then the figures computed at scrape."""
    if multiprocess_dir():
        source = CollectorRegistry()
        multiprocess.MultiProcessCollector(source)  # type: ignore[no-untyped-call]
    else:
        source = REGISTRY
    scraped = CollectorRegistry(auto_describe=True)
    scraped.register(_ScrapeCollector(figures or ScrapeFigures()))
    return generate_latest(source) + generate_latest(scraped)


def process_exited(pid: int) -> None:
    """Multiprocess mode: forget a process's live gauges once it has ended."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
