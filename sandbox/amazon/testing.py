"""Run an Amazon twin on a real socket for tests, the demo and benchmarks (no pytest here), plus small
helpers to talk to it over raw HTTP and to build sample orders."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from sandbox.server import ServerThread

from .app import create_app
from .config import AmazonTwinConfig


class RunningAmazonTwin:
    """A started twin: `url` is the SP-API endpoint, `lwa_url` the LWA token URL."""

    def __init__(self, config: AmazonTwinConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.app = create_app(config)
        self.server = ServerThread(self.app, host=host, port=port).start()
        self.url = self.server.url
        self.lwa_url = f"{self.url}/auth/o2/token"
        self._http = requests.Session()

    @property
    def refresh_token(self) -> str:
        return next(iter(self.config.refresh_tokens))

    @property
    def seller_id(self) -> str:
        return self.config.default_seller_id

    def _post(self, path: str, body: Any, **params: Any) -> Any:
        response = self._http.post(f"{self.url}{path}", json=body, params=params or None, timeout=30)
        response.raise_for_status()
        return response.json()

    def seed_orders(self, orders: list[dict], *, seller_id: str | None = None,
                    keep_last_updated: bool = False) -> int:
        """Upsert v2026 Order dicts (lastUpdatedTime becomes the twin's now unless kept)."""
        params: dict[str, str] = {}
        if seller_id:
            params["sellerId"] = seller_id
        if keep_last_updated:
            params["keepLastUpdated"] = "true"
        return self._post("/_sandbox/orders", orders, **params)["upserted"]

    def load_orders(self, orders: Iterable[dict], *, seller_id: str | None = None) -> int:
        """Put orders straight into this in-process twin as they are (lastUpdatedTime kept): no HTTP, no copy,
        so a benchmark can load 100,000 generated orders in seconds. The dicts belong to the twin afterwards."""
        state = self.app.extensions["amazon_twin"]
        loaded = 0
        with state.lock:
            bucket = state.seller_orders(seller_id or self.seller_id)
            for order in orders:
                bucket[order["orderId"]] = order
                loaded += 1
        return loaded

    def set_status(self, order_id: str, status: str | None = None, **fields: Any) -> dict:
        """Move an order, e.g. set_status(id, "CANCELLED", cancelledBy="BUYER", reason="...") or
        set_status(id, buyerCancelRequest="Changed my mind")."""
        body = dict(fields)
        if status is not None:
            body["status"] = status
        return self._post(f"/_sandbox/orders/{order_id}/status", body)

    def get_order(self, order_id: str) -> dict:
        response = self._http.get(f"{self.url}/_sandbox/orders/{order_id}", timeout=30)
        response.raise_for_status()
        return response.json()

    def advance_clock(self, seconds: float) -> str:
        return self._post("/_sandbox/clock", {"advanceSeconds": seconds})["now"]

    def set_faults(self, **settings: Any) -> dict:
        return self._post("/_sandbox/faults", settings)

    def stats(self) -> dict:
        return self._http.get(f"{self.url}/_sandbox/stats", timeout=30).json()

    def adjustments(self) -> list[dict]:
        return self._http.get(f"{self.url}/_sandbox/adjustments", timeout=30).json()["adjustments"]

    def reset(self) -> None:
        self._post("/_sandbox/reset", {})

    def stop(self) -> None:
        self._http.close()
        self.server.stop()

    def __enter__(self) -> RunningAmazonTwin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_amazon_twin(config: AmazonTwinConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                      **config_overrides: Any) -> RunningAmazonTwin:
    """Start a twin; keyword arguments override AmazonTwinConfig fields (rate_scale=100, seed=7, ...)."""
    config = replace(config or AmazonTwinConfig(), **config_overrides)
    return RunningAmazonTwin(config, host=host, port=port)


# -- raw HTTP helpers ------------------------------------------------------------------------------------

US = "ATVPDKIKX0DER"



class SpClient:
    """A raw HTTP client for the twin: LWA token, then calls with x-amz-access-token."""

    def __init__(self, twin: RunningAmazonTwin, refresh_token: str | None = None) -> None:
        self.twin = twin
        self.http = requests.Session()
        self.refresh_token = refresh_token or twin.refresh_token
        self._token: str | None = None

    @property
    def token(self) -> str:
        if self._token is None:
            response = self.http.post(self.twin.lwa_url, data={
                "grant_type": "refresh_token", "refresh_token": self.refresh_token,
                "client_id": self.twin.config.client_id, "client_secret": self.twin.config.client_secret,
            }, timeout=10)
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        headers.setdefault("x-amz-access-token", self.token)
        return self.http.request(method, self.twin.url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **params) -> requests.Response:
        return self.request("GET", path, params=params)

    def post(self, path: str, body) -> requests.Response:
        return self.request("POST", path, json=body)


def iso(dt: datetime) -> str:
    """UTC ISO 8601 with a Z suffix, whole seconds."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: str, currency: str = "USD") -> dict:
    """v2026 Money with a string amount, as Amazon writes it."""
    return {"amount": amount, "currencyCode": currency}


def make_order(order_id: str, *, status: str = "UNSHIPPED", fulfilled_by: str = "MERCHANT",
               marketplace: str = US, created: datetime | None = None,
               items: list[tuple[str, int, str]] | None = None) -> dict:
    """A v2026 order; items are (orderItemId, quantity, unit price)."""
    created = created or datetime.now(UTC) - timedelta(hours=1)
    items = items or [("11111111111111", 2, "10.00"), ("22222222222222", 1, "5.50")]
    order_items = []
    for item_id, qty, price in items:
        total = str(Decimal(price) * qty)
        shipped = qty if status == "SHIPPED" else 0
        order_items.append({
            "orderItemId": item_id, "quantityOrdered": qty,
            "product": {"asin": "B0TEST" + item_id[-4:], "title": f"Item {item_id}", "sellerSku": f"SKU-{item_id}",
                        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                        "price": {"unitPrice": money(price)}},
            "proceeds": {"proceedsTotal": money(total), "breakdowns": [{"type": "ITEM", "subtotal": money(total)}]},
            "fulfillment": {"quantityFulfilled": shipped, "quantityUnfulfilled": qty - shipped},
        })
    grand = str(sum((Decimal(i["proceeds"]["proceedsTotal"]["amount"]) for i in order_items), Decimal("0")))
    return copy.deepcopy({
        "orderId": order_id, "createdTime": iso(created), "lastUpdatedTime": iso(created),
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": marketplace, "marketplaceName": "Amazon.com"},
        "buyer": {"buyerName": "Zoë Tester", "buyerEmail": "zoe@marketplace.amazon.com"},
        "recipient": {"deliveryAddress": {"name": "Zoë Tester", "addressLine1": "1 Main St", "city": "Seattle",
                                          "stateOrRegion": "WA", "postalCode": "98101", "countryCode": "US"}},
        "proceeds": {"grandTotal": money(grand), "breakdowns": [{"type": "ITEM", "subtotal": money(grand)}]},
        "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": fulfilled_by,
                        "fulfillmentServiceLevel": "STANDARD"},
        "orderItems": order_items,
    })


def shipment(order_items: list[dict], *, ship_date: str = "2026-01-02T03:04:05Z", ref: str = "1",
             marketplace: str = US, tracking: str = "1Z999") -> dict:
    """A v0 confirmShipment request body for `order_items` ([{"orderItemId", "quantity"}])."""
    return {"marketplaceId": marketplace, "packageDetail": {
        "packageReferenceId": ref, "carrierCode": "UPS", "carrierName": "UPS", "shippingMethod": "Ground",
        "trackingNumber": tracking, "shipDate": ship_date, "orderItems": order_items}}
