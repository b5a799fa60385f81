"""Reading billbot's /metrics the way Prometheus does: the text format, parsed by
prometheus_client's own parser, as {(sample name, sorted labels): value}."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(base_url: str) -> Samples:
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(base_url + "/metrics")
    answer.raise_for_status()
    assert answer.headers["content-type"].startswith("text/plain")
    return parse(answer.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when it was never set (a label set not seen yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include `labels`."""
    return sum(v for (n, have), v in samples.items()
               if n == name and set(labels.items()) <= set(have))
