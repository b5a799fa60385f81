"""billbot.metrics: the names dashboards and alerts rely on stay put, the exposition is
Prometheus' text format, and with PROMETHEUS_MULTIPROC_DIR set the figures of several
processes are summed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from billbot import metrics
from tests.support.metrics_scrape import parse, total, value

# Renaming one of these breaks someone's dashboard: change it here only on purpose, and in
# the README's Metrics table.
STABLE = {
    "billbot_http_request_duration_seconds": "histogram",
    "billbot_slack_ack_duration_seconds": "histogram",
    "billbot_codat_calls": "counter",
    "billbot_codat_rate_limit_remaining": "gauge",
    "billbot_codat_rate_limit_limit": "gauge",
    "billbot_slack_calls": "counter",
    "billbot_slack_ratelimited": "counter",
    "billbot_codat_paced_seconds": "counter",
    "billbot_slack_paced_seconds": "counter",
    "billbot_payments": "counter",
    "billbot_digests_posted": "counter",
    "billbot_open_payment_intents": "gauge",
    "billbot_job_workers_running": "gauge",
    "billbot_job_worker_restarts": "counter",
    "billbot_job_queue_races": "counter",
}


def test_metric_names_and_types_are_stable() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    metrics.slack_call("chat.update", "ok")  # a labelled family shows once it has a child
    text = metrics.render(metrics.ScrapeFigures(open_payment_intents=3)).decode()
    families = {f.name: f.type for f in text_string_to_metric_families(text)
                if f.name.startswith("billbot_")}
    assert families == STABLE


def test_readme_documents_every_metric() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name, kind in STABLE.items():
        shown = f"{name}_total" if kind == "counter" else name
        assert f"`{shown}`" in readme, shown


def test_the_helpers_move_their_metrics() -> None:
    before = parse(metrics.render().decode())
    metrics.slack_call("chat.update", "ratelimited")
    metrics.payment("failed")
    metrics.codat_allowance(417, 5000)
    metrics.digest_posted()
    metrics.job_worker_running(+1)
    metrics.job_worker_restarted()
    metrics.job_queue_race("retry")
    after = parse(metrics.render(metrics.ScrapeFigures(open_payment_intents=2)).decode())

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("billbot_slack_calls_total", method="chat.update", outcome="ratelimited") == 1
    assert moved("billbot_slack_ratelimited_total", method="chat.update") == 1
    assert moved("billbot_payments_total", outcome="failed") == 1
    assert moved("billbot_digests_posted_total") == 1
    assert moved("billbot_job_workers_running") == 1
    assert moved("billbot_job_worker_restarts_total") == 1
    assert moved("billbot_job_queue_races_total", kind="retry") == 1
    assert moved("billbot_job_queue_races_total", kind="fetch") == 0
    assert value(after, "billbot_codat_rate_limit_remaining") == 417
    assert value(after, "billbot_codat_rate_limit_limit") == 5000
    assert value(after, "billbot_open_payment_intents") == 2


def test_an_unknown_payment_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown payment outcome"):
        metrics.payment("paid twice")


_WORKER = textwrap.dedent("""
    import sys
    from billbot import metrics
    for _ in range(int(sys.argv[1])):
        metrics.payment("succeeded")
    metrics.codat_allowance(float(sys.argv[2]))
""")
_SCRAPER = "from billbot import metrics; print(metrics.render().decode())"


def test_multiprocess_mode_sums_every_process(tmp_path: Path) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": ""}
    for count, remaining in ((2, 900), (3, 850)):
        subprocess.run([sys.executable, "-c", _WORKER, str(count), str(remaining)], env=env,
                       check=True, timeout=60)
    text = subprocess.run([sys.executable, "-c", _SCRAPER], env=env, check=True, timeout=60,
                          capture_output=True, text=True).stdout
    samples = parse(text)
    assert value(samples, "billbot_payments_total", outcome="succeeded") == 5
    # mostrecent: the value the last process set, not a sum.
    assert value(samples, "billbot_codat_rate_limit_remaining") == 850
