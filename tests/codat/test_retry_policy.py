"""RetryPolicy arithmetic and Retry-After parsing, without any HTTP."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

import billbot.codat
from billbot.codat.retry import RetryPolicy, parse_http_date, parse_retry_after

from .conftest import NoJitter


class TestBackoff:
    def test_defaults_follow_codat_sdk_and_stay_interactive(self) -> None:
        policy = RetryPolicy(rng=NoJitter())
        assert [policy.backoff(n) for n in range(8)] == [
            0.5, 0.75, 1.125, 1.6875, 2.53125, 3.796875, 5.6953125, 8.0]
        assert policy.backoff(30) == 8.0
        assert policy.max_elapsed == 30.0

    def test_jitter_stays_between_half_and_full_interval(self) -> None:
        policy = RetryPolicy(rng=random.Random(1234))
        for n in range(20):
            full = RetryPolicy(rng=NoJitter()).backoff(n)
            assert full / 2 <= policy.backoff(n) <= full

    def test_same_seed_same_delays(self) -> None:
        first = RetryPolicy(rng=random.Random(7))
        second = RetryPolicy(rng=random.Random(7))
        assert [first.backoff(n) for n in range(6)] == [second.backoff(n) for n in range(6)]

    def test_none_allows_one_attempt(self) -> None:
        policy = RetryPolicy.none()
        assert policy.allows_attempt(0) and not policy.allows_attempt(1)

    def test_background_has_a_longer_budget(self) -> None:
        assert RetryPolicy.background().max_elapsed > RetryPolicy().max_elapsed

    @pytest.mark.parametrize("bad", [
        {"initial_interval": -1}, {"exponent": 0.5}, {"jitter": 1.5}, {"max_attempts": 0},
    ])
    def test_nonsense_is_refused(self, bad: dict[str, float]) -> None:
        with pytest.raises(ValueError):
            RetryPolicy(**bad)  # type: ignore[arg-type]


class TestRetryAfter:
    NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    @pytest.mark.parametrize(("header", "seconds"), [
        ("5", 5.0), (" 0 ", 0.0), ("1.5", 1.5), ("-3", 0.0),
        ("Sun, 22 Nov 2026 09:00:30 GMT", 30.0),
        ("Sun, 22 Nov 2026 08:59:00 GMT", 0.0),
    ])
    def test_seconds_and_dates(self, header: str, seconds: float) -> None:
        assert parse_retry_after(header, now=self.NOW) == seconds

    @pytest.mark.parametrize("header", [None, "", "soon", "nan"])
    def test_unparseable_is_none(self, header: str | None) -> None:
        assert parse_retry_after(header, now=self.NOW) is None

    def test_http_date(self) -> None:
        assert parse_http_date("Sun, 22 Nov 2026 09:00:00 GMT") == self.NOW
        assert parse_http_date("yesterday") is None
        assert parse_http_date(None) is None


def test_public_surface_is_pinned() -> None:
    assert sorted(billbot.codat.__all__) == [
        "CodatApiError", "CodatClient", "CodatConflict", "CodatError", "CodatNotFound",
        "CodatNotSent", "CodatOutcomeUnknown", "DEFAULT_BASE_URL", "RetryPolicy"]
