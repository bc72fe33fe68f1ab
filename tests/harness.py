"""An end-to-end harness: both twins over HTTP, a database, the real Redis, and the bridge's Runtime
pointed at them the way a deployment is pointed at the real services."""

from __future__ import annotations

import copy
import os
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bridge.runtime import Runtime
from bridge.service import make_importer, sync_store
from bridge.storage.migrate import upgrade
from bridge.storage.models import AmazonOrderRecord, Store
from bridge.storage.stores import create_store
from tests.conftest import bridge_settings

REFRESH_TOKEN_ENV = "AMAZON_REFRESH_TOKEN_TEST"  # noqa: S105 - a variable name
US = "ATVPDKIKX0DER"


@dataclass
class Bridge:
    runtime: Runtime
    magento: object  # RunningMagentoTwin
    amazon: object  # RunningAmazonTwin
    store_id: int
    outcomes: list = field(default_factory=list)

    # -- seeding ---------------------------------------------------------------------------------
    def add_products(self, products, *, qty: int = 100, store_code: str = "all") -> None:
        """(sku, name, price) tuples, created through Magento's REST API with stock in the default source."""
        session = self.magento.session()
        for sku, name, price in products:
            body = {"product": {"sku": sku, "name": name, "price": float(price), "status": 1, "type_id": "simple",
                                "attribute_set_id": 4, "visibility": 4, "weight": 1}}
            session.post(f"{self.magento.url}/rest/{store_code}/V1/products", json=body, timeout=30).raise_for_status()
        items = [{"sku": sku, "source_code": "default", "quantity": qty, "status": 1 if qty > 0 else 0}
                 for sku, _, _ in products]
        session.post(f"{self.magento.url}/rest/V1/inventory/source-items", json={"sourceItems": items},
                     timeout=30).raise_for_status()

    def seed_amazon(self, orders: list[dict]) -> None:
        """Put orders into the Amazon twin and let two minutes pass, so searchOrders lists them."""
        self.amazon.seed_orders(orders)
        self.amazon.advance_clock(180)

    # -- running -----------------------------------------------------------------------------------
    def sync(self, importer=None):
        """One in-process sync pass (`amazon-bridge sync --once`), importing due orders right here."""
        importer = importer or make_importer(self.runtime)

        def dispatch(ids):
            for amazon_order_id in ids:
                self.outcomes.append(importer.import_order(self.store_id, amazon_order_id))

        return sync_store(self.runtime, self.store_id, dispatch=dispatch, importer=importer)

    # -- reading -----------------------------------------------------------------------------------
    def record(self, amazon_order_id: str) -> AmazonOrderRecord:
        with self.runtime.db.session() as session:
            record = session.query(AmazonOrderRecord).filter_by(amazon_order_id=amazon_order_id).one()
            _ = record.events, record.items
            return record

    def magento_orders(self, **filters) -> list[dict]:
        """Every order in the Magento twin (or those matching field=value filters), over REST."""
        params = {"searchCriteria[pageSize]": 1000}
        for i, (name, value) in enumerate(filters.items()):
            params[f"searchCriteria[filter_groups][{i}][filters][0][field]"] = name
            params[f"searchCriteria[filter_groups][{i}][filters][0][value]"] = value
        response = self.magento.session().get(f"{self.magento.url}/rest/V1/orders", params=params, timeout=30)
        response.raise_for_status()
        return response.json()["items"]

    def magento_order(self, entity_id: int) -> dict:
        response = self.magento.session().get(f"{self.magento.url}/rest/V1/orders/{entity_id}", timeout=30)
        response.raise_for_status()
        return response.json()

    def set_settings(self, **values) -> None:
        with self.runtime.db.session() as session:
            settings = session.get(Store, self.store_id).order_settings
            for key, value in values.items():
                setattr(settings, key, value)


def make_bridge(*, database_url: str, redis_url: str, magento, amazon, monkeypatch, rate_scale: float = 1000.0,
                import_from: datetime | None = None) -> Bridge:
    settings = bridge_settings(database_url=database_url, redis_url=redis_url, magento_twin=magento,
                               amazon_twin=amazon)
    monkeypatch.setenv(REFRESH_TOKEN_ENV, amazon.refresh_token)
    runtime = Runtime(settings, amazon_rate_scale=rate_scale)
    runtime.redis.flushdb()
    upgrade(runtime.db.engine)
    with runtime.db.session() as session:
        store = create_store(
            session, code="us", name="US store", seller_id=amazon.seller_id, marketplace_id=US,
            refresh_token_env=REFRESH_TOKEN_ENV,
            import_from=import_from or datetime.now(UTC) - timedelta(days=400),
        )
        store.connected_at = import_from or datetime.now(UTC) - timedelta(days=30)
        store_id = store.id
    return Bridge(runtime, magento, amazon, store_id)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: str, currency: str = "USD") -> dict:
    return {"amount": amount, "currencyCode": currency}


def v2026_order(
    order_id: str,
    *,
    status: str = "UNSHIPPED",
    fulfilled_by: str = "MERCHANT",
    items: list[dict] | None = None,
    created: datetime | None = None,
    buyer_name: str = "Jane Doe",
    currency: str = "USD",
) -> dict:
    """A v2026 Order as Amazon returns it with BUYER, RECIPIENT, PROCEEDS, FULFILLMENT included."""
    created = created or datetime.now(UTC) - timedelta(days=1)
    items = items or [line("SKU-1", "Thing", "2", "10.00", tax="1.65", shipping="4.99")]
    total = sum((Decimal(i["proceeds"]["proceedsTotal"]["amount"]) for i in items), Decimal(0))
    shipped = status == "SHIPPED"
    for item in items:
        qty = item["quantityOrdered"]
        item["fulfillment"] = {"quantityFulfilled": qty if shipped else 0, "quantityUnfulfilled": 0 if shipped else qty}
    return {
        "orderId": order_id,
        "createdTime": iso(created),
        "lastUpdatedTime": iso(created),
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": US, "marketplaceName": "Amazon.com"},
        "buyer": {"buyerName": buyer_name, "buyerEmail": f"{order_id}@marketplace.amazon.com"},
        "recipient": {"deliveryAddress": {
            "name": buyer_name, "addressLine1": "2201 Westlake Ave", "city": "Seattle", "stateOrRegion": "WA",
            "postalCode": "98121", "countryCode": "US", "phone": "+1 206-555-0100", "addressType": "RESIDENTIAL",
        }},
        "proceeds": {"grandTotal": money(f"{total:.2f}", currency)},
        "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": fulfilled_by,
                        "fulfillmentServiceLevel": "STANDARD"},
        "orderItems": copy.deepcopy(items),
    }


def line(sku: str, title: str, qty: str, unit: str, *, tax: str = "0.00", shipping: str = "0.00",
         shipping_tax: str = "0.00", discount: str = "0.00", currency: str = "USD", item_id: str | None = None) -> dict:
    """One v2026 order item with its proceeds breakdown (discounts negative, as Amazon sends them)."""
    quantity = int(qty)
    item_total = Decimal(unit) * quantity
    breakdowns = [{"type": "ITEM", "subtotal": money(f"{item_total:.2f}", currency)}]
    total = item_total
    if Decimal(shipping):
        breakdowns.append({"type": "SHIPPING", "subtotal": money(shipping, currency)})
        total += Decimal(shipping)
    tax_total = Decimal(tax) + Decimal(shipping_tax)
    if tax_total:
        details = [{"subtype": "ITEM", "value": money(tax, currency)}]
        if Decimal(shipping_tax):
            details.append({"subtype": "SHIPPING", "value": money(shipping_tax, currency)})
        breakdowns.append({"type": "TAX", "subtotal": money(f"{tax_total:.2f}", currency),
                           "detailedBreakdowns": details})
        total += tax_total
    if Decimal(discount):
        breakdowns.append({"type": "DISCOUNT", "subtotal": money(f"-{discount}", currency),
                           "detailedBreakdowns": [{"subtype": "ITEM", "value": money(f"-{discount}", currency)}]})
        total -= Decimal(discount)
    return {
        "orderItemId": item_id or f"{zlib.crc32(f'{sku}|{title}|{qty}|{unit}'.encode()):014d}",
        "quantityOrdered": quantity,
        "product": {"asin": "B0" + sku.replace("-", "")[:8].upper().ljust(8, "0"), "title": title, "sellerSku": sku,
                    "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                    "price": {"unitPrice": money(unit, currency)}},
        "proceeds": {"proceedsTotal": money(f"{total:.2f}", currency), "breakdowns": breakdowns},
    }


class ProcessEnv:
    """Just enough of pytest's monkeypatch for `make_bridge` outside pytest (the benchmarks): sets variables
    in this process's environment for good."""

    def setenv(self, name: str, value: str) -> None:
        os.environ[name] = value
