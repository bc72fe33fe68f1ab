"""Fixtures of the admin tests: a Redis database of their own, emptied per test, and a harness with the admin
app on a fresh SQLite database."""

from __future__ import annotations

import pytest
from redis import Redis

from tests.admin_support import AdminHarness


@pytest.fixture
def redis_url(private_redis):
    """The run's private Redis (database 1 for the admin tests), emptied before each test."""
    url = private_redis.url_for(1)
    conn = Redis.from_url(url)
    conn.flushdb()
    conn.close()
    return url


@pytest.fixture
def h(sqlite_url, redis_url):
    harness = AdminHarness(sqlite_url, redis_url)
    yield harness
    harness.close()
