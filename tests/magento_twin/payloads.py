"""Helpers for the Magento twin tests: payloads ported from Magento's api-functional fixtures, a tiny client.

Magento's tests load fixtures (`Magento/Sales/_files/order.php`, ...) server-side; here the same
orders are created through the API first.
"""

from __future__ import annotations

import copy
from typing import Any

import requests

from sandbox.magento.testing import RunningMagentoTwin


class Api:
    """`api.get("/orders/1")` → requests.Response, signed with OAuth 1.0a HMAC-SHA256."""

    def __init__(self, twin: RunningMagentoTwin, prefix: str = "/rest/V1"):
        self.twin = twin
        self.base = twin.url + prefix
        self.session = twin.session()

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=30, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.session.put(self.base + path, json=body, timeout=30, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.session.delete(self.base + path, timeout=30, **kw)

    def ok(self, resp: requests.Response) -> Any:
        assert resp.status_code == 200, resp.text
        return resp.json()


def address(address_type: str = "billing", **over: Any) -> dict[str, Any]:
    a = {
        "city": "City", "postcode": "12345", "lastname": "Last Name", "firstname": "First Name",
        "telephone": "+00(000)-123-45-57", "street": ["Street"], "country_id": "US", "region": "California",
        "address_type": address_type, "region_id": 12, "email": "customer@example.com",
    }
    a.update(over)
    return a


def item(sku: str = "simple", qty: float = 2, price: float = 10, **over: Any) -> dict[str, Any]:
    i = {
        "sku": sku, "name": f"Product {sku}", "product_id": 1, "product_type": "simple", "qty_ordered": qty,
        "price": price, "base_price": price, "row_total": price * qty, "base_row_total": price * qty,
        "original_price": price, "weight": 1, "tax_amount": 0, "base_tax_amount": 0,
    }
    i.update(over)
    return i


def order(increment_id: str | None = None, *, items: list[dict[str, Any]] | None = None, state: str = "processing",
          status: str | None = None, shipping: float = 0, payment_method: str = "checkmo",
          **over: Any) -> dict[str, Any]:
    """Like `Magento/Sales/_files/order.php`: a processing order paid with check/money order, shipping address."""
    items = items if items is not None else [item()]
    subtotal = sum(i["row_total"] for i in items)
    o = {
        "increment_id": increment_id, "state": state, "status": status or state, "store_id": 1,
        "customer_email": "customer@null.com", "customer_firstname": "First Name", "customer_lastname": "Last Name",
        "customer_is_guest": 1, "base_currency_code": "USD", "global_currency_code": "USD",
        "order_currency_code": "USD", "store_currency_code": "USD", "subtotal": subtotal, "base_subtotal": subtotal,
        "shipping_amount": shipping, "base_shipping_amount": shipping, "grand_total": subtotal + shipping,
        "base_grand_total": subtotal + shipping, "tax_amount": 0, "base_tax_amount": 0,
        "total_qty_ordered": sum(i["qty_ordered"] for i in items), "is_virtual": 0,
        "shipping_description": "Flat Rate - Fixed", "weight": 1,
        "items": items, "billing_address": address("billing"),
        "payment": {"method": payment_method, "additional_information": []},
        "extension_attributes": {"shipping_assignments": [
            {"shipping": {"address": address("shipping"), "method": "flatrate_flatrate"}, "items": []},
        ]},
    }
    o.update(over)
    if o.get("increment_id") is None:
        del o["increment_id"]
    return o


def create(api: Api, entity: dict[str, Any]) -> dict[str, Any]:
    return api.ok(api.put("/orders/create", {"entity": copy.deepcopy(entity)}))


def validation_valid_payload() -> dict[str, Any]:
    """OrderCreationValidationTest's valid payload (magento-rest-contract.md §3.1)."""
    return {"entity": {
        "base_currency_code": "USD", "base_discount_amount": 0, "base_grand_total": 25.00, "base_subtotal": 25.00,
        "base_tax_amount": 0, "base_total_due": 25.00,
        "billing_address": {"address_type": "billing", "city": "TestCity", "country_id": "US",
                            "email": "test@example.com", "firstname": "John", "lastname": "Doe",
                            "postcode": "12345", "region": "California", "region_code": "CA", "region_id": 12,
                            "street": ["123 Test Street"], "telephone": "555-1234"},
        "customer_email": "test@example.com", "customer_firstname": "John", "customer_lastname": "Doe",
        "customer_is_guest": 1, "discount_amount": 0, "global_currency_code": "USD", "grand_total": 25.00,
        "is_virtual": 0, "order_currency_code": "USD", "state": "new", "status": "pending",
        "store_currency_code": "USD", "store_id": 1, "subtotal": 25.00, "tax_amount": 0, "total_due": 25.00,
        "total_item_count": 1, "total_qty_ordered": 1, "weight": 1,
        "items": [{"base_price": 25, "base_row_total": 25, "name": "Simple Test", "price": 25, "product_id": 1,
                   "product_type": "simple", "qty_ordered": 1, "row_total": 25, "sku": "simple-test",
                   "store_id": 1, "weight": 1}],
        "payment": {"method": "cashondelivery", "amount_ordered": 25.00, "base_amount_ordered": 25.00},
    }}


def criteria(groups: list[list[tuple[str, Any, str]]], sort: list[tuple[str, str]] | None = None,
             page_size: int | None = None, current_page: int | None = None) -> dict[str, Any]:
    """searchCriteria as query parameters (the way http_build_query renders Magento's test arrays)."""
    q: dict[str, Any] = {}
    for g, filters in enumerate(groups):
        for f, (field, value, cond) in enumerate(filters):
            pre = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            q[f"{pre}[field]"] = field
            q[f"{pre}[value]"] = value
            q[f"{pre}[condition_type]"] = cond
    for n, (field, direction) in enumerate(sort or []):
        q[f"searchCriteria[sort_orders][{n}][field]"] = field
        q[f"searchCriteria[sort_orders][{n}][direction]"] = direction
    if page_size is not None:
        q["searchCriteria[page_size]"] = page_size
    if current_page is not None:
        q["searchCriteria[current_page]"] = current_page
    if not q:
        q["searchCriteria"] = ""
    return q
