"""Configuration: the contract's variables, defaults, and errors that name every bad variable."""

from __future__ import annotations

import base64
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from billbot.config import ConfigError, load_settings

REQUIRED = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret", "CODAT_API_KEY": "k"}



def test_defaults_follow_the_contract(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for k, v in REQUIRED.items():
        monkeypatch.setenv(k, v)
    s = load_settings()
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.codat_base_url == "https://api.codat.io"
    assert s.billbot_digest_at == time(9, 0)
    assert str(s.billbot_timezone) == "UTC"
    assert s.billbot_digest_days == frozenset({0, 1, 2, 3, 4})
    assert s.billbot_due_within_days == 7
    assert s.database_url == "sqlite:///billbot.db"
    assert s.billbot_approvers == frozenset()
    assert s.billbot_payers == frozenset()
    assert s.billbot_payer_cannot_approve is True
    assert s.billbot_dual_approval_over is None
    assert s.billbot_thread_history is True


def test_lists_and_payers_are_nobody_unless_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for k, v in REQUIRED.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("BILLBOT_APPROVERS", "U111, U222 ,")
    monkeypatch.setenv("BILLBOT_DUAL_APPROVAL_OVER", "5000.50")
    monkeypatch.setenv("BILLBOT_DIGEST_DAYS", "FRI-mon")
    s = load_settings()
    assert s.billbot_approvers == {"U111", "U222"}
    assert s.billbot_payers == frozenset()  # approvers do not pay unless named
    assert s.billbot_dual_approval_over == Decimal("5000.50")
    assert s.billbot_digest_days == {4, 5, 6, 0}
    monkeypatch.setenv("BILLBOT_PAYERS", "U333")
    assert load_settings().billbot_payers == {"U333"}
    monkeypatch.setenv("BILLBOT_PAYER_CANNOT_APPROVE", "false")
    assert load_settings().billbot_payer_cannot_approve is False


def test_every_bad_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    bad = {
        "BILLBOT_TIMEZONE": "Mars/Olympus",
        "BILLBOT_DIGEST_AT": "9am",
        "BILLBOT_DUE_WITHIN_DAYS": "seven",
        "BILLBOT_DIGEST_DAYS": "mon-funday",
        "BILLBOT_DUAL_APPROVAL_OVER": "lots",
        "DATABASE_URL": "not a url at all",
    }
    for k, v in bad.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as err:
        load_settings()
    # The missing credentials are named in the same message, not only once the rest is fixed.
    missing = {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "CODAT_API_KEY"}
    assert set(err.value.problems) == set(bad) | missing
    for name in (*bad, *missing):
        assert name in str(err.value)


def test_missing_required_variables_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert set(err.value.problems) == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "CODAT_API_KEY"}


def test_partial_default_binding_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for k, v in REQUIRED.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("CODAT_COMPANY_ID", "c")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert {"CODAT_CONNECTION_ID", "BILLBOT_CHANNEL"} <= set(err.value.problems)


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-x\nSLACK_SIGNING_SECRET=y\n"
                                   "CODAT_API_KEY=z\nBILLBOT_DIGEST_AT=07:30\n")
    assert load_settings().billbot_digest_at == time(7, 30)


def test_secrets_are_not_in_the_repr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for k, v in REQUIRED.items():
        monkeypatch.setenv(k, v + "-very-secret-value")
    s = load_settings()
    assert "very-secret-value" not in repr(s)
    secrets = s.secret_values()
    assert {v + "-very-secret-value" for v in REQUIRED.values()} <= set(secrets)
    basic = base64.b64encode(s.codat_api_key.get_secret_value().encode()).decode()  # type: ignore[union-attr]
    assert basic in secrets  # the Codat key as it travels in the Authorization header


def test_reminder_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for k, v in REQUIRED.items():
        monkeypatch.setenv(k, v)
    s = load_settings()
    assert (s.billbot_notify, s.billbot_remind_days_before, s.billbot_escalate_after_hours) \
        == ("channel", 2, 24.0)
    monkeypatch.setenv("BILLBOT_NOTIFY", " Both ")
    monkeypatch.setenv("BILLBOT_REMIND_DAYS_BEFORE", "0")
    monkeypatch.setenv("BILLBOT_ESCALATE_AFTER_HOURS", "36.5")
    s = load_settings()
    assert (s.billbot_notify, s.billbot_remind_days_before, s.billbot_escalate_after_hours) \
        == ("both", 0, 36.5)
    bad = {"BILLBOT_NOTIFY": "email", "BILLBOT_REMIND_DAYS_BEFORE": "-1",
           "BILLBOT_ESCALATE_AFTER_HOURS": "soon"}
    for k, v in bad.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert set(err.value.problems) == set(bad)


def test_undo_window(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for k, v in REQUIRED.items():
        monkeypatch.setenv(k, v)
    assert load_settings().billbot_undo_window_hours == 24.0
    monkeypatch.setenv("BILLBOT_UNDO_WINDOW_HOURS", " 2.5 ")
    assert load_settings().billbot_undo_window_hours == 2.5
    for bad in ("soon", "-1", "9000"):
        monkeypatch.setenv("BILLBOT_UNDO_WINDOW_HOURS", bad)
        with pytest.raises(ConfigError) as err:
            load_settings()
        assert set(err.value.problems) == {"BILLBOT_UNDO_WINDOW_HOURS"}


def test_thread_history_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for k, v in REQUIRED.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("BILLBOT_THREAD_HISTORY", "false")
    assert load_settings().billbot_thread_history is False
    monkeypatch.setenv("BILLBOT_THREAD_HISTORY", "maybe")
    with pytest.raises(ConfigError, match="BILLBOT_THREAD_HISTORY"):
        load_settings()
