"""Fixtures of the admin tests: a Redis database of their own, emptied per test, a Magento twin (the admin
checks catalog SKUs and reads the country directory from it), and a harness with the admin app on a fresh
SQLite database."""

from __future__ import annotations

from dataclasses import replace

import pytest
from redis import Redis

from tests.admin_support import AdminHarness, make_settings


@pytest.fixture
def redis_url(private_redis):
    """The run's private Redis (database 1 for the admin tests), emptied before each test."""
    url = private_redis.url_for(1)
    conn = Redis.from_url(url)
    conn.flushdb()
    conn.close()
    return url


@pytest.fixture(scope="session")
def admin_magento():
    """One Magento twin for the admin tests (products are added with unique SKUs, never removed)."""
    from sandbox.magento.testing import start_magento_twin

    twin = start_magento_twin()
    yield twin
    twin.stop()


def twin_settings(database_url: str, redis_url: str, twin, **admin):
    settings = make_settings(database_url, redis_url, **admin)
    c = twin.config
    return replace(
        settings,
        magento=replace(
            settings.magento,
            base_url=twin.url,
            consumer_key=c.consumer_key,
            consumer_secret=c.consumer_secret,
            access_token=c.access_token,
            access_token_secret=c.access_token_secret,
        ),
    )


@pytest.fixture
def h(sqlite_url, redis_url, admin_magento):
    harness = AdminHarness(sqlite_url, redis_url, settings=twin_settings(sqlite_url, redis_url, admin_magento))
    harness.magento = admin_magento
    yield harness
    harness.close()


@pytest.fixture
def hdb(database_url, redis_url, admin_magento):
    """The harness on SQLite, and again on PostgreSQL (skipped where it does not answer)."""
    harness = AdminHarness(database_url, redis_url, settings=twin_settings(database_url, redis_url, admin_magento))
    harness.magento = admin_magento
    yield harness
    harness.close()


def add_products(twin, *products: tuple[str, str]) -> None:
    """(sku, name) products in the twin's catalog, through Magento's REST API; existing ones are kept."""
    session = twin.session()
    for sku, name in products:
        if session.get(f"{twin.url}/rest/all/V1/products/{sku}", timeout=30).status_code == 200:
            continue
        body = {"product": {"sku": sku, "name": name, "price": 10.0, "status": 1, "type_id": "simple",
                            "attribute_set_id": 4, "visibility": 4, "weight": 1}}
        session.post(f"{twin.url}/rest/all/V1/products", json=body, timeout=30).raise_for_status()
