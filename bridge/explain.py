"""Expected failures in one sentence: what is wrong, which thing, and how to fix it.

The command line (and `doctor`) show these instead of a traceback. One place decides the wording, so
"run amazon-bridge db upgrade" reads the same wherever a missing schema is met.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, ProgrammingError

from bridge.config import ConfigError, Settings
from bridge.errors import BridgeError

if TYPE_CHECKING:
    from bridge.magento.errors import MagentoAuthError

UPGRADE_HINT = "run `amazon-bridge db upgrade`"


class SchemaNotReady(BridgeError):
    """The database has no schema yet, or an older one."""


def safe_database_url(url: str) -> str:
    """The database URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # a URL SQLAlchemy cannot parse is shown as given
        return url


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def schema_revision(engine: Engine) -> tuple[str | None, str]:
    """(revision the database is at or None, the latest revision this code knows)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from bridge.storage.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head() or ""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None, head
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head


def require_schema(engine: Engine, url: str) -> None:
    """Raise SchemaNotReady unless the database is migrated to the latest revision."""
    current, head = schema_revision(engine)
    if current is None:
        raise SchemaNotReady(f"the database {safe_database_url(url)} has no tables yet; {UPGRADE_HINT}")
    if current != head:
        raise SchemaNotReady(
            f"the database {safe_database_url(url)} is at schema {current}, this version needs {head}; {UPGRADE_HINT}"
        )


def explain(exc: BaseException, settings: Settings | None = None) -> str | None:
    """One sentence for an expected failure, or None when `exc` is a bug (and deserves its traceback)."""
    import redis

    from bridge.amazon.errors import AmazonAuthError, AmazonError, AmazonInvalidInput
    from bridge.magento.errors import (
        MagentoAuthError,
        MagentoConnectionError,
        MagentoHTTPError,
        MagentoTransportError,
    )
    from bridge.storage.db import DatabaseDriverMissing

    db_url = safe_database_url(settings.database.url) if settings else "the database"
    magento = settings.magento.base_url if settings else "Magento"
    if isinstance(exc, SchemaNotReady | ConfigError | DatabaseDriverMissing):
        return str(exc)
    if isinstance(exc, NoSuchModuleError):
        return f"database.url {db_url}: unknown database kind ({exc}); use sqlite:///path or postgresql://..."
    if isinstance(exc, OperationalError | ProgrammingError):
        text = str(exc.orig if isinstance(exc, DBAPIError) else exc).lower()
        if "no such table" in text or "no such column" in text or (
            "does not exist" in text and ("relation" in text or "column" in text)
        ):
            return f"the database {db_url} is not migrated to this version; {UPGRADE_HINT}"
        first = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip().splitlines()[0]
        return f"cannot use the database {db_url} ({first}); check database.url and that the server runs"
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        url = settings.redis.url if settings else "redis.url"
        return f"Redis at {host_of(url)} does not answer ({exc}); start Redis or fix redis.url"
    if isinstance(exc, redis.exceptions.AuthenticationError | redis.exceptions.ResponseError):
        return f"Redis refused the request ({exc}); check redis.url (password, database number)"
    if isinstance(exc, MagentoConnectionError | MagentoTransportError):
        return f"Magento at {host_of(magento)} cannot be reached ({_short(exc)}); check magento.base_url"
    if isinstance(exc, MagentoAuthError):
        resource = _acl_resource(exc)
        if resource:
            return (f"Magento at {host_of(magento)} refused the integration access to {resource}; grant that "
                    "resource to the integration (System > Extensions > Integrations > API) and re-activate it")
        return (f"Magento at {host_of(magento)} refused the credentials ({exc.message}); check the MAGENTO_* "
                "variables and magento.auth_mode")
    if isinstance(exc, MagentoHTTPError):
        if exc.is_no_route:
            return (f"{magento} answered 'no route' for {exc.path}; magento.base_url must be the shop's base URL "
                    "(without /rest), with the REST API enabled")
        return f"Magento at {host_of(magento)} answered HTTP {exc.status} to {exc.method} {exc.path}: {exc.message}"
    if isinstance(exc, AmazonInvalidInput):
        return f"Amazon refused the request: {exc}"
    if isinstance(exc, AmazonAuthError):
        return (f"Amazon refused the credentials ({exc}); check AMAZON_LWA_CLIENT_ID/SECRET and the store's "
                "refresh token")
    if isinstance(exc, AmazonError):
        endpoint = settings.amazon.api_endpoint if settings else "Amazon"
        return f"Amazon at {host_of(endpoint)} failed: {exc}"
    return None


def _acl_resource(exc: MagentoAuthError) -> str | None:
    params = exc.parameters
    if isinstance(params, dict) and params.get("resources"):
        return str(params["resources"])
    if isinstance(params, list) and params and "authorized" in exc.raw_message:
        return str(params[0])
    return None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."
