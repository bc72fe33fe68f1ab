"""The order generator: reproducible, valid against the v2026 model, money that adds up exactly; plus
seeding, control endpoints, persistence and garbage input that must never produce a 500."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from sandbox.amazon.generator import MARKETPLACES, generate_catalog, generate_orders
from sandbox.amazon.testing import SpClient, make_order, start_amazon_twin

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MODEL = json.loads((Path(__file__).resolve().parents[1] / "sandbox" / "amazon" / "models" /
                    "orders_2026-01-01.json").read_text(encoding="utf-8"))


def _validate(value, schema, path="$"):
    """A small JSON-schema walk over the model's definitions: required keys, known properties, types."""
    if "$ref" in schema:
        schema = MODEL["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        assert isinstance(value, dict), path
        for key in schema.get("required", []):
            assert key in value, f"{path}.{key} is required"
        props = schema.get("properties", {})
        for key, item in value.items():
            assert key in props, f"{path}.{key} is not in the model"
            _validate(item, props[key], f"{path}.{key}")
    elif kind == "array":
        assert isinstance(value, list), path
        for index, item in enumerate(value):
            _validate(item, schema["items"], f"{path}[{index}]")
    elif kind == "string":
        assert isinstance(value, str), path
        if "enum" in schema:
            assert value in schema["enum"], f"{path}={value}"
        if schema.get("format") == "date-time":
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), path


@pytest.fixture(scope="module")
def orders():
    catalog = generate_catalog(7, 40)
    return generate_orders(400, 7, catalog, now=NOW, unknown_sku_rate=0.05)


def test_same_seed_same_orders(orders):
    catalog = generate_catalog(7, 40)
    assert generate_orders(400, 7, catalog, now=NOW, unknown_sku_rate=0.05) == orders
    assert generate_orders(400, 8, catalog, now=NOW) != orders
    assert generate_catalog(7, 40) == catalog


def test_orders_are_valid_against_the_model(orders):
    for order in orders:
        _validate(order, {"$ref": "#/definitions/Order"})


def test_grand_total_is_the_exact_sum_of_its_parts(orders):
    for order in orders:
        currency = order["proceeds"]["grandTotal"]["currencyCode"]
        grand = Decimal(order["proceeds"]["grandTotal"]["amount"])
        by_type: Counter = Counter()
        for item in order["orderItems"]:
            parts = item["proceeds"]["breakdowns"]
            total = Decimal(item["proceeds"]["proceedsTotal"]["amount"])
            assert total == sum(Decimal(b["subtotal"]["amount"]) for b in parts)
            unit = Decimal(item["product"]["price"]["unitPrice"]["amount"])
            item_part = next(b for b in parts if b["type"] == "ITEM")
            assert Decimal(item_part["subtotal"]["amount"]) == unit * item["quantityOrdered"]
            for b in parts:
                if "detailedBreakdowns" in b:
                    assert Decimal(b["subtotal"]["amount"]) == sum(Decimal(d["value"]["amount"])
                                                                   for d in b["detailedBreakdowns"])
                by_type[b["type"]] += Decimal(b["subtotal"]["amount"])
                assert b["subtotal"]["currencyCode"] == currency
        assert grand == sum(Decimal(b["subtotal"]["amount"]) for b in order["proceeds"]["breakdowns"])
        assert {b["type"]: Decimal(b["subtotal"]["amount"]) for b in order["proceeds"]["breakdowns"]} == by_type
        if currency == "JPY":
            amounts = re.findall(r'"amount": "([^"]*)"', json.dumps(order))
            assert amounts and all("." not in a for a in amounts)


def test_orders_are_varied(orders):
    statuses = Counter(o["fulfillment"]["fulfillmentStatus"] for o in orders)
    assert statuses["UNSHIPPED"] > statuses["PENDING"] > 0 and statuses["SHIPPED"] > statuses["CANCELLED"] > 0
    assert {o["proceeds"]["grandTotal"]["currencyCode"] for o in orders} == {"USD", "GBP", "EUR", "JPY"}
    assert {o["salesChannel"]["marketplaceId"] for o in orders} == {m.marketplace_id for m in MARKETPLACES.values()}
    fulfilled_by = Counter(o["fulfillment"]["fulfilledBy"] for o in orders)
    assert 0.1 < fulfilled_by["AMAZON"] / len(orders) < 0.3
    assert any(len(o["orderItems"]) >= 3 for o in orders)
    assert any("promotion" in i for o in orders for i in o["orderItems"])
    assert any(b["type"] == "SHIPPING" for o in orders for b in o["proceeds"]["breakdowns"])
    assert any(not o["buyer"]["buyerName"].isascii() for o in orders)
    assert any(i["product"]["sellerSku"].startswith("UNKNOWN-") for o in orders for i in o["orderItems"])
    assert all("recipient" not in o for o in orders if o["fulfillment"]["fulfillmentStatus"] == "PENDING")
    assert len({o["orderId"] for o in orders}) == len(orders)


# -- seeding, control, persistence, robustness ----------------------------------------------------------

def test_seed_endpoint_validates_and_upserts(tmp_path):
    data = tmp_path / "orders.json"
    twin = start_amazon_twin(data_path=str(data))
    try:
        url = twin.url + "/_sandbox/orders"
        assert requests.post(url, json={"not": "a list"}, timeout=10).status_code == 400
        assert requests.post(url, json=[{"orderId": "x"}], timeout=10).status_code == 400
        order = make_order("111-0000030-0000001")
        order["lastUpdatedTime"] = "2020-01-01T00:00:00Z"
        assert twin.seed_orders([order]) == 1
        assert twin.get_order("111-0000030-0000001")["lastUpdatedTime"] > "2026"
        twin.set_status("111-0000030-0000001", buyerCancelRequest="Ordered twice")
        moved = twin.set_status("111-0000030-0000001", "CANCELLED", cancelledBy="BUYER", reason="Ordered twice")
        assert moved["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
        item = moved["orderItems"][0]["cancellation"]
        assert item["cancellationRequest"]["requester"] == "BUYER"
        assert item["cancellationExecution"] == {"cancelledBy": "BUYER", "cancelReason": "Ordered twice"}
        assert requests.post(twin.url + "/_sandbox/orders/111-0000030-0000001/status", json={"status": "Gone"},
                             timeout=10).status_code == 400
        assert json.loads(data.read_text())[twin.seller_id][0]["orderId"] == "111-0000030-0000001"
    finally:
        twin.stop()
    again = start_amazon_twin(data_path=str(data))  # the data file survives a restart
    try:
        assert again.get_order("111-0000030-0000001")["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    finally:
        again.stop()


def test_afn_order_shipped_by_amazon(tmp_path):
    twin = start_amazon_twin()
    try:
        twin.seed_orders([make_order("111-0000031-0000001", fulfilled_by="AMAZON")])
        shipped = twin.set_status("111-0000031-0000001", "SHIPPED")
        assert shipped["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
        assert all(i["fulfillment"]["quantityUnfulfilled"] == 0 for i in shipped["orderItems"])
    finally:
        twin.stop()


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("GET", "/orders/v0/orders", {"params": {"NextToken": "%%%", "MarketplaceIds": "X"}}),
    ("GET", "/orders/v0/orders", {"params": {"CreatedAfter": "2026-13-45T99:00:00Z", "MarketplaceIds": "X"}}),
    ("GET", "/orders/2026-01-01/orders", {"params": {"createdAfter": "\x00", "maxResultsPerPage": "1e9"}}),
    ("GET", "/orders/2026-01-01/orders", {"params": {"paginationToken": "a.b.c"}}),
    ("POST", "/orders/v0/orders/111-0000000-0000001/shipmentConfirmation", {"data": b"\xff\xfe"}),
    ("POST", "/orders/v0/orders/111-0000000-0000001/shipmentConfirmation", {"json": [1, 2]}),
    ("POST", "/orders/v0/orders/111-0000000-0000001/shipmentConfirmation",
     {"json": {"marketplaceId": "X", "packageDetail": {"orderItems": "nope"}}}),
    ("POST", "/feeds/2021-06-30/feeds", {"data": b"{not json"}),
    ("POST", "/feeds/2021-06-30/feeds", {"json": {"feedType": 1, "marketplaceIds": "x", "inputFeedDocumentId": 2}}),
    ("POST", "/feeds/2021-06-30/documents", {"json": []}),
    ("GET", "/feeds/2021-06-30/feeds", {"params": {"feedTypes": "X", "pageSize": "-1"}}),
    ("GET", "/feeds/2021-06-30/feeds", {"params": {"feedTypes": "X", "createdSince": "never"}}),
    ("GET", "/feeds/2021-06-30/feeds", {"params": {"nextToken": "garbage"}}),
    ("GET", "/feeds/2021-06-30/documents/does-not-exist", {}),
    ("POST", "/auth/o2/token", {"data": b"\xff", "headers": {"Content-Type": "application/json"}}),
    ("POST", "/_sandbox/clock", {"json": {"advanceSeconds": -5}}),
    ("POST", "/_sandbox/faults", {"json": {"seed": "abc", "rate_500": "x"}}),
])
def test_garbage_never_gets_a_500(method, path, kwargs):
    twin = _GARBAGE_TWIN
    client = SpClient(twin)
    response = client.request(method, path, **kwargs)
    assert 400 <= response.status_code < 500, response.text
    assert "Traceback" not in response.text
    assert response.headers["x-amzn-RequestId"]


_GARBAGE_TWIN = None


@pytest.fixture(autouse=True, scope="module")
def _garbage_twin():
    global _GARBAGE_TWIN
    _GARBAGE_TWIN = start_amazon_twin(rate_scale=1000)
    yield
    _GARBAGE_TWIN.stop()
