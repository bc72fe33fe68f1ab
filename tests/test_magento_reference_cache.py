"""Magento reference data read once for all work-horses (RQ forks a fresh process per job)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis as redis_lib

from bridge.config import MagentoSettings
from bridge.magento.cache import ReferenceCache
from bridge.magento.client import MagentoClient


@pytest.fixture
def settings(magento_twin) -> MagentoSettings:
    c = magento_twin.config
    return replace(MagentoSettings(), base_url=magento_twin.url, consumer_key=c.consumer_key,
                   consumer_secret=c.consumer_secret, access_token=c.access_token,
                   access_token_secret=c.access_token_secret)


def test_a_second_client_reads_store_views_and_directory_from_the_shared_cache(settings, redis_conn):
    cache = ReferenceCache(redis_conn, namespace=settings.base_url)
    first = MagentoClient(settings, store_code="default", reference_cache=cache)
    view = first.store_view("default")
    first.region_resolver("US")
    assert first.call_count >= 3

    second = MagentoClient(settings, store_code="default", reference_cache=cache)  # a new work-horse
    assert second.store_view("default") == view
    assert second.region_resolver("US").find("US", "California").id == 12
    assert second.call_count == 0


def test_a_redis_outage_only_costs_calls(settings):
    dead = redis_lib.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    client = MagentoClient(settings, store_code="default", reference_cache=ReferenceCache(dead, "x"))
    assert client.store_view("default").code == "default"
