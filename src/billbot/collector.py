"""Python's cyclic garbage collector in a serving replica: its full collections made rare.

A full collection holds the interpreter lock until it is done, so every thread of the
process waits: acknowledgements in flight included. Two settings, once start-up is over:

- Everything loaded by then (libraries, settings, the migrated schema) lives as long as the
  process, so it is frozen out of the collector's reach (`gc.freeze`): a full collection no
  longer walks it. That removed ~100 ms pauses.
- Freezing also shrinks what the collector counts as long-lived. It runs a full collection
  once the third threshold's number of middle collections (10 by default) have passed and
  the survivors since the last one exceed a quarter of that count. Under a day's jobs that meant a
  6-9 ms pause every ~3 s, and those pauses were where most acknowledgements slower than the
  99th percentile fell (bench/scale.py). A full collection every `FULL_COLLECTION_EVERY`
  middle ones makes them ten times rarer. What they reclaim is reference cycles that
  survived two younger collections, a few hundred objects each time in that run: waiting
  longer for them costs no memory that shows.
"""

from __future__ import annotations

import gc

# Middle-generation collections between full ones (Python's default: 10).
FULL_COLLECTION_EVERY = 100


def settle_after_startup() -> None:
    """Collect once, freeze what is left, and space out the full collections."""
    gc.collect()
    gc.freeze()
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, max(full, FULL_COLLECTION_EVERY))


__all__ = ["FULL_COLLECTION_EVERY", "settle_after_startup"]
