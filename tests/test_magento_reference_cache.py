"""Magento reference data read once for all work-horses (RQ forks a fresh process per job)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis as redis_lib

from bridge.config import MagentoSettings
from bridge.importer.regions import regions_for
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
    regions_for(first, "US")
    assert first.call_count >= 3

    second = MagentoClient(settings, store_code="default", reference_cache=cache)  # a new work-horse
    assert second.store_view("default") == view
    assert regions_for(second, "US").find("US", "California").id == 12
    assert second.call_count == 0


def test_a_redis_outage_only_costs_calls(settings):
    dead = redis_lib.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    client = MagentoClient(settings, store_code="default", reference_cache=ReferenceCache(dead, "x"))
    assert client.store_view("default").code == "default"


def _stock(settings, sku: str, qty: int) -> None:
    admin = MagentoClient(settings)
    admin.post("V1/products", {"product": {"sku": sku, "name": sku, "price": 10, "attribute_set_id": 4,
                                           "type_id": "simple", "status": 1}})
    admin.post("V1/inventory/source-items", {"sourceItems": [
        {"sku": sku, "source_code": "default", "quantity": qty, "status": 1}]})


def test_products_a_sync_looked_up_cost_the_imports_no_call(settings, redis_conn, magento_twin):
    magento_twin.reset()
    _stock(settings, "P-1", 5)
    cache = ReferenceCache(redis_conn, namespace=settings.base_url + "/products")
    sync = MagentoClient(settings, reference_cache=cache)
    assert set(sync.products_by_skus(["P-1", "P-GONE"])) == {"P-1"}

    work_horse = MagentoClient(settings, reference_cache=cache)
    [product] = work_horse.products_by_skus(["p-1"]).values()  # Magento's SKUs match case-insensitively
    assert (product.sku, product.name, product.enabled) == ("P-1", "P-1", True)
    assert work_horse.call_count == 0
    assert work_horse.products_by_skus(["P-GONE"]) == {}  # never found: asked again, not remembered as missing
    assert work_horse.call_count == 1


def test_salability_of_an_order_is_one_call_and_falls_back_to_sku_by_sku(settings, magento_twin):
    magento_twin.reset()
    _stock(settings, "S-1", 3)
    _stock(settings, "S-2", 0)
    client = MagentoClient(settings)
    client.default_stock_id()
    before = client.call_count
    assert client.are_salable_for_qty({"S-1": 3, "S-2": 1}) == {"S-1": True, "S-2": False}
    assert client.call_count == before + 1
    # Magento fails the whole batch for an unknown SKU; each is then asked alone and the unknown one is unsalable
    assert client.are_salable_for_qty({"S-1": 4, "S-1-GONE": 1}) == {"S-1": False, "S-1-GONE": False}


def test_the_gift_message_setting_is_asked_once_for_all_work_horses(settings, redis_conn):
    cache = ReferenceCache(redis_conn, namespace=settings.base_url + "/gift")
    assert MagentoClient(settings, reference_cache=cache).gift_messages_allowed("default") is False  # Magento's No
    second = MagentoClient(settings, reference_cache=cache)
    assert second.gift_messages_allowed("default") is False
    assert second.call_count == 0
    # an outage is not remembered for the others
    dead = replace(settings, base_url="http://127.0.0.1:9")
    outage_cache = ReferenceCache(redis_conn, namespace="outage")
    assert MagentoClient(dead, reference_cache=outage_cache).gift_messages_allowed("default") is False
    assert outage_cache.get("gift_messages_allowed:default") is None
