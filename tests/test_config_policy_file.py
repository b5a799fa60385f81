"""BILLBOT_POLICY_FILE at start: a file that cannot work, or old role variables beside it,
stop billbot naming the problem (and both variables)."""

from __future__ import annotations

from pathlib import Path

import pytest

from billbot.config import ConfigError, load_settings
from tests.cli.test_command_line import billbot

REQUIRED = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret", "CODAT_API_KEY": "k"}
GOOD = """
rules:
  - name: Everything
    steps: [{approvers: [U0ANN]}]
payers:
  - user: U0PAT
    limit: {GBP: 500}
"""


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for k, v in REQUIRED.items():
        monkeypatch.setenv(k, v)
    return tmp_path


def test_a_good_file_is_accepted(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (env / "policy.yml").write_text(GOOD)
    monkeypatch.setenv("BILLBOT_POLICY_FILE", str(env / "policy.yml"))
    assert load_settings().billbot_policy_file == str(env / "policy.yml")


def test_a_broken_file_names_the_rule_and_the_problem(env: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (env / "policy.yml").write_text("rules: [{name: Big, steps: [{approvers: [U1], need: 2}]}]")
    monkeypatch.setenv("BILLBOT_POLICY_FILE", str(env / "policy.yml"))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "rule “Big” step 1: `need` is 2" in caught.value.problems["BILLBOT_POLICY_FILE"]


def test_a_missing_file_is_named(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLBOT_POLICY_FILE", str(env / "nope.yml"))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "cannot read" in caught.value.problems["BILLBOT_POLICY_FILE"]


@pytest.mark.parametrize(("var", "value"), [("BILLBOT_APPROVERS", "U0ANN"),
                                            ("BILLBOT_DUAL_APPROVAL_OVER", "100"),
                                            ("BILLBOT_PAYERS", "U0PAT")])
def test_the_file_and_an_old_variable_together_name_both(env: Path, monkeypatch: pytest.MonkeyPatch,
                                                         var: str, value: str) -> None:
    (env / "policy.yml").write_text(GOOD)
    monkeypatch.setenv("BILLBOT_POLICY_FILE", str(env / "policy.yml"))
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert var in caught.value.problems["BILLBOT_POLICY_FILE"]
    assert "BILLBOT_POLICY_FILE" in caught.value.problems[var]


def test_payers_without_a_payers_section_are_fine(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (env / "policy.yml").write_text("rules: [{name: All, auto_approve: true}]")
    monkeypatch.setenv("BILLBOT_POLICY_FILE", str(env / "policy.yml"))
    monkeypatch.setenv("BILLBOT_PAYERS", "U0PAT")
    assert load_settings().billbot_payers == {"U0PAT"}


def test_billbot_run_stops_with_a_non_zero_exit_naming_rule_and_problem(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("rules:\n  - name: Twice\n    auto_approve: true\n"
                      "  - name: Twice\n    steps: [{approvers: [bob]}]\n")
    done = billbot(tmp_path, "run", BILLBOT_POLICY_FILE=str(policy), BILLBOT_APPROVERS="U0ANN",
                   **REQUIRED)
    assert done.returncode != 0
    assert "two rules are named “Twice”" in done.stderr, done.stderr
    assert "'bob' is not a Slack user id" in done.stderr
    assert "BILLBOT_APPROVERS" in done.stderr and "Traceback" not in done.stderr
