"""Engines and sessions outside Flask (workers, CLI, tests).

SQLite is the embedded default and several worker processes write to it, so every connection gets WAL
journaling and a busy timeout; PostgreSQL needs nothing special.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Executable, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bridge.config import DatabaseSettings
from bridge.errors import BridgeError

# What the sync, importer and outbox open sessions with (`with session_factory() as session:`): a sessionmaker,
# or `Database.session`, which also commits on success.
SessionFactory = Callable[[], AbstractContextManager[Session]]


def engine_options(settings: DatabaseSettings) -> dict[str, Any]:
    """Keyword arguments for `create_engine` (also given to Flask-SQLAlchemy)."""
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": settings.busy_timeout_ms / 1000}}
    return {"pool_pre_ping": True}


def _ensure_sqlite_dir(url_text: str) -> None:
    url = make_url(url_text)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL + busy timeout on every new SQLite connection; a no-op for other databases."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:  # pragma: no cover - every sqlite test
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def rows_matched(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE in `session`; how many rows it matched (claims compare it with 1)."""
    result = cast(CursorResult[Any], session.execute(statement))  # a DML statement's result is a CursorResult
    return result.rowcount


class DatabaseDriverMissing(BridgeError):
    """database.url names PostgreSQL but psycopg (the `postgres` extra) is not installed."""


def make_engine(settings: DatabaseSettings) -> Engine:
    _ensure_sqlite_dir(settings.url)
    try:
        engine = create_engine(settings.url, **engine_options(settings))
    except ImportError as exc:
        raise DatabaseDriverMissing(
            "database.url names PostgreSQL but its driver is not installed; install it with "
            "pip install 'amazon-bridge[postgres]'"
        ) from exc
    configure_sqlite(engine, settings.busy_timeout_ms)
    return engine


class Database:
    """One engine and its session factory, for code that runs outside Flask."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
