"""A serving replica's garbage collector (billbot/collector.py), in fresh interpreters: full
collections (every thread paused) become rare while long-lived data grows, and reference
cycles are still reclaimed."""

from __future__ import annotations

import subprocess
import sys

# Start-up done, then a replica's day in miniature: data that stays a while (pages read, cached
# bills) replaced by newer data, and short-lived reference cycles that come and go. Counts full
# collections and the cycles freed.
PROBE = r"""
import collections, gc, sys
from billbot.collector import settle_after_startup
if sys.argv[1] == "settled":
    settle_after_startup()
else:
    gc.collect()
    gc.freeze()
full = [0]
def count(phase, info):
    if phase == "stop" and info["generation"] == 2:
        full[0] += 1
gc.callbacks.append(count)
freed = [0]
class Node:
    def __del__(self):
        freed[0] += 1
kept = collections.deque(maxlen=100_000)
for i in range(1_000_000):
    kept.append([i, []])
    cycle = Node()
    cycle.me = cycle
del cycle
print(full[0], freed[0], gc.get_threshold()[2], gc.get_freeze_count() > 0)
"""


def run(mode: str) -> tuple[int, int, int, bool]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    return int(out[0]), int(out[1]), int(out[2]), out[3] == "True"


def test_full_collections_are_ten_times_rarer_once_settled() -> None:
    frozen_only, _, _, _ = run("frozen")
    settled, _, threshold, frozen = run("settled")
    assert frozen and threshold == 100
    assert frozen_only >= 10  # the growth did trigger full collections before
    assert settled * 5 <= frozen_only


def test_cycles_are_still_reclaimed_by_the_young_collections() -> None:
    _, freed, _, _ = run("settled")
    assert freed >= 999_000  # all but those born since the last young collection
