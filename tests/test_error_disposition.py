"""Every failure ends where a merchant expects it: retried later by itself, or parked with what to fix.

`bridge.errors.disposition` is the one decision; the import, the lifecycle and the sync ask it, and the
cases a merchant must fix in Commerce (a store view that is gone, a website without stock, a product not
in the source) are driven through the Magento twin answering as Magento does.
"""

from __future__ import annotations

import pytest
import redis
import requests
import sqlalchemy.exc

from bridge.amazon.errors import AmazonAuthError, AmazonDataError, AmazonServerError, AmazonThrottled
from bridge.backfill import RangeRefused
from bridge.config import ConfigError
from bridge.domain import ImportState
from bridge.errors import BridgeError, Disposition, disposition
from bridge.importer.order_builder import OrderBuildError
from bridge.importer.pipeline import CreateInDoubt, ImportDeferred
from bridge.lifecycle import LifecycleDeferred
from bridge.magento.errors import (
    MagentoAuthError,
    MagentoConnectionError,
    MagentoServerError,
    StockNotAssigned,
    StoreViewMissing,
    error_from_response,
)
from bridge.service import make_importer
from bridge.stock import StockBusy
from tests.harness import make_bridge, v2026_order

RETRY, PERSON = Disposition.RETRY_LATER, Disposition.NEEDS_PERSON


@pytest.mark.parametrize(("error", "expected"), [
    (MagentoServerError(503, "Service Unavailable"), RETRY),
    (error_from_response(429, "{}"), RETRY),
    (MagentoConnectionError("GET V1/orders: could not connect", request_sent=False), RETRY),
    (AmazonThrottled("searchOrders: throttled", status=429), RETRY),
    (AmazonServerError("getOrder: Amazon answered 503", status=503), RETRY),
    (StockBusy('stock of "SKU-1" is being changed by another worker'), RETRY),
    (ImportDeferred("Magento away"), RETRY),
    (LifecycleDeferred("Magento away"), RETRY),
    (redis.ConnectionError("Connection refused"), RETRY),
    (requests.Timeout("read timed out"), RETRY),
    (sqlalchemy.exc.OperationalError("UPDATE", {}, Exception("database is locked")), RETRY),
    (error_from_response(400, '{"message": "The \\"%1\\" value is invalid.", "parameters": ["email"]}'), PERSON),
    (MagentoAuthError(401, "The consumer isn't authorized to access Magento_Sales::create."), PERSON),
    (StoreViewMissing("fr"), PERSON),
    (StockNotAssigned("base"), PERSON),
    (AmazonAuthError("Login with Amazon refused the credentials"), PERSON),
    (AmazonDataError("111-0000000-0000001", "orderTotal", "not a number"), PERSON),
    (OrderBuildError('Cannot create sales order: Product "X" does not exist'), PERSON),
    (ConfigError("sync.page_size: must be between 1 and 100"), PERSON),
    (RangeRefused("--until must be later than --since"), PERSON),
    (KeyError("a bug"), PERSON),  # retrying a bug only hides it
])
def test_one_decision_for_every_failure(error, expected):
    assert disposition(error) is expected


def test_everything_the_bridge_raises_on_purpose_has_one_root():
    for cls in (StoreViewMissing, StockNotAssigned, MagentoServerError, AmazonThrottled, AmazonDataError,
                OrderBuildError, ConfigError, RangeRefused, StockBusy, ImportDeferred, CreateInDoubt,
                LifecycleDeferred):
        assert issubclass(cls, BridgeError), cls


@pytest.fixture
def twin_with(request):
    """A Magento twin with some configuration changed (`twin_with(websites_without_stock={"base"})`)."""
    from sandbox.magento.testing import start_magento_twin

    started = []

    def start(**config):
        twin = start_magento_twin(**config)
        started.append(twin)
        return twin

    yield start
    for twin in started:
        twin.stop()


def _bridge(magento, sqlite_url, redis_url, amazon_twin, monkeypatch):
    return make_bridge(database_url=sqlite_url, redis_url=redis_url, magento=magento, amazon=amazon_twin,
                       monkeypatch=monkeypatch)


def test_a_store_view_missing_in_commerce_parks_the_order_with_what_to_fix(
        magento_twin, sqlite_url, redis_url, amazon_twin, monkeypatch):
    bridge = _bridge(magento_twin, sqlite_url, redis_url, amazon_twin, monkeypatch)
    try:
        bridge.add_products([("SKU-1", "Thing", "10.00")])
        bridge.set_settings(store_view_code="fr")  # deleted in Commerce after it was chosen
        bridge.seed_amazon([v2026_order("111-0000101-0000001")])

        bridge.sync()  # no exception: nothing goes to RQ's failed jobs

        record = bridge.record("111-0000101-0000001")
        assert record.import_state == ImportState.ERROR.value
        assert record.notes == (
            'Cannot create sales order: Store view "fr" does not exist in Commerce. Choose an existing store view '
            "under Order Settings (Import Amazon Orders Into Magento Store), or create it in Stores > All Stores.")
        assert bridge.magento_orders() == []

        bridge.set_settings(store_view_code="default")  # the merchant fixes the setting; "Retry import"
        assert make_importer(bridge.runtime).import_order(bridge.store_id, "111-0000101-0000001").state \
            is ImportState.IMPORTED
    finally:
        bridge.runtime.close()


def test_a_website_without_stock_parks_the_order_with_what_to_fix(
        twin_with, sqlite_url, redis_url, amazon_twin, monkeypatch):
    magento = twin_with(websites_without_stock={"base"})
    bridge = _bridge(magento, sqlite_url, redis_url, amazon_twin, monkeypatch)
    try:
        bridge.add_products([("SKU-1", "Thing", "10.00")])
        bridge.seed_amazon([v2026_order("111-0000102-0000001")])

        bridge.sync()

        record = bridge.record("111-0000102-0000001")
        assert record.import_state == ImportState.ERROR.value
        assert record.notes == (
            'Cannot create sales order: Website "base" has no stock assigned in Commerce. Assign a stock with a '
            "source to it in Stores > Inventory > Stocks (Sales Channels).")
        assert bridge.magento_orders() == []
    finally:
        bridge.runtime.close()


def test_a_product_not_assigned_to_the_source_parks_the_order_with_ascs_wording(
        magento_twin, sqlite_url, redis_url, amazon_twin, monkeypatch):
    bridge = _bridge(magento_twin, sqlite_url, redis_url, amazon_twin, monkeypatch)
    try:
        bridge.set_settings(stock_handling="decrement_source", reserve_pending=False)
        bridge.add_products([("SKU-1", "Thing", "10.00")])
        magento_twin.session().post(f"{magento_twin.url}/rest/V1/inventory/source-items-delete", timeout=30, json={
            "sourceItems": [{"sku": "SKU-1", "source_code": "default"}]}).raise_for_status()
        bridge.seed_amazon([v2026_order("111-0000103-0000001")])

        bridge.sync()

        record = bridge.record("111-0000103-0000001")
        assert record.import_state == ImportState.ERROR.value
        assert record.notes == 'Cannot create sales order: Product "SKU-1" in order is not salable'
        assert bridge.magento_orders() == []
    finally:
        bridge.runtime.close()


def test_magento_away_is_retried_later_not_parked(magento_twin, sqlite_url, redis_url, amazon_twin, monkeypatch):
    bridge = _bridge(magento_twin, sqlite_url, redis_url, amazon_twin, monkeypatch)
    try:
        bridge.add_products([("SKU-1", "Thing", "10.00")])
        bridge.seed_amazon([v2026_order("111-0000104-0000001")])
        bridge.sync()  # the store view and products are known (and cached) from here on
        bridge.seed_amazon([v2026_order("111-0000104-0000002")])
        magento_twin.session().post(f"{magento_twin.url}/_sandbox/faults", json={"rate_500": 1.0}, timeout=10)
        with pytest.raises((ImportDeferred, MagentoServerError)):
            bridge.sync()
        magento_twin.session().post(f"{magento_twin.url}/_sandbox/faults", json={"rate_500": 0.0}, timeout=10)
        record = bridge.record("111-0000104-0000002")
        assert record.import_state == ImportState.QUEUED.value  # not in the error list: nothing for a person to do
        assert make_importer(bridge.runtime).import_order(bridge.store_id, "111-0000104-0000002").state \
            is ImportState.IMPORTED
    finally:
        bridge.runtime.close()
