"""Shared fixtures: the real Redis, databases (SQLite always, PostgreSQL when it answers), both twins.

Services are checked, and Redis started, by the suite itself, so `make test` works wherever a
redis-server binary exists.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest
import redis as redis_lib

POSTGRES_URL = os.environ.get("AMAZON_BRIDGE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory):
    """The run's own redis-server on a free port: never the machine's Redis, never another suite's data."""
    from tests.redis_server import PrivateRedis

    try:
        server = PrivateRedis(str(tmp_path_factory.mktemp("redis"))).start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(private_redis) -> str:
    return private_redis.url


@pytest.fixture
def redis_conn(redis_url):
    """The private Redis, emptied before and after the test (it is this run's own)."""
    conn = redis_lib.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def _postgres_available() -> bool:
    try:
        import psycopg
    except ImportError:  # the `postgres` extra is not installed
        return False
    url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:  # no server, refused, unknown role: not available here
        return False


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    if not _postgres_available():
        pytest.skip(f"PostgreSQL does not answer at {POSTGRES_URL}")
    return POSTGRES_URL


def _fresh_postgres_database(admin_url: str) -> str:
    """A new, empty database for one test, dropped by the caller."""
    import psycopg

    name = f"bridge_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _drop_postgres_database(admin_url: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """Each test using this runs on SQLite and again on PostgreSQL (skipped where it does not answer)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bridge.sqlite3'}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    url = _fresh_postgres_database(admin)
    yield url
    _drop_postgres_database(admin, url)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'bridge.sqlite3'}"


@pytest.fixture
def magento_twin():
    from sandbox.magento.testing import start_magento_twin

    twin = start_magento_twin()
    yield twin
    twin.stop()


@pytest.fixture
def amazon_twin():
    from sandbox.amazon.testing import start_amazon_twin

    twin = start_amazon_twin()
    yield twin
    twin.stop()


def bridge_settings(*, database_url: str, redis_url: str, magento_twin, amazon_twin, admin_url="http://admin.test"):
    """Settings pointing the bridge at the twins, exactly as a real deployment points at the real services."""
    from bridge.config import load_settings

    base = load_settings(None, env={})
    mc = magento_twin.config
    return replace(
        base,
        database=replace(base.database, url=database_url),
        redis=replace(base.redis, url=redis_url),
        magento=replace(
            base.magento,
            base_url=magento_twin.url,
            consumer_key=mc.consumer_key,
            consumer_secret=mc.consumer_secret,
            access_token=mc.access_token,
            access_token_secret=mc.access_token_secret,
        ),
        amazon=replace(
            base.amazon,
            endpoint=amazon_twin.url,
            oauth_endpoint=amazon_twin.lwa_url,
            client_id=amazon_twin.config.client_id,
            client_secret=amazon_twin.config.client_secret,
        ),
        admin=replace(base.admin, public_base_url=admin_url, secret_key="test-secret-key"),
    )


@pytest.fixture
def bridge(sqlite_url, redis_url, magento_twin, amazon_twin, monkeypatch):
    """The bridge pointed at both twins, with one store (see tests/harness.py); modules may override it."""
    from tests.harness import make_bridge

    b = make_bridge(database_url=sqlite_url, redis_url=redis_url, magento=magento_twin, amazon=amazon_twin,
                    monkeypatch=monkeypatch)
    yield b
    b.runtime.close()
