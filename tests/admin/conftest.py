"""Fixtures of the admin tests: their own Redis server (other suites may empty the shared test databases
while these run) and a harness with the admin app on a fresh SQLite database."""

from __future__ import annotations

import pytest
from redis import Redis

from admin_ui.testing import AdminHarness, PrivateRedis
from tests.conftest import REDIS_URL


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory):
    """A redis-server on a unix socket for the admin tests (the shared one when redis-server is missing)."""
    server = PrivateRedis(str(tmp_path_factory.mktemp("redis")), REDIS_URL).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(private_redis):
    """The admin tests' own Redis, emptied before each test."""
    conn = Redis.from_url(private_redis.url)
    conn.flushdb()
    conn.close()
    return private_redis.url


@pytest.fixture
def h(sqlite_url, redis_url):
    harness = AdminHarness(sqlite_url, redis_url)
    yield harness
    harness.close()
