"""Amazon twin over real HTTP: LWA, access tokens, Orders v2026-01-01 and v0, confirmShipment."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import requests

from sandbox.amazon.generator import generate_catalog, generate_orders
from sandbox.amazon.testing import US, SpClient, iso, make_order, shipment, start_amazon_twin

UNAUTHORIZED_MESSAGE = "Access to requested resource is denied."


@pytest.fixture(scope="module")
def shared_twin():
    running = start_amazon_twin(rate_scale=1000)
    yield running
    running.stop()


@pytest.fixture
def twin(shared_twin):
    shared_twin.reset()  # orders, feeds, clock, buckets and faults back to the start
    return shared_twin


@pytest.fixture
def client(twin):
    return SpClient(twin)


def lwa(twin, **form):
    data = {"grant_type": "refresh_token", "refresh_token": twin.refresh_token,
            "client_id": twin.config.client_id, "client_secret": twin.config.client_secret}
    data.update(form)
    return requests.post(twin.lwa_url, data={k: v for k, v in data.items() if v is not None}, timeout=10)


# -- LWA and access tokens ------------------------------------------------------------------------------

def test_lwa_refresh_token_grant_returns_bearer_token(twin):
    response = lwa(twin)
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"].startswith("Atza|")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"] == twin.refresh_token
    assert response.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(("form", "status", "error"), [
    ({"client_secret": "wrong"}, 401, "invalid_client"),
    ({"client_id": "amzn1.application-oa2-client.other"}, 401, "invalid_client"),
    ({"refresh_token": "Atzr|unknown"}, 400, "invalid_grant"),
    ({"refresh_token": None}, 400, "invalid_request"),
    ({"grant_type": None}, 400, "invalid_request"),
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ({"grant_type": "client_credentials", "refresh_token": None}, 400, "invalid_request"),
    ({"grant_type": "client_credentials", "refresh_token": None, "scope": "sellingpartnerapi::bogus"}, 400,
     "invalid_scope"),
])
def test_lwa_errors(twin, form, status, error):
    response = lwa(twin, **form)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    assert "access_token" not in body


def test_grantless_token_cannot_read_orders(twin):
    response = lwa(twin, grant_type="client_credentials", refresh_token=None,
                   scope="sellingpartnerapi::notifications")
    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    token = response.json()["access_token"]
    r = requests.get(twin.url + "/orders/2026-01-01/orders/111-1111111-1111111",
                     headers={"x-amz-access-token": token}, timeout=10)
    assert r.status_code == 403


@pytest.mark.parametrize("token", [None, "Atza|not-issued-by-the-twin"])
def test_missing_or_unknown_token_is_403_unauthorized(twin, token):
    headers = {"x-amz-access-token": token} if token else {}
    r = requests.get(twin.url + "/orders/2026-01-01/orders", params={"createdAfter": "2026-01-01T00:00:00Z"},
                     headers=headers, timeout=10)
    assert r.status_code == 403
    error = r.json()["errors"][0]
    assert error["code"] == "Unauthorized"
    assert error["message"] == UNAUTHORIZED_MESSAGE
    assert "x-amzn-RateLimit-Limit" not in r.headers
    assert r.headers["x-amzn-RequestId"]


def test_missing_token_body_is_amazons_exactly(twin):
    r = requests.get(twin.url + "/orders/v0/orders/111-1111111-1111111", timeout=10)
    assert r.json() == {"errors": [{"code": "Unauthorized", "message": UNAUTHORIZED_MESSAGE, "details": ""}]}


def test_access_token_expires_after_an_hour(twin, client):
    path = "/orders/2026-01-01/orders/111-1111111-1111111"
    assert client.get(path).status_code == 404
    twin.advance_clock(3601)
    r = client.get(path)
    assert r.status_code == 403
    assert r.json() == {"errors": [{"code": "Unauthorized", "message": UNAUTHORIZED_MESSAGE, "details": ""}]}


# -- searchOrders ---------------------------------------------------------------------------------------

def search(client, **params):
    return client.get("/orders/2026-01-01/orders", **params)


@pytest.mark.parametrize("params", [
    {"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedAfter": "2026-01-01T00:00:00Z"},
    {},
    {"marketplaceIds": US},
    {"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedBefore": "2026-01-02T00:00:00Z"},
    {"lastUpdatedAfter": "2026-01-01T00:00:00Z", "createdBefore": "2026-01-02T00:00:00Z"},
    {"createdAfter": "2026-01-02T00:00:00Z", "createdBefore": "2026-01-01T00:00:00Z"},
    {"createdAfter": "yesterday"},
    {"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "0"},
    {"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "101"},
    {"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "ten"},
    {"createdAfter": "2026-01-01T00:00:00Z", "fulfillmentStatuses": "Unshipped"},
    {"createdAfter": "2026-01-01T00:00:00Z", "fulfilledBy": "SELLER"},
    {"createdAfter": "2026-01-01T00:00:00Z", "includedData": "BUYER,EVERYTHING"},
    {"createdAfter": "2026-01-01T00:00:00Z", "paginationToken": "not-a-token"},
])
def test_search_orders_invalid_input(client, params):
    r = search(client, **params)
    assert r.status_code == 400
    error = r.json()["errors"][0]
    assert error["code"] == "InvalidInput"
    assert error["message"]
    assert r.headers["x-amzn-RateLimit-Limit"]


def test_before_must_be_two_minutes_in_the_past(twin, client):
    now = datetime.now(UTC)
    r = search(client, createdAfter=iso(now - timedelta(days=1)), createdBefore=iso(now - timedelta(seconds=60)))
    assert r.status_code == 400
    assert "at least 2 minutes before current time" in r.json()["errors"][0]["message"]
    ok = search(client, createdAfter=iso(now - timedelta(days=1)), createdBefore=iso(now - timedelta(minutes=3)))
    assert ok.status_code == 200
    assert ok.json()["createdBefore"] == iso(now - timedelta(minutes=3))
    too_recent = search(client, lastUpdatedAfter=iso(now - timedelta(seconds=30)))
    assert too_recent.status_code == 400
    assert "2 minutes" in too_recent.json()["errors"][0]["message"]


def test_default_before_is_echoed_two_minutes_before_now(client):
    r = search(client, createdAfter="2026-01-01T00:00:00Z")
    assert r.status_code == 200
    echoed = datetime.fromisoformat(r.json()["createdBefore"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - timedelta(minutes=2) - echoed).total_seconds()) < 5
    assert "lastUpdatedBefore" not in r.json()
    r = search(client, lastUpdatedAfter="2026-01-01T00:00:00Z")
    assert "lastUpdatedBefore" in r.json() and "createdBefore" not in r.json()


def test_last_updated_orders_appear_only_after_two_minutes(twin, client):
    twin.seed_orders([make_order("111-0000001-0000001")])
    since = iso(datetime.now(UTC) - timedelta(minutes=10))
    assert search(client, lastUpdatedAfter=since).json()["orders"] == []
    twin.advance_clock(150)
    orders = search(client, lastUpdatedAfter=since).json()["orders"]
    assert [o["orderId"] for o in orders] == ["111-0000001-0000001"]


def test_pagination_is_stable_and_carries_the_query(twin, client):
    base = datetime.now(UTC) - timedelta(hours=5)
    twin.seed_orders([make_order(f"111-0000000-{i:07d}", created=base + timedelta(minutes=i)) for i in range(25)])
    since = iso(base - timedelta(minutes=1))
    first = search(client, createdAfter=since, maxResultsPerPage="10").json()
    assert len(first["orders"]) == 10
    token = first["pagination"]["nextToken"]
    # Orders created while paging fall outside the pinned window and never shift the pages.
    twin.seed_orders([make_order("111-9999999-0000000", created=datetime.now(UTC) - timedelta(seconds=30))])
    second = search(client, createdAfter=since, maxResultsPerPage="10", paginationToken=token,
                    includedData="BUYER").json()
    assert "buyer" in second["orders"][0]
    third = search(client, paginationToken=second["pagination"]["nextToken"], maxResultsPerPage="10").json()
    assert "pagination" not in third
    ids = [o["orderId"] for page in (first, second, third) for o in page["orders"]]
    assert ids == [f"111-0000000-{i:07d}" for i in range(25)]
    assert first["createdBefore"] == second["createdBefore"] == third["createdBefore"]
    # A token only works with the query that made it, is tamper-proof and expires after 24 hours.
    other = search(client, createdAfter=iso(base), paginationToken=token)
    assert other.status_code == 400
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert search(client, paginationToken=tampered).status_code == 400
    body = token.split(".")[0]
    assert b"111-0000000" in base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))  # carries the cursor
    twin.advance_clock(24 * 3600 + 1)
    fresh = SpClient(twin)
    expired = search(fresh, paginationToken=token)
    assert expired.status_code == 400


def test_pages_follow_orders_changed_between_requests(twin, client):
    """searchOrders keeps its orders indexed between pages (bench/memory.py pages through 100,000); an order
    updated, re-seeded or moved out of the window since the last page is read as it is now."""
    base = datetime.now(UTC) - timedelta(hours=5)
    twin.seed_orders([make_order(f"111-0000010-{i:07d}", created=base + timedelta(minutes=i)) for i in range(12)],
                     keep_last_updated=True)
    since = iso(base - timedelta(minutes=1))

    def next_page(token=None):
        params = {"paginationToken": token} if token else {"lastUpdatedAfter": since}
        body = search(client, maxResultsPerPage="3", includedData="FULFILLMENT", **params).json()
        return ({o["orderId"][-2:]: o["fulfillment"]["fulfillmentStatus"] for o in body["orders"]},
                body.get("pagination", {}).get("nextToken"))

    first, token = next_page()
    assert list(first) == ["00", "01", "02"]
    # 2 (read already) and 7 are updated now, after the window the token pinned; 11 moves before it.
    twin.set_status("111-0000010-0000002", "CANCELLED", cancelledBy="BUYER", reason="x")
    twin.set_status("111-0000010-0000007", "SHIPPED")
    twin.seed_orders([make_order("111-0000010-0000011", created=base - timedelta(days=2))], keep_last_updated=True)
    second, token = next_page(token)
    assert list(second) == ["03", "04", "05"]
    # Re-seeded with the same id and times: the next page shows the new copy, not the one indexed before.
    twin.seed_orders([make_order("111-0000010-0000008", status="SHIPPED", created=base + timedelta(minutes=8))],
                     keep_last_updated=True)
    third, token = next_page(token)
    assert third == {"06": "UNSHIPPED", "08": "SHIPPED", "09": "UNSHIPPED"}
    last, token = next_page(token)
    assert (list(last), token) == (["10"], None)


def test_included_data_returns_only_requested_blocks(twin, client):
    order = make_order("111-0000002-0000002")
    order["orderItems"][0]["cancellation"] = {"cancellationRequest": {"requester": "BUYER", "cancelReason": "x"}}
    twin.seed_orders([order])
    since = iso(datetime.now(UTC) - timedelta(days=1))
    bare = search(client, createdAfter=since).json()["orders"][0]
    assert set(bare) == {"orderId", "createdTime", "lastUpdatedTime", "salesChannel", "orderItems"}
    assert set(bare["orderItems"][0]) == {"orderItemId", "quantityOrdered", "product"}
    full = search(client, createdAfter=since, includedData="BUYER,PROCEEDS,FULFILLMENT,CANCELLATION").json()
    got = full["orders"][0]
    assert {"buyer", "proceeds", "fulfillment"} <= set(got) and "recipient" not in got
    assert {"proceeds", "fulfillment", "cancellation"} <= set(got["orderItems"][0])
    assert list(got)[:3] == ["orderId", "createdTime", "lastUpdatedTime"]


def test_filters(twin, client):
    twin.seed_orders([
        make_order("111-0000003-0000001", status="UNSHIPPED"),
        make_order("111-0000003-0000002", status="SHIPPED", fulfilled_by="AMAZON"),
        make_order("202-0000003-0000003", status="UNSHIPPED", marketplace="A1F83G8C2ARO7P"),
    ])
    since = iso(datetime.now(UTC) - timedelta(days=1))

    def ids(**params):
        return sorted(o["orderId"] for o in search(client, createdAfter=since, **params).json()["orders"])

    assert ids(fulfillmentStatuses="UNSHIPPED") == ["111-0000003-0000001", "202-0000003-0000003"]
    assert ids(fulfilledBy="AMAZON") == ["111-0000003-0000002"]
    assert ids(marketplaceIds="A1F83G8C2ARO7P") == ["202-0000003-0000003"]
    assert ids(marketplaceIds=US, fulfillmentStatuses="UNSHIPPED,SHIPPED") == [
        "111-0000003-0000001", "111-0000003-0000002"]


def test_get_order(twin, client):
    twin.seed_orders([make_order("111-0000004-0000004")])
    r = client.get("/orders/2026-01-01/orders/111-0000004-0000004", includedData="RECIPIENT")
    assert r.status_code == 200
    order = r.json()["order"]
    assert order["recipient"]["deliveryAddress"]["name"] == "Zoë Tester"
    assert "buyer" not in order
    assert r.headers["x-amzn-RateLimit-Limit"] == "500"  # 0.5 r/s × rate_scale 1000
    missing = client.get("/orders/2026-01-01/orders/111-0000000-0009999")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NotFound"
    assert client.get("/orders/2026-01-01/orders/not-an-order").status_code == 400


def test_generated_orders_round_trip_through_search(twin, client):
    catalog = generate_catalog(3, 20)
    orders = generate_orders(60, 3, catalog, now=datetime.now(UTC))
    twin.seed_orders(orders)
    found = search(client, createdAfter=iso(datetime.now(UTC) - timedelta(days=4)),
                   includedData="PROCEEDS,BUYER,RECIPIENT,FULFILLMENT,PACKAGES,PROMOTION,TAX").json()["orders"]
    assert sorted(o["orderId"] for o in found) == sorted(o["orderId"] for o in orders)
    by_id = {o["orderId"]: o for o in orders}
    for order in found:
        assert order["proceeds"] == by_id[order["orderId"]]["proceeds"]
        assert order["orderItems"][0]["product"] == by_id[order["orderId"]]["orderItems"][0]["product"]


# -- v0 reads -------------------------------------------------------------------------------------------

def test_v0_get_orders_uses_v0_names_and_statuses(twin, client):
    twin.seed_orders([make_order("111-0000005-0000001", status="UNSHIPPED"),
                      make_order("111-0000005-0000002", status="CANCELLED"),
                      make_order("111-0000005-0000003", status="SHIPPED", fulfilled_by="AMAZON")])
    since = iso(datetime.now(UTC) - timedelta(days=1))
    assert client.get("/orders/v0/orders", CreatedAfter=since).status_code == 400  # MarketplaceIds required
    r = client.get("/orders/v0/orders", CreatedAfter=since, MarketplaceIds=US, MaxResultsPerPage="2")
    assert r.status_code == 200
    payload = r.json()["payload"]
    assert len(payload["Orders"]) == 2 and payload["NextToken"] and payload["CreatedBefore"]
    rest = client.get("/orders/v0/orders", NextToken=payload["NextToken"], MarketplaceIds=US).json()["payload"]
    orders = {o["AmazonOrderId"]: o for o in payload["Orders"] + rest["Orders"]}
    assert orders["111-0000005-0000001"]["OrderStatus"] == "Unshipped"
    assert orders["111-0000005-0000002"]["OrderStatus"] == "Canceled"
    assert orders["111-0000005-0000003"]["FulfillmentChannel"] == "AFN"
    assert orders["111-0000005-0000001"]["OrderTotal"] == {"CurrencyCode": "USD", "Amount": "25.50"}
    assert orders["111-0000005-0000001"]["NumberOfItemsUnshipped"] == 3
    canceled = client.get("/orders/v0/orders", CreatedAfter=since, MarketplaceIds=US,
                          OrderStatuses="Canceled").json()["payload"]["Orders"]
    assert [o["AmazonOrderId"] for o in canceled] == ["111-0000005-0000002"]
    afn = client.get("/orders/v0/orders", CreatedAfter=since, MarketplaceIds=US,
                     FulfillmentChannels="AFN").json()["payload"]["Orders"]
    assert [o["AmazonOrderId"] for o in afn] == ["111-0000005-0000003"]


def test_v0_order_items_and_address(twin, client):
    catalog = generate_catalog(9, 10)
    order = next(o for o in generate_orders(80, 9, catalog, marketplaces=["US"])
                 if o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
                 and any("DISCOUNT" in {b["type"] for b in i["proceeds"]["breakdowns"]} for i in o["orderItems"]))
    twin.seed_orders([order])
    items = client.get(f"/orders/v0/orders/{order['orderId']}/orderItems").json()["payload"]
    assert items["AmazonOrderId"] == order["orderId"]
    for v0_item, item in zip(items["OrderItems"], order["orderItems"], strict=True):
        parts = {b["type"]: b for b in item["proceeds"]["breakdowns"]}
        assert v0_item["OrderItemId"] == item["orderItemId"]
        assert v0_item["SellerSKU"] == item["product"]["sellerSku"]
        assert v0_item["ItemPrice"]["Amount"] == parts["ITEM"]["subtotal"]["amount"]
        tax_item = next(d for d in parts["TAX"]["detailedBreakdowns"] if d["subtype"] == "ITEM")
        assert v0_item["ItemTax"]["Amount"] == tax_item["value"]["amount"]
        if "DISCOUNT" in parts:
            item_discount = [d for d in parts["DISCOUNT"]["detailedBreakdowns"] if d["subtype"] == "ITEM"]
            if item_discount:
                assert v0_item["PromotionDiscount"]["Amount"] == item_discount[0]["value"]["amount"].lstrip("-")
    address = client.get(f"/orders/v0/orders/{order['orderId']}/address").json()["payload"]
    assert address["ShippingAddress"]["CountryCode"] == "US"
    assert "Name" not in address["ShippingAddress"]  # restricted without an RDT
    v0_order = client.get(f"/orders/v0/orders/{order['orderId']}").json()["payload"]
    assert v0_order["OrderTotal"]["Amount"] == order["proceeds"]["grandTotal"]["amount"]


def test_v0_pending_order_items_omit_pricing(twin, client):
    twin.seed_orders([make_order("111-0000006-0000006", status="PENDING")])
    item = client.get("/orders/v0/orders/111-0000006-0000006/orderItems").json()["payload"]["OrderItems"][0]
    assert "ItemPrice" not in item and "ItemTax" not in item
    order = client.get("/orders/v0/orders/111-0000006-0000006").json()["payload"]
    assert order["OrderStatus"] == "Pending" and "OrderTotal" not in order


# -- confirmShipment ------------------------------------------------------------------------------------

def confirm(client, order_id, body):
    return client.post(f"/orders/v0/orders/{order_id}/shipmentConfirmation", body)


def test_confirm_shipment_moves_order_to_partially_shipped_then_shipped(twin, client):
    twin.seed_orders([make_order("111-0000007-0000007")])
    before = twin.get_order("111-0000007-0000007")["lastUpdatedTime"]
    twin.advance_clock(5)
    r = confirm(client, "111-0000007-0000007", shipment([{"orderItemId": "11111111111111", "quantity": 1}]))
    assert r.status_code == 204 and r.content == b""
    order = twin.get_order("111-0000007-0000007")
    assert order["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
    assert order["lastUpdatedTime"] > before
    assert order["packages"][0]["trackingNumber"] == "1Z999"
    assert order["packages"][0]["packageItems"] == [{"orderItemId": "11111111111111", "quantity": 1}]
    v0 = client.get("/orders/v0/orders/111-0000007-0000007").json()["payload"]
    assert v0["OrderStatus"] == "PartiallyShipped" and v0["NumberOfItemsShipped"] == 1
    r = confirm(client, "111-0000007-0000007", shipment([{"orderItemId": "11111111111111", "quantity": 1},
                                                        {"orderItemId": "22222222222222", "quantity": 1}], ref="2"))
    assert r.status_code == 204
    order = twin.get_order("111-0000007-0000007")
    assert order["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert [i["fulfillment"]["quantityUnfulfilled"] for i in order["orderItems"]] == [0, 0]
    # Re-sending package 2 edits its details and ships nothing twice.
    r = confirm(client, "111-0000007-0000007", shipment([{"orderItemId": "22222222222222", "quantity": 1}],
                                                        ref="2", tracking="NEW-TRACKING"))
    assert r.status_code == 204
    order = twin.get_order("111-0000007-0000007")
    assert [p["trackingNumber"] for p in order["packages"]] == ["1Z999", "NEW-TRACKING"]
    assert [i["fulfillment"]["quantityFulfilled"] for i in order["orderItems"]] == [2, 1]


@pytest.mark.parametrize(("order_id", "body", "status", "fragment"), [
    ("111-0000008-0000008", shipment([{"orderItemId": "11111111111111", "quantity": 1}], ship_date="02/21/2022"),
     400, "shipDate"),
    ("111-0000008-0000008", shipment([{"orderItemId": "99999999999999", "quantity": 1}]), 400,
     "OrderItemId is invalid"),
    ("111-0000008-0000008", shipment([{"orderItemId": "22222222222222", "quantity": 2}]), 400, "exceeds"),
    ("111-0000008-0000008", shipment([{"orderItemId": "11111111111111", "quantity": 0}]), 400, "positive"),
    ("111-0000008-0000008", shipment([]), 400, "at least one"),
    ("111-0000008-0000008", shipment([{"orderItemId": "11111111111111", "quantity": 1}], marketplace="A1F83G8C2ARO7P"),
     400, "marketplace"),
    ("111-0000008-0000008", {"marketplaceId": US}, 400, "packageDetail"),
    ("111-0000008-0000008", "not json", 400, "JSON"),
    ("111-0000008-0000009", shipment([{"orderItemId": "11111111111111", "quantity": 1}]), 400, "Canceled"),
    ("111-0000008-0000010", shipment([{"orderItemId": "11111111111111", "quantity": 1}]), 400, "fulfilled by Amazon"),
    ("111-0000008-0000099", shipment([{"orderItemId": "11111111111111", "quantity": 1}]), 404, "not found"),
])
def test_confirm_shipment_errors(twin, client, order_id, body, status, fragment):
    twin.seed_orders([make_order("111-0000008-0000008"), make_order("111-0000008-0000009", status="CANCELLED"),
                      make_order("111-0000008-0000010", fulfilled_by="AMAZON")])
    before = twin.get_order("111-0000008-0000008")
    if isinstance(body, str):
        r = client.request("POST", f"/orders/v0/orders/{order_id}/shipmentConfirmation", data=body,
                           headers={"Content-Type": "application/json"})
    else:
        r = confirm(client, order_id, body)
    assert r.status_code == status
    assert fragment in r.json()["errors"][0]["message"]
    assert twin.get_order("111-0000008-0000008") == before


# -- Restricted Data Tokens (v0 PII) --------------------------------------------------------------------

def rdt(client, resources):
    r = client.post("/tokens/2021-03-01/restrictedDataToken", {"restrictedResources": resources})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["restrictedDataToken"].startswith("Atz.sprdt|") and body["expiresIn"] == 3600
    return body["restrictedDataToken"]


def test_rdt_unlocks_v0_pii_for_its_resources_only(twin, client):
    twin.seed_orders([make_order("111-0000040-0000001")])
    plain = client.get("/orders/v0/orders/111-0000040-0000001").json()["payload"]
    assert "BuyerInfo" not in plain and "Name" not in plain["ShippingAddress"]
    token = rdt(client, [{"method": "GET", "path": "/orders/v0/orders/{orderId}",
                          "dataElements": ["buyerInfo", "shippingAddress"]},
                         {"method": "GET", "path": "/orders/v0/orders/111-0000040-0000001/address"}])
    headers = {"x-amz-access-token": token}
    full = client.request("GET", "/orders/v0/orders/111-0000040-0000001", headers=headers).json()["payload"]
    assert full["BuyerInfo"] == {"BuyerEmail": "zoe@marketplace.amazon.com", "BuyerName": "Zoë Tester"}
    assert full["ShippingAddress"]["Name"] == "Zoë Tester"
    assert full["ShippingAddress"]["AddressLine1"] == "1 Main St"
    address = client.request("GET", "/orders/v0/orders/111-0000040-0000001/address", headers=headers).json()
    assert address["payload"]["ShippingAddress"]["Name"] == "Zoë Tester"
    # Not minted for getOrderItems, confirmShipment or the v2026 API.
    for method, path in (("GET", "/orders/v0/orders/111-0000040-0000001/orderItems"),
                         ("GET", "/orders/2026-01-01/orders/111-0000040-0000001")):
        assert client.request(method, path, headers=headers).status_code == 403
    assert client.request("POST", "/orders/v0/orders/111-0000040-0000001/shipmentConfirmation",
                          headers=headers, json=shipment([])).status_code == 403


@pytest.mark.parametrize("resources", [[], [{"method": "FETCH", "path": "/orders/v0/orders"}],
                                       [{"method": "GET", "path": "orders"}],
                                       [{"method": "GET", "path": "/orders/v0/orders", "dataElements": ["ssn"]}]])
def test_rdt_request_validation(client, resources):
    r = client.post("/tokens/2021-03-01/restrictedDataToken", {"restrictedResources": resources})
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == "InvalidRequest"


# -- concurrency ----------------------------------------------------------------------------------------

def test_concurrent_confirmations_never_ship_more_than_ordered(twin, client):
    from concurrent.futures import ThreadPoolExecutor

    twin.seed_orders([make_order("111-0000041-0000001")])
    token = client.token

    def ship(ref: int) -> int:
        return requests.post(f"{twin.url}/orders/v0/orders/111-0000041-0000001/shipmentConfirmation",
                             json=shipment([{"orderItemId": "11111111111111", "quantity": 1}], ref=str(ref)),
                             headers={"x-amz-access-token": token}, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(ship, range(16)))
    assert statuses.count(204) == 2 and statuses.count(400) == 14
    order = twin.get_order("111-0000041-0000001")
    assert order["orderItems"][0]["fulfillment"] == {"quantityFulfilled": 2, "quantityUnfulfilled": 0}
    assert len(order["packages"]) == 2
