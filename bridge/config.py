"""Typed settings, loaded from a TOML file plus environment variables for secrets.

The file holds connection settings only; secrets come from the environment and are never required in
the file. A wrong value stops start-up with a message that names the key (`ConfigError`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from croniter import croniter

from bridge.errors import BridgeError

DEFAULT_CONFIG_FILE = "config.toml"


class ConfigError(BridgeError):
    """A setting is missing or wrong; the message names the key."""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///var/amazon-bridge.sqlite3"
    busy_timeout_ms: int = 30_000  # SQLite: how long a writer waits for another worker's lock


@dataclass(frozen=True)
class RedisSettings:
    url: str = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class MagentoSettings:
    base_url: str = "http://127.0.0.1:8081"
    auth_mode: str = "oauth"  # "oauth" (integration, OAuth 1.0a HMAC-SHA256) or "bearer"
    timeout_seconds: float = 30.0
    # The longest a request can run inside Magento (PHP max_execution_time, proxy and FPM timeouts): a create
    # whose answer was lost may still be saved until then, so no second create is sent for that order before.
    max_request_seconds: float = 600.0
    admin_url: str = ""  # where merchants open orders (e.g. https://shop.example/admin); default base_url
    # Secrets, from the environment only:
    consumer_key: str = field(default="", repr=False)
    consumer_secret: str = field(default="", repr=False)
    access_token: str = field(default="", repr=False)
    access_token_secret: str = field(default="", repr=False)

    @property
    def admin_base_url(self) -> str:
        return (self.admin_url or self.base_url).rstrip("/")


@dataclass(frozen=True)
class AmazonSettings:
    region: str = "NA"  # NA | EU | FE
    endpoint: str = ""  # override the region's SP-API host (the twin, or a proxy)
    oauth_endpoint: str = ""  # override https://api.amazon.com/auth/o2/token
    timeout_seconds: float = 30.0
    # Secrets, from the environment only (refresh tokens are per store, see Store.refresh_token_env):
    client_id: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)

    REGION_ENDPOINTS = {
        "NA": "https://sellingpartnerapi-na.amazon.com",
        "EU": "https://sellingpartnerapi-eu.amazon.com",
        "FE": "https://sellingpartnerapi-fe.amazon.com",
    }

    @property
    def api_endpoint(self) -> str:
        return (self.endpoint or self.REGION_ENDPOINTS[self.region]).rstrip("/")

    @property
    def lwa_endpoint(self) -> str:
        return self.oauth_endpoint or "https://api.amazon.com/auth/o2/token"


@dataclass(frozen=True)
class AdminSettings:
    public_base_url: str = "http://127.0.0.1:5000"  # links written into Commerce order comments
    secure_cookies: bool = False  # set true behind HTTPS
    secret_key: str = field(default="", repr=False)  # from AMAZON_BRIDGE_SECRET_KEY


@dataclass(frozen=True)
class SyncSettings:
    schedule: str = "*/5 * * * *"  # cron expression, UTC (ASC syncs every five minutes)
    overlap_minutes: int = 10  # lastUpdatedAfter = cursor - overlap, so clock edges never lose an order
    page_size: int = 100
    initial_lookback_days: int = 7  # a new store's first pass lists orders updated this far back
    claim_lease_seconds: int = 60  # an order's claim lives this long past its importer's last heartbeat


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    magento: MagentoSettings = field(default_factory=MagentoSettings)
    amazon: AmazonSettings = field(default_factory=AmazonSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)


# Secrets: (section, key) -> environment variable
SECRET_ENV = {
    ("magento", "consumer_key"): "MAGENTO_CONSUMER_KEY",
    ("magento", "consumer_secret"): "MAGENTO_CONSUMER_SECRET",
    ("magento", "access_token"): "MAGENTO_ACCESS_TOKEN",
    ("magento", "access_token_secret"): "MAGENTO_ACCESS_TOKEN_SECRET",
    ("amazon", "client_id"): "AMAZON_LWA_CLIENT_ID",
    ("amazon", "client_secret"): "AMAZON_LWA_CLIENT_SECRET",
    ("admin", "secret_key"): "AMAZON_BRIDGE_SECRET_KEY",
}

# Non-secret overrides from the environment, handy for containers: AMAZON_BRIDGE_<SECTION>_<KEY>.
ENV_PREFIX = "AMAZON_BRIDGE_"


def _coerce(section: str, key: str, value: Any, default: Any) -> Any:
    name = f"{section}.{key}"
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    if isinstance(default, int):
        try:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{name}: expected a whole number, got {value!r}") from exc
    if isinstance(default, float):
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{name}: expected a number, got {value!r}") from exc
    if not isinstance(value, str):
        raise ConfigError(f"{name}: expected text, got {value!r}")
    return value


def _validate(settings: Settings) -> None:
    if settings.magento.auth_mode not in ("oauth", "bearer"):
        raise ConfigError(f"magento.auth_mode: expected 'oauth' or 'bearer', got {settings.magento.auth_mode!r}")
    if settings.amazon.region not in AmazonSettings.REGION_ENDPOINTS:
        raise ConfigError(f"amazon.region: expected NA, EU or FE, got {settings.amazon.region!r}")
    if not croniter.is_valid(settings.sync.schedule):
        raise ConfigError(f"sync.schedule: not a cron expression: {settings.sync.schedule!r}")
    for key in ("overlap_minutes", "claim_lease_seconds", "initial_lookback_days"):
        if getattr(settings.sync, key) < 0:
            raise ConfigError(f"sync.{key}: must not be negative")
    if settings.magento.max_request_seconds < settings.magento.timeout_seconds:
        raise ConfigError(
            "magento.max_request_seconds: must be at least magento.timeout_seconds (a request runs in Magento "
            "at least as long as the bridge waits for it)"
        )
    if not 1 <= settings.sync.page_size <= 100:
        raise ConfigError("sync.page_size: must be between 1 and 100 (Amazon's maxResultsPerPage)")
    for section, key in (("magento", "base_url"), ("admin", "public_base_url")):
        url = getattr(getattr(settings, section), key)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{section}.{key}: expected an http(s) URL, got {url!r}")


MAGENTO_OAUTH_ENV = ("MAGENTO_CONSUMER_KEY", "MAGENTO_CONSUMER_SECRET", "MAGENTO_ACCESS_TOKEN",
                     "MAGENTO_ACCESS_TOKEN_SECRET")


def missing_magento_credentials(magento: MagentoSettings) -> list[str]:
    """The MAGENTO_* variables that must be set for the configured auth mode but are empty."""
    if magento.auth_mode == "bearer":
        return [] if magento.access_token else ["MAGENTO_ACCESS_TOKEN"]
    values = (magento.consumer_key, magento.consumer_secret, magento.access_token, magento.access_token_secret)
    return [name for name, value in zip(MAGENTO_OAUTH_ENV, values, strict=True) if not value]


def load_settings(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Settings from `path` (or ./config.toml when present, else defaults) and the environment."""
    env = dict(os.environ if env is None else env)
    data: dict[str, Any] = {}
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = DEFAULT_CONFIG_FILE
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc

    sections: dict[str, Any] = {}
    blank = Settings()  # every section's defaults
    known = {f.name for f in fields(Settings)}
    for section in data:
        if section not in known:
            raise ConfigError(f"{section}: unknown section (expected one of {', '.join(sorted(known))})")
    for section_field in fields(Settings):
        section = section_field.name
        defaults = getattr(blank, section)
        cls = type(defaults)
        given = data.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"{section}: expected a table [{section}]")
        values: dict[str, Any] = {}
        section_keys = {f.name for f in fields(cls)}
        for key in given:
            if key not in section_keys:
                raise ConfigError(f"{section}.{key}: unknown setting")
            if (section, key) in SECRET_ENV:
                raise ConfigError(
                    f"{section}.{key}: secrets are read from the environment ({SECRET_ENV[section, key]}),"
                    " not from the file"
                )
        for f in fields(cls):
            default = getattr(defaults, f.name)
            if (section, f.name) in SECRET_ENV:
                values[f.name] = env.get(SECRET_ENV[section, f.name], default)
                continue
            raw = env.get(f"{ENV_PREFIX}{section.upper()}_{f.name.upper()}", given.get(f.name, default))
            values[f.name] = _coerce(section, f.name, raw, default)
        sections[section] = cls(**values)
    db_url = sections["database"].url
    for plain in ("postgresql://", "postgres://"):
        if db_url.startswith(plain):  # psycopg 3 (the `postgres` extra), not SQLAlchemy's default psycopg2
            sections["database"] = DatabaseSettings(
                url="postgresql+psycopg://" + db_url[len(plain):], busy_timeout_ms=sections["database"].busy_timeout_ms
            )
    settings = Settings(**sections)
    _validate(settings)
    return settings
