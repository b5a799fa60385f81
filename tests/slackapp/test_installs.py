"""OAuth mode's settings and start-up: what it requires, the scopes it asks for, and stored
tokens that cannot be opened with the key given."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Bot

from billbot.config import ConfigError, Settings, load_settings
from billbot.sandbox.slack.manifest_scopes import find_manifest, manifest_bot_scopes
from billbot.slackapp.installs import BOT_SCOPES, REDIRECT_PATH, authorization_url
from billbot.startup_checks import stored_tokens_problem
from billbot.storage.db import make_engine, upgrade_database
from billbot.storage.installations import SealedInstallationStore
from billbot.storage.token_cipher import TokenCipher

OAUTH = {"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": "shh",
         "SLACK_SIGNING_SECRET": "s3cret", "CODAT_API_KEY": "k"}


def test_oauth_mode_needs_no_bot_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in OAUTH.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.oauth_mode and settings.slack_bot_token is None
    # Without the secret it is single-workspace mode, and the bot token is required again.
    monkeypatch.delenv("SLACK_CLIENT_SECRET")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert set(err.value.problems) == {"SLACK_BOT_TOKEN"}


def test_a_token_key_that_is_no_fernet_key_is_named(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {**OAUTH, "BILLBOT_TOKEN_KEY": "not-a-key"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "Fernet key" in err.value.problems["BILLBOT_TOKEN_KEY"]
    assert "not-a-key" not in str(err.value)


def test_the_install_asks_for_the_manifests_scopes_and_redirect() -> None:
    assert manifest_bot_scopes() == BOT_SCOPES
    manifest = find_manifest().read_text(encoding="utf-8")
    assert REDIRECT_PATH in manifest
    assert authorization_url("https://slack.com/api/") == "https://slack.com/oauth/v2/authorize"
    assert authorization_url("http://127.0.0.1:9/api/") == "http://127.0.0.1:9/oauth/v2/authorize"


async def test_stored_tokens_need_their_key_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'billbot.db'}"
    engine = make_engine(url)
    upgrade_database(engine)
    key = Fernet.generate_key().decode()
    store = SealedInstallationStore("123.456", engine, TokenCipher(key))
    await store.async_save_bot(Bot(app_id="A1", enterprise_id=None, team_id="T1",
                                   bot_token="xoxb-secret-token", bot_id="B1",
                                   bot_user_id="U1", installed_at=datetime.now(UTC).timestamp()))
    found = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_token == "xoxb-secret-token"
    engine.dispose()

    def problem(token_key: str | None) -> str | None:
        return stored_tokens_problem(Settings(
            _env_file=None, database_url=url, slack_client_id="123.456",
            slack_client_secret="shh", billbot_token_key=token_key))

    assert problem(key) is None
    assert "set BILLBOT_TOKEN_KEY" in str(problem(None))
    assert "does not decrypt" in str(problem(Fernet.generate_key().decode()))
