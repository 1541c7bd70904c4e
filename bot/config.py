"""One settings object, read from `COORDBOT_*` environment variables and an optional TOML file.
Environment variables win over the file; `COORDBOT_X_FILE` reads a secret from a file (Docker
secrets). `coordbot config check` prints the result with secrets masked."""
from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import LOCALES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_FIELDS = {"telegram_token", "telegram_webhook_secret", "matrix_password",
                 "matrix_access_token"}
# COORDBOT_* variables read by the test and benchmark tools, not by the bot.
TOOL_VARIABLES = {"COORDBOT_TEST_DATABASE_URL", "COORDBOT_BENCH_DATABASE_URL",
                  "COORDBOT_SYNAPSE_VENV"}
_SERVER_NAME = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


class ConfigError(ValueError):
    """A setting has an invalid value; the message names it."""


@dataclass
class Settings:
    data_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    default_locale: str = "en"
    timezone: str = "Europe/Brussels"
    admins: list[str] = field(default_factory=list)
    log_level: str = "INFO"
    locales_dir: Path = PROJECT_ROOT / "locales"
    bundled_data_dir: Path = PROJECT_ROOT / "data"
    load_bundled_data: bool = True
    max_message_length: int = 4000
    # A preview awaiting Confirm (broadcast, meeting, round…) is dropped after this (minutes).
    preview_ttl_minutes: int = 30
    # directory: each entry's focal point is asked to confirm it this often (days)
    directory_verify_every_days: int = 90
    # directory: a focal point's changes wait for a coordinator's /approve before going live
    directory_changes_need_approval: bool = False
    # check-ins
    checkins_forms_dir: Path | None = PROJECT_ROOT / "data" / "forms"
    checkins_retention_days: int = 365
    checkins_nudge_halfway: bool = True
    checkins_nudge_hours_before: int = 24
    checkins_late_days: int = 14
    checkins_chart_rounds: int = 8
    telegram_token: str = ""
    telegram_bot_username: str = ""
    telegram_api_url: str = ""
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    telegram_webhook_listen: str = "127.0.0.1:8443"
    matrix_homeserver: str = ""
    matrix_user_id: str = ""
    matrix_password: str = ""
    matrix_access_token: str = ""
    matrix_store_path: Path | None = None
    matrix_allowed: list[str] = field(default_factory=list)
    matrix_trust: str = "trust_on_first_use"
    # Reminders: due while the bot was down and at most this late → sent, marked late;
    # later than that → listed in one "missed while offline" message to the owner.
    reminders_grace_hours: int = 6
    reminders_late_after_seconds: int = 60
    reminders_tick_seconds: int = 30
    # Tests and demos only: the bot's clock starts at this ISO instant and runs on from it.
    fake_now: str = ""
    # Trust (bot/trust): flood limit per person, invitation codes, retention.
    rate_limit_burst: int = 10
    rate_limit_per_minute: int = 60
    invitation_days: int = 7
    registration_failures_per_hour: int = 5
    audit_retention_days: int = 730
    outbox_retention_days: int = 90
    # Several instances: a message claimed by an instance that died is sent by another after
    # this long; a standby instance tries to become a platform's receiver this often.
    outbox_claim_seconds: int = 60
    leader_retry_seconds: int = 5
    # The coordinators' dashboard and data feed (bot/web): off unless one of the first two is
    # set; it then listens on web_listen (127.0.0.1:8080 when empty) and links point at
    # web_base_url (http://<web_listen> when empty).
    web_listen: str = ""
    web_base_url: str = ""
    web_session_hours: int = 8
    web_feed_requests_per_minute: int = 60

    @property
    def web_enabled(self) -> bool:
        return bool(self.web_listen or self.web_base_url)

    @property
    def effective_web_listen(self) -> str:
        return self.web_listen or "127.0.0.1:8080"

    @property
    def effective_web_base_url(self) -> str:
        return (self.web_base_url or f"http://{self.effective_web_listen}").rstrip("/")

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'coordbot.sqlite3'}"

    def validate(self) -> Settings:
        self._validate_words()
        self._validate_numbers()
        self._validate_addresses()
        self.matrix_allowed = [_allowed_entry(entry) for entry in self.matrix_allowed]
        self.telegram_bot_username = self.telegram_bot_username.lstrip("@")
        return self

    def _validate_words(self) -> None:
        """Languages, zones, levels, admins, the database URL and the fake date."""
        if self.default_locale not in LOCALES:
            raise ConfigError(f"COORDBOT_DEFAULT_LOCALE: {self.default_locale!r} is not one of "
                              f"{', '.join(LOCALES)}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"COORDBOT_TIMEZONE: unknown time zone {self.timezone!r}") from None
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(f"COORDBOT_LOG_LEVEL: {self.log_level!r} is not a log level")
        for admin in self.admins:
            platform, _, user = admin.partition(":")
            if platform not in {"console", "telegram", "matrix"} or not user:
                raise ConfigError(f"COORDBOT_ADMINS: {admin!r} is not PLATFORM:USER "
                                  "(console:alice, telegram:12345, matrix:@a:server)")
        if self.database_url:
            from bot.db import async_url
            try:
                async_url(self.database_url)
            except Exception as exc:  # noqa: BLE001 - any parse error is a config error
                raise ConfigError(f"COORDBOT_DATABASE_URL: {exc}") from None
        if self.matrix_trust not in {"trust_on_first_use", "verified_only"}:
            raise ConfigError("COORDBOT_MATRIX_TRUST: use trust_on_first_use or verified_only")
        if self.fake_now:
            from bot.clock import parse_instant
            try:
                parse_instant(self.fake_now)
            except ValueError:
                raise ConfigError(f"COORDBOT_FAKE_NOW: {self.fake_now!r} is not an ISO date-time "
                                  "(2026-03-02T09:00:00+00:00)") from None

    def _validate_numbers(self) -> None:
        if self.reminders_grace_hours < 0 or self.reminders_tick_seconds < 1:
            raise ConfigError("COORDBOT_REMINDERS_GRACE_HOURS must be >= 0 and "
                              "COORDBOT_REMINDERS_TICK_SECONDS >= 1")
        if self.checkins_retention_days < 1 or self.checkins_late_days < 0 \
                or self.checkins_nudge_hours_before < 0 or self.checkins_chart_rounds < 1:
            raise ConfigError("COORDBOT_CHECKINS_*: retention and chart rounds must be positive, "
                              "late days and nudge hours not negative")
        if self.directory_verify_every_days < 1:
            raise ConfigError("COORDBOT_DIRECTORY_VERIFY_EVERY_DAYS: must be at least 1")
        if self.max_message_length < 1:
            raise ConfigError("COORDBOT_MAX_MESSAGE_LENGTH: must be positive")
        if self.preview_ttl_minutes < 1:
            raise ConfigError("COORDBOT_PREVIEW_TTL_MINUTES: must be at least 1")
        for name in ("invitation_days", "registration_failures_per_hour",
                     "audit_retention_days", "outbox_retention_days", "outbox_claim_seconds",
                     "leader_retry_seconds", "web_session_hours",
                     "web_feed_requests_per_minute"):
            if getattr(self, name) < 1:
                raise ConfigError(f"COORDBOT_{name.upper()}: must be positive")
        if self.rate_limit_burst < 0 or self.rate_limit_per_minute < 0:
            raise ConfigError("COORDBOT_RATE_LIMIT_*: must be 0 (off) or positive")

    def _validate_addresses(self) -> None:
        """Ports within 1–65535 and a webhook Telegram will actually call."""
        for name in ("telegram_webhook_listen", "effective_web_listen"):
            value = getattr(self, name)
            host, colon, port = value.rpartition(":")
            if not colon or not port.isdigit() or not 1 <= int(port) <= 65535:
                key = name.removeprefix("effective_").upper()
                raise ConfigError(f"COORDBOT_{key}: {value!r} is not HOST:PORT with a port "
                                  "from 1 to 65535")
        base = self.web_base_url
        if base and (not base.lower().startswith(("https://", "http://"))
                     or not urlsplit(base).hostname):
            raise ConfigError(f"COORDBOT_WEB_BASE_URL: {base!r} is not an http(s):// address")
        for name in ("telegram_webhook_url", "telegram_api_url", "matrix_homeserver",
                     "database_url"):
            _check_url_port(f"COORDBOT_{name.upper()}", getattr(self, name))
        url = self.telegram_webhook_url
        # Telegram posts only to HTTPS; a local Bot API server (telegram_api_url) also to http.
        allowed = ("https://",) if not self.telegram_api_url else ("https://", "http://")
        if url and (not url.lower().startswith(allowed) or not urlsplit(url).hostname):
            raise ConfigError(f"COORDBOT_TELEGRAM_WEBHOOK_URL: {url!r} is not an https:// "
                              "address (Telegram delivers updates only over HTTPS)")

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds, for `bot.logs.hide`: the secret fields, the
        token's part after the bot id, the database password."""
        from urllib.parse import urlsplit

        values = [getattr(self, name) for name in sorted(SECRET_FIELDS)]
        values.append(self.telegram_token.partition(":")[2])
        try:
            values.append(urlsplit(self.database_url).password or "")
        except ValueError:
            pass
        return [value for value in values if value]

    def masked(self) -> dict[str, str]:
        shown = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                text = "****"
            elif f.name == "database_url" and value:
                from bot.db import mask_url
                text = mask_url(value)
            elif isinstance(value, list):
                text = ",".join(value)
            else:
                text = str(value)
            shown[f.name] = text
        shown["effective_database_url"] = _mask_db(self.effective_database_url)
        return shown


def _check_url_port(key: str, url: str) -> None:
    if not url:
        return
    try:
        port = urlsplit(url).port
    except ValueError as exc:   # "Port out of range"; several hosts (h1:5432,h2) are fine
        port = 0 if "out of range" in str(exc) else None
    if port == 0:
        raise ConfigError(f"{key}: the port must be from 1 to 65535")


def _allowed_entry(entry: str) -> str:
    """COORDBOT_MATRIX_ALLOWED holds `@user:server`, `:server` or a bare `server`, which means
    the same as `:server`."""
    if entry.startswith("@"):
        local, colon, server = entry[1:].partition(":")
        if local and colon and _SERVER_NAME.fullmatch(server):
            return entry
    elif _SERVER_NAME.fullmatch(entry.removeprefix(":")):
        return ":" + entry.removeprefix(":")
    raise ConfigError(f"COORDBOT_MATRIX_ALLOWED: {entry!r} is neither a user id "
                      "(@someone:example.org) nor a server (example.org or :example.org)")


def unknown_variables(environ: dict[str, str] | None = None) -> list[str]:
    """One warning per COORDBOT_* variable that is not a setting (a typo is otherwise silently
    ignored), naming the closest known one."""
    env = os.environ if environ is None else environ
    known = {f"COORDBOT_{f.name.upper()}" for f in fields(Settings)}
    known |= {f"{key}_FILE" for key in known} | TOOL_VARIABLES
    warnings = []
    suffixes = {key.removeprefix("COORDBOT_"): key for key in known}
    for key in sorted(k for k in env if k.upper().startswith("COORDBOT_") and k not in known):
        close = difflib.get_close_matches(key.upper()[len("COORDBOT_"):], sorted(suffixes), n=1,
                                          cutoff=0.7)
        hint = f"; did you mean {suffixes[close[0]]}?" if close else ""
        warnings.append(f"{key} is not a setting and is ignored{hint}")
    return warnings


def _mask_db(url: str) -> str:
    from bot.db import mask_url
    return mask_url(url)


def load_settings(config_file: Path | None = None, environ: dict[str, str] | None = None,
                  **overrides: Any) -> Settings:
    env = dict(os.environ if environ is None else environ)
    raw: dict[str, object] = {}
    if config_file is not None:
        try:
            raw.update(tomllib.loads(Path(config_file).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"--config: no such file {config_file}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"--config: {config_file} is not valid TOML ({exc})") from None
    names = {f.name: f for f in fields(Settings)}
    unknown = set(raw) - set(names)
    if unknown:
        raise ConfigError(f"--config: unknown setting {sorted(unknown)[0]!r}")
    for name in names:
        key = f"COORDBOT_{name.upper()}"
        if key in env:
            raw[name] = env[key]
        elif f"{key}_FILE" in env:
            try:
                raw[name] = Path(env[f"{key}_FILE"]).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{key}_FILE: cannot read {env[key + '_FILE']} "
                                  f"({exc.strerror})") from None
    raw.update(overrides)
    settings = Settings()
    for name, value in raw.items():
        setattr(settings, name, _coerce(name, names[name], value))
    return settings.validate()


def _coerce(name: str, f: Field[Any], value: Any) -> object:
    default = getattr(Settings(), name)
    key = f"COORDBOT_{name.upper()}"
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise ConfigError(f"{key}: {value!r} is not a boolean")
        return text in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: {value!r} is not a number") from None
    if isinstance(default, list):
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items if str(item).strip()]
    if isinstance(default, Path) or name.endswith(("_dir", "_path")):
        return Path(str(value)).expanduser() if value not in (None, "") else None
    return str(value).strip()
