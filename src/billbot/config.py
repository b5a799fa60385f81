"""billbot's configuration: the contract's environment variables (or a `.env` file).

Everything is parsed and checked once at start; a bad value stops billbot with a message
naming every wrong variable, rather than surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import base64
import re
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from billbot.domain.policy_file import PolicyFileError, parse_policy
from billbot.domain.schedule import parse_digest_days
from billbot.testhooks import CrashPoint

UserIds = Annotated[frozenset[str], NoDecode]

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_HH_MM = re.compile(r"^(\d{1,2}):(\d{2})$")
# A lease shorter than 2 s would leave Codat calls no time; an hour outlasts any budget.
_SECONDS_RANGE = {"billbot_payment_lease_seconds": (2.0, 3600.0),
                  "billbot_recovery_interval_seconds": (0.5, 600.0)}


class ConfigError(Exception):
    """One or more variables are missing or malformed; `problems` maps each to its reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        lines = [f"  {name}: {reason}" for name, reason in sorted(problems.items())]
        super().__init__("billbot cannot start; fix these settings:\n" + "\n".join(lines))


class Settings(BaseSettings):
    """The contract's variables. Field names are the variable names in lower case."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # OAuth mode (both set): installs through /slack/install; each workspace's token is stored.
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    billbot_token_key: SecretStr | None = None  # a Fernet key: stored tokens encrypted with it
    codat_api_key: SecretStr | None = None
    codat_base_url: str = "https://api.codat.io"
    codat_company_id: str | None = None
    codat_connection_id: str | None = None
    # The Codat Bill Pay API (sync, or async: push operations) of the default and new bindings.
    codat_api: Literal["sync", "async"] = "sync"
    billbot_channel: str | None = None
    billbot_approvers: UserIds = frozenset()
    billbot_payers: UserIds = frozenset()  # nobody pays unless named
    billbot_admins: UserIds = frozenset()
    billbot_payer_cannot_approve: bool = True  # a payer may not pay what they approved
    billbot_dual_approval_over: Decimal | None = None
    # A YAML approval policy (the contract's "Approval policy file"); read and checked at start.
    billbot_policy_file: str | None = None
    billbot_digest_at: time = time(9, 0)
    billbot_timezone: ZoneInfo = Field(default_factory=lambda: ZoneInfo("UTC"))
    billbot_digest_days: Annotated[frozenset[int], NoDecode] = frozenset(range(5))
    billbot_due_within_days: int = 7
    # Who is asked personally: `channel` sends no direct messages; `dm` and `both` also send
    # each waiting bill to the people it waits on (the contract's BILLBOT_NOTIFY).
    billbot_notify: Literal["channel", "dm", "both"] = "channel"
    # Rows the digest shows before pointing to App Home and `/bills due` (at most 3 messages).
    billbot_digest_max_rows: int = 40
    # Reminders this many days before due; escalation to admins this many hours after it.
    billbot_remind_days_before: int = 2
    billbot_escalate_after_hours: float = 24.0
    # How long after billbot paid a bill (or created one) an admin may undo it (async API).
    billbot_undo_window_hours: float = 24.0
    # Payment recovery: a worker's lease on an intent (its Codat calls fit in it), the scan interval.
    billbot_payment_lease_seconds: float = 120.0
    billbot_recovery_interval_seconds: float = 20.0
    # The open-bills cache (services/open_bills.py): a full read of each company's bills this
    # often (deleted bills leave the cache then); a refresh this recent is reused (0: every
    # digest and `/bills due` asks Codat what changed); background reads stop while less than
    # this share of Codat's daily allowance is left.
    billbot_bills_full_read_hours: float = Field(default=24.0, ge=0.05, le=24 * 7)
    # The local time of the nightly job doing those full reads (readers never wait on them).
    billbot_bills_full_read_at: time = time(5, 0)
    billbot_bills_fresh_seconds: float = Field(default=0.0, ge=0.0, le=3600.0)
    billbot_codat_reserve: float = Field(default=0.10, ge=0.0, le=0.9)
    # Codat's per-minute limit; all replicas' requests are paced in one bucket (codat/pacing.py).
    billbot_codat_requests_per_minute: int = Field(default=1000, ge=0, le=1_000_000)
    # Not in the contract: jobs run at once per replica (they mostly wait: docs/deploy.md), how
    # long a replica's worker may be silent before its jobs go to another, whether it runs any.
    billbot_job_concurrency: int = Field(default=8, ge=1, le=64)
    billbot_job_stalled_seconds: float = Field(default=30.0, ge=1.0, le=3600.0)
    billbot_run_jobs: bool = True
    # Each decision on a bill is posted into its thread (holds' questions always are).
    billbot_thread_history: bool = True
    # Test hook: SIGKILL this process at a point of the payment path. Off unless set.
    billbot_crash_at: CrashPoint | None = None
    database_url: str = "sqlite:///billbot.db"
    # Not in the contract: how much billbot logs (debug also turns on the libraries' logs).
    billbot_log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("billbot_token_key", mode="after")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from cryptography.fernet import Fernet  # only when a key is given

            try:
                Fernet(value.get_secret_value().encode())
            except ValueError:
                raise ValueError("must be a Fernet key (32 bytes, url-safe base64: "
                                 "`python -c 'from cryptography.fernet import Fernet; "
                                 "print(Fernet.generate_key().decode())'`)") from None
        return value

    @field_validator("billbot_log_level", "codat_api", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("billbot_approvers", "billbot_payers", "billbot_admins", mode="before")
    @classmethod
    def _user_list(cls, value: Any) -> Any:
        if value is None or not isinstance(value, str):
            return value
        ids = [part.strip() for part in value.split(",") if part.strip()]
        bad = [i for i in ids if not _USER_ID.match(i)]
        if bad:
            raise ValueError(f"not Slack user IDs (like U012ABCDEF): {', '.join(bad)}")
        return frozenset(ids)

    @field_validator("billbot_dual_approval_over", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
        if not amount.is_finite() or amount < 0:
            raise ValueError(f"must be a non-negative amount: {value!r}")
        return amount

    @field_validator("billbot_digest_at", "billbot_bills_full_read_at", mode="before")
    @classmethod
    def _hh_mm(cls, value: Any) -> Any:
        if isinstance(value, time):
            return value
        match = _HH_MM.match(str(value).strip())
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(f"must be a time HH:MM, e.g. 09:00; got {value!r}")
        return time(int(match[1]), int(match[2]))

    @field_validator("billbot_timezone", mode="before")
    @classmethod
    def _zone(cls, value: Any) -> Any:
        if isinstance(value, ZoneInfo):
            return value
        try:
            return ZoneInfo(str(value).strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone: {value!r}") from None

    @field_validator("billbot_digest_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_digest_days(value)
        return value

    @field_validator("billbot_notify", mode="before")
    @classmethod
    def _notify(cls, value: Any) -> Any:
        text = value.strip().lower() if isinstance(value, str) else value
        if text not in ("channel", "dm", "both"):
            raise ValueError(f"must be channel, dm or both; got {value!r}")
        return text

    @field_validator("billbot_escalate_after_hours", "billbot_undo_window_hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        try:
            hours = float(str(value).strip())
        except ValueError:
            raise ValueError(f"must be a number of hours; got {value!r}") from None
        if not 0 <= hours <= 8760:
            raise ValueError(f"must be between 0 and 8760 hours; got {value!r}")
        return hours

    @field_validator("billbot_digest_max_rows", mode="before")
    @classmethod
    def _max_rows(cls, value: Any) -> Any:
        # Two messages of 50 blocks at 2 blocks a row (less their context lines) hold 48 rows.
        text = str(value).strip()
        if not re.fullmatch(r"\d{1,3}", text) or not 1 <= int(text) <= 48:
            raise ValueError(f"must be a whole number of rows from 1 to 48; got {value!r}")
        return int(text)

    @field_validator("billbot_due_within_days", "billbot_remind_days_before", mode="before")
    @classmethod
    def _days_ahead(cls, value: Any) -> Any:
        text = str(value).strip()
        if not re.fullmatch(r"\d{1,3}", text) or int(text) > 365:
            raise ValueError(f"must be a whole number of days from 0 to 365; got {value!r}")
        return int(text)

    @field_validator("billbot_payment_lease_seconds", "billbot_recovery_interval_seconds",
                     mode="before")
    @classmethod
    def _seconds(cls, value: Any, info: Any) -> Any:
        low, high = _SECONDS_RANGE[info.field_name]
        try:
            seconds = float(str(value).strip())
        except ValueError:
            raise ValueError(f"must be a number of seconds; got {value!r}") from None
        if not low <= seconds <= high:
            raise ValueError(f"must be between {low:g} and {high:g} seconds; got {value!r}")
        return seconds

    @field_validator("billbot_crash_at", mode="before")
    @classmethod
    def _crash_point(cls, value: Any) -> Any:
        if value is None or isinstance(value, CrashPoint):
            return value
        text = str(value).strip()
        if not text:
            return None
        if text not in {p.value for p in CrashPoint}:
            known = ", ".join(p.value for p in CrashPoint)
            raise ValueError(f"unknown crash point {text!r}; known: {known}")
        return CrashPoint(text)

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError:
            raise ValueError("SQLAlchemy cannot parse this URL") from None
        return value

    @field_validator("slack_api_url", "codat_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"must be an http(s) URL; got {value!r}")
        return value

    @model_validator(mode="after")
    def _binding_complete(self) -> Settings:
        parts = {"CODAT_COMPANY_ID": self.codat_company_id,
                 "CODAT_CONNECTION_ID": self.codat_connection_id,
                 "BILLBOT_CHANNEL": self.billbot_channel}
        given = [name for name, v in parts.items() if v]
        if given and len(given) != len(parts):
            missing = sorted(set(parts) - set(given))
            raise ValueError(f"the default binding needs all three; missing {', '.join(missing)}")
        return self

    # --- derived values -------------------------------------------------------------------

    @property
    def oauth_mode(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def slack_api_base(self) -> str:
        """slack_sdk joins method names onto the base: it must end with a slash."""
        return self.slack_api_url if self.slack_api_url.endswith("/") else self.slack_api_url + "/"

    def secret_values(self) -> list[str]:
        """Every secret in every form it travels in, for log scrubbing: the tokens, the
        signing secret, the Codat key and its Basic form, the database password."""
        secrets = [self.slack_bot_token, self.slack_signing_secret, self.slack_app_token,
                   self.codat_api_key, self.slack_client_secret, self.billbot_token_key]
        values = [s.get_secret_value() for s in secrets if s and s.get_secret_value()]
        if self.codat_api_key and self.codat_api_key.get_secret_value():
            values.append(base64.b64encode(self.codat_api_key.get_secret_value().encode()).decode())
        values.extend(_database_password_forms(self.database_url))
        return values


def _database_password_forms(url: str) -> list[str]:
    """The password of DATABASE_URL as written (percent-encoded) and as sent."""
    from sqlalchemy.engine import make_url

    password = make_url(url).password
    if not password:
        return []
    return sorted({str(password), quote(str(password), safe="")})


Mode = Literal["run", "demo", "cli"]


def _var_name(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "configuration"
    return str(loc[0]).upper()


class _Credentials(BaseSettings):
    """Only the variables `run` requires, read from the same sources as Settings: they are
    checked even when another variable is malformed, so one message names every problem."""

    model_config = Settings.model_config

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    codat_api_key: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None


def _missing_credentials(creds: _Credentials | Settings) -> dict[str, str]:
    problems: dict[str, str] = {}
    oauth = bool(creds.slack_client_id and creds.slack_client_secret)
    if not creds.slack_bot_token and not oauth:
        problems["SLACK_BOT_TOKEN"] = "required (the bot token, xoxb-...)"
    if not creds.slack_signing_secret and not creds.slack_app_token:
        problems["SLACK_SIGNING_SECRET"] = "required in HTTP mode (Slack app > Basic Information)"
    if not creds.codat_api_key:
        problems["CODAT_API_KEY"] = "required (the raw Codat API key)"
    return problems


def load_settings(mode: Mode = "run", **overrides: Any) -> Settings:
    """Read and check the configuration; raise ConfigError naming every wrong variable,
    malformed and missing alike."""
    problems: dict[str, str] = {}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        if mode == "run":
            known = set(_Credentials.model_fields)
            problems.update(_missing_credentials(_Credentials(
                **{k: v for k, v in overrides.items() if k in known or k.startswith("_env")})))
        for err in exc.errors():
            name = _var_name(err["loc"])
            if name == "CONFIGURATION" or not err["loc"]:
                msg = str(err["msg"]).removeprefix("Value error, ")
                for var in ("CODAT_COMPANY_ID", "CODAT_CONNECTION_ID", "BILLBOT_CHANNEL"):
                    if var in msg:
                        problems[var] = msg
                continue
            problems[name] = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(problems) from None
    if mode == "run":
        problems.update(_missing_credentials(settings))
    problems.update(policy_file_problems(settings))
    if problems:
        raise ConfigError(problems)
    return settings


def read_policy_text(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def policy_file_problems(settings: Settings) -> dict[str, str]:
    """What stops BILLBOT_POLICY_FILE: a file that cannot be read or cannot work (each
    problem naming its rule), or old role variables set beside it."""
    path = settings.billbot_policy_file
    if not path:
        return {}
    problems: dict[str, str] = {}
    has_payers = False
    try:
        has_payers = parse_policy(read_policy_text(path)).payers is not None
    except OSError as exc:
        problems["BILLBOT_POLICY_FILE"] = f"cannot read {path}: {exc.strerror or exc}"
    except PolicyFileError as exc:
        problems["BILLBOT_POLICY_FILE"] = f"{path}: " + "; ".join(exc.problems)
    clash = {"BILLBOT_APPROVERS": bool(settings.billbot_approvers),
             "BILLBOT_DUAL_APPROVAL_OVER": settings.billbot_dual_approval_over is not None,
             "BILLBOT_PAYERS": bool(settings.billbot_payers) and has_payers}
    both = [var for var, set_too in clash.items() if set_too]
    problems.update({var: f"BILLBOT_POLICY_FILE and {var} are both set; the policy file "
                     f"decides alone, so unset {var}" for var in both})
    if both:
        clashes = (f"set together with {' and '.join(both)}; the policy file decides alone, "
                   f"so unset {' and '.join(both)}")
        broken = problems.get("BILLBOT_POLICY_FILE")
        problems["BILLBOT_POLICY_FILE"] = f"{broken}; {clashes}" if broken else clashes
    return problems
