"""Test hooks, kept apart from the money services: the named points in the payment path where a
crash is injected by tests (never in production).

Each point sits between two durable effects, where dying loses the most:

    intent_committed    the intent and its key are committed; nothing was sent yet
    before_codat_call   the intent is marked `calling` (committed); the POST is not sent
    after_codat_answer  Codat answered 201 (it has the payment); nothing committed locally
    after_local_commit  the payment is recorded locally; Slack was not told yet

The payment runner calls its hook at each point. The default hook does nothing.
`BILLBOT_CRASH_AT=<point>` makes `billbot run` SIGKILL itself there (the real-process
crash test); in-process tests pass a hook that raises `SimulatedCrash`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from enum import StrEnum


class CrashPoint(StrEnum):
    INTENT_COMMITTED = "intent_committed"
    BEFORE_CODAT_CALL = "before_codat_call"
    AFTER_CODAT_ANSWER = "after_codat_answer"
    AFTER_LOCAL_COMMIT = "after_local_commit"
    # Not in the payment path: a replica dies as its job worker starts a digest job.
    DIGEST_JOB = "digest_job"


# The points on a payment's path, in order (DIGEST_JOB is a replica's, tested on its own).
PAYMENT_CRASH_POINTS = (CrashPoint.INTENT_COMMITTED, CrashPoint.BEFORE_CODAT_CALL,
                        CrashPoint.AFTER_CODAT_ANSWER, CrashPoint.AFTER_LOCAL_COMMIT)

CrashHook = Callable[[CrashPoint], None]


class SimulatedCrash(BaseException):
    """Raised by a test's hook: a BaseException, so no `except Exception` swallows it, just
    as nothing in the process survives a SIGKILL."""

    def __init__(self, point: CrashPoint) -> None:
        super().__init__(f"simulated crash at {point.value}")
        self.point = point


def no_crash(point: CrashPoint) -> None:
    return None


def sigkill_at(target: CrashPoint) -> CrashHook:
    """A hook that kills this process, without any cleanup, when `target` is reached."""

    def hook(point: CrashPoint) -> None:
        if point is target:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def raise_at(targets: frozenset[CrashPoint], *, once: bool = True) -> CrashHook:
    """A hook that raises SimulatedCrash at any of `targets` (the first time only if `once`)."""
    fired: list[CrashPoint] = []

    def hook(point: CrashPoint) -> None:
        if point in targets and not (once and fired):
            fired.append(point)
            raise SimulatedCrash(point)

    return hook


__all__ = ["PAYMENT_CRASH_POINTS", "CrashHook", "CrashPoint", "SimulatedCrash", "no_crash",
           "raise_at", "sigkill_at"]
