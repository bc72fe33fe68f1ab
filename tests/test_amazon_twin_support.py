"""Helpers shared by the Amazon twin tests (no tests here)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import requests

from sandbox.amazon.testing import RunningAmazonTwin

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
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: str, currency: str = "USD") -> dict:
    return {"amount": amount, "currencyCode": currency}


def make_order(order_id: str, *, status: str = "UNSHIPPED", fulfilled_by: str = "MERCHANT",
               marketplace: str = US, created: datetime | None = None,
               items: list[tuple[str, int, str]] | None = None) -> dict:
    """A v2026 order; items are (orderItemId, quantity, unit price)."""
    created = created or datetime.now(UTC) - timedelta(hours=1)
    items = items or [("11111111111111", 2, "10.00"), ("22222222222222", 1, "5.50")]
    order_items = []
    for item_id, qty, price in items:
        total = f"{float(price) * qty:.2f}"
        shipped = qty if status == "SHIPPED" else 0
        order_items.append({
            "orderItemId": item_id, "quantityOrdered": qty,
            "product": {"asin": "B0TEST" + item_id[-4:], "title": f"Item {item_id}", "sellerSku": f"SKU-{item_id}",
                        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                        "price": {"unitPrice": money(price)}},
            "proceeds": {"proceedsTotal": money(total), "breakdowns": [{"type": "ITEM", "subtotal": money(total)}]},
            "fulfillment": {"quantityFulfilled": shipped, "quantityUnfulfilled": qty - shipped},
        })
    grand = f"{sum(float(i['proceeds']['proceedsTotal']['amount']) for i in order_items):.2f}"
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
    return {"marketplaceId": marketplace, "packageDetail": {
        "packageReferenceId": ref, "carrierCode": "UPS", "carrierName": "UPS", "shippingMethod": "Ground",
        "trackingNumber": tracking, "shipDate": ship_date, "orderItems": order_items}}
