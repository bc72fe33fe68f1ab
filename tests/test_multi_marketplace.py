"""Several Amazon stores, each into its own Magento store view and currency (UK in GBP, JP in JPY)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.storage.stores import create_store
from sandbox.amazon.generator import MARKETPLACES, generate_catalog, generate_orders
from sandbox.magento.config import EXAMPLE_EXTRA_VIEWS, default_store_views
from sandbox.magento.testing import start_magento_twin
from tests.harness import REFRESH_TOKEN_ENV, make_bridge


@pytest.fixture
def magento():
    twin = start_magento_twin(store_views=default_store_views() + EXAMPLE_EXTRA_VIEWS)
    yield twin
    twin.stop()


@pytest.mark.parametrize(("code", "view"), [("UK", "uk"), ("JP", "jp")])
def test_a_marketplace_imports_into_its_store_view_in_its_currency(sqlite_url, redis_url, magento, amazon_twin,
                                                                      monkeypatch, code, view):
    bridge = make_bridge(database_url=sqlite_url, redis_url=redis_url, magento=magento, amazon=amazon_twin,
                         monkeypatch=monkeypatch)
    marketplace = MARKETPLACES[code]
    with bridge.runtime.db.session() as session:
        store = create_store(session, code=code.lower(), name=marketplace.name, seller_id=amazon_twin.seller_id,
                             marketplace_id=marketplace.marketplace_id, refresh_token_env=REFRESH_TOKEN_ENV,
                             store_view_code=view)
        store.order_settings.import_from = None
        bridge.store_id = store.id
    catalog = generate_catalog(21, 8)
    bridge.add_products([(p.sku, p.name, p.price) for p in catalog])
    orders = generate_orders(25, 21, catalog, marketplaces=(code,), afn_rate=0.0)
    bridge.seed_amazon(orders)

    bridge.sync()

    expected = {o["orderId"]: o["proceeds"]["grandTotal"] for o in orders}
    imported = bridge.magento_orders()
    assert imported
    view_id = next(v.id for v in EXAMPLE_EXTRA_VIEWS if v.code == view)
    for order in imported:
        total = expected[order["ext_order_id"]]
        assert order["order_currency_code"] == total["currencyCode"] == marketplace.currency
        assert Decimal(str(order["grand_total"])) == Decimal(total["amount"])
        assert order["store_id"] == view_id
    bridge.runtime.close()
