"""The payment recovery settings and the crash test hook: off by default, checked at start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from billbot.cli import main
from billbot.config import ConfigError, load_settings
from billbot.services.payment_runner import payment_call_limits
from billbot.testhooks import CrashPoint

REQUIRED = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret", "CODAT_API_KEY": "k"}


@pytest.fixture
def required(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults_are_safe_and_the_hook_is_off(required: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.billbot_crash_at is None
    assert settings.billbot_payment_lease_seconds == 120
    assert settings.billbot_recovery_interval_seconds == 20
    # The default lease leaves a payment call its usual 15 s timeout and 30 s retry budget.
    timeout, retry = payment_call_limits(timedelta(seconds=120))
    assert (timeout, retry.max_elapsed) == (15.0, 30.0)


def test_every_call_fits_in_half_the_lease() -> None:
    for seconds in (2, 5, 60, 120, 3600):
        timeout, retry = payment_call_limits(timedelta(seconds=seconds))
        assert retry.max_elapsed + 2 * timeout <= seconds / 2


def test_known_crash_points_and_short_leases_are_accepted(required: pytest.MonkeyPatch) -> None:
    required.setenv("BILLBOT_CRASH_AT", "after_codat_answer")
    required.setenv("BILLBOT_PAYMENT_LEASE_SECONDS", "2")
    required.setenv("BILLBOT_RECOVERY_INTERVAL_SECONDS", "0.5")
    settings = load_settings()
    assert settings.billbot_crash_at is CrashPoint.AFTER_CODAT_ANSWER
    assert settings.billbot_payment_lease_seconds == 2.0


def test_unknown_crash_points_and_bad_seconds_are_named(required: pytest.MonkeyPatch) -> None:
    required.setenv("BILLBOT_CRASH_AT", "after_lunch")
    required.setenv("BILLBOT_PAYMENT_LEASE_SECONDS", "1")
    required.setenv("BILLBOT_RECOVERY_INTERVAL_SECONDS", "soon")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    problems = caught.value.problems
    assert "after_lunch" in problems["BILLBOT_CRASH_AT"]
    assert "before_codat_call" in problems["BILLBOT_CRASH_AT"]  # the known points are listed
    assert "between 2 and 3600" in problems["BILLBOT_PAYMENT_LEASE_SECONDS"]
    assert "seconds" in problems["BILLBOT_RECOVERY_INTERVAL_SECONDS"]


def test_billbot_run_refuses_to_start_with_an_unknown_crash_point(
    required: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    required.setenv("BILLBOT_CRASH_AT", "sometimes")
    assert main(["run", "--port", "0"]) == 2
    assert "BILLBOT_CRASH_AT" in capsys.readouterr().err
