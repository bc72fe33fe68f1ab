"""MagentoClient against the Magento twin over real HTTP: auth, scopes, errors, search, lifecycle, faults.

Call counts come from the twin's own `GET /_sandbox/stats`, so "one call per batch" is what the server
saw, not what the client believes it sent.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from bridge.config import MagentoSettings
from bridge.domain import Address, AmazonOrder, AmazonOrderItem, AmazonStatus, FulfillmentChannel
from bridge.importer.order_builder import build_order_payload
from bridge.importer.regions import regions_for
from bridge.links import OrderLinks
from bridge.magento import (
    Filter,
    MagentoAuthError,
    MagentoClient,
    MagentoConnectionError,
    MagentoError,
    MagentoInvalidRequest,
    MagentoNotFound,
    MagentoServerError,
    MagentoTimeout,
    RetryPolicy,
    SearchCriteria,
    Track,
)
from bridge.magento.errors import StoreViewMissing
from bridge.order_settings import OrderSettings
from sandbox.magento.config import EXAMPLE_EXTRA_VIEWS, default_store_views
from sandbox.magento.testing import start_magento_twin

D = Decimal
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NO_WAIT = RetryPolicy(base_delay=0)
LINKS = OrderLinks("http://admin.test/orders/X", "http://admin.test/orders")


@pytest.fixture(scope="module")
def twin():
    t = start_magento_twin(store_views=default_store_views() + EXAMPLE_EXTRA_VIEWS)
    yield t
    t.stop()


@pytest.fixture
def fresh(twin):
    """A clean twin (no orders, products, customers, faults) and zeroed counters for one test."""
    twin.reset()
    requests.post(f"{twin.url}/_sandbox/faults", json={"rate_500": 0, "rate_timeout": 0, "rate_drop": 0}, timeout=10)
    requests.delete(f"{twin.url}/_sandbox/stats", timeout=10)
    yield twin
    requests.post(f"{twin.url}/_sandbox/faults", json={"rate_500": 0, "rate_timeout": 0, "rate_drop": 0}, timeout=10)


def settings_for(twin, **overrides) -> MagentoSettings:
    c = twin.config
    base = MagentoSettings(
        base_url=twin.url,
        consumer_key=c.consumer_key,
        consumer_secret=c.consumer_secret,
        access_token=c.access_token,
        access_token_secret=c.access_token_secret,
        timeout_seconds=10,
    )
    return replace(base, **overrides)


@pytest.fixture
def client(fresh) -> MagentoClient:
    return MagentoClient(settings_for(fresh), retry=NO_WAIT)


def stats(twin) -> dict[str, int]:
    return requests.get(f"{twin.url}/_sandbox/stats", timeout=10).json()["routes"]


def add_product(twin, sku: str, *, name: str | None = None, qty: float = 100, status: int = 1, **extra) -> dict:
    body = {
        "product": {
            "sku": sku,
            "name": name or f"Product {sku}",
            "price": 10,
            "status": status,
            "extension_attributes": {"stock_item": {"qty": qty, "is_in_stock": qty > 0}},
            **extra,
        }
    }
    resp = twin.session().post(f"{twin.rest_url}/products", json=body, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def amazon_order(amazon_order_id: str, *lines: tuple[str, int, str, str], total: str | None = None) -> AmazonOrder:
    """lines: (seller_sku, qty, item_price, item_tax)."""
    items = tuple(
        AmazonOrderItem(
            order_item_id=f"{amazon_order_id}-{n}",
            seller_sku=sku,
            asin=None,
            title=f"Title {sku}",
            quantity_ordered=qty,
            unit_price=D(price) / qty,
            item_price=D(price),
            item_tax=D(tax),
            shipping_price=D("4.99"),
        )
        for n, (sku, qty, price, tax) in enumerate(lines or (("SKU-1", 2, "20.00", "1.65"),))
    )
    return AmazonOrder(
        amazon_order_id=amazon_order_id,
        marketplace_id="ATVPDKIKX0DER",
        status=AmazonStatus.UNSHIPPED,
        fulfillment_channel=FulfillmentChannel.MFN,
        purchase_date=T0,
        last_updated=T0,
        currency="USD",
        order_total=D(total) if total else sum((i.row_total for i in items), D(0)),
        items=items,
        buyer_name="Jane Doe",
        buyer_email="jane.doe@marketplace.amazon.com",
        shipping_address=Address(
            name="Jane Doe",
            line1="1 Main St",
            city="Los Angeles",
            region="california",
            postal_code="90001",
            country_code="US",
            phone="555-0100",
        ),
        ship_service_level="Standard",
    )


def payload_for(client: MagentoClient, order: AmazonOrder, settings: OrderSettings | None = None) -> dict:
    """The real builder's payload, with products, store and regions read from the twin by the client."""
    skus = [i.seller_sku for i in order.items]
    return build_order_payload(
        order,
        settings or OrderSettings(),
        store=client.store_view("default"),
        products=client.products_by_skus(skus),
        sku_map=lambda s: s,
        region_ids=regions_for(client, "US"),
        links=LINKS,
    )


def create(client: MagentoClient, twin, amazon_order_id: str, **kw):
    order = amazon_order(amazon_order_id, **kw)
    for item in order.items:
        add_product(twin, item.seller_sku)
    return client.create_order(payload_for(client, order)), order


# ---------------------------------------------------------------------------------------------------------
# auth and scope


def test_oauth_hmac_sha256_requests_are_accepted(client):
    views = {v.code: v for v in client.store_views()}
    assert views["default"].base_currency == "USD"
    assert views["jp"].base_currency == "JPY" and views["uk"].website_id == 2


def test_oauth_with_a_wrong_secret_is_an_auth_error(fresh):
    bad = MagentoClient(settings_for(fresh, consumer_secret="wrong"), retry=NO_WAIT)
    with pytest.raises(MagentoAuthError) as exc:
        bad.store_views()
    assert exc.value.status == 401
    assert exc.value.raw_message == "The signature is invalid. Verify and try again."


def test_bearer_mode_needs_the_store_flag():
    refused = start_magento_twin()  # enable_integration_as_bearer is off by default, as on 2.4.4+
    allowed = start_magento_twin(enable_integration_as_bearer=True)
    try:
        with pytest.raises(MagentoAuthError) as exc:
            MagentoClient(settings_for(refused, auth_mode="bearer"), retry=NO_WAIT).store_views()
        assert exc.value.raw_message == "The consumer isn't authorized to access %resources."
        assert exc.value.message == "The consumer isn't authorized to access Magento_Backend::store."
        bearer = MagentoClient(settings_for(allowed, auth_mode="bearer"), retry=NO_WAIT)
        assert [v.code for v in bearer.store_views()] == ["admin", "default"]
    finally:
        refused.stop()
        allowed.stop()


def test_store_scoped_urls(fresh):
    settings = settings_for(fresh)
    assert MagentoClient(settings).url("V1/orders") == f"{fresh.url}/rest/V1/orders"
    assert MagentoClient(settings, store_code="all").url("V1/orders") == f"{fresh.url}/rest/all/V1/orders"
    uk = MagentoClient(settings, store_code="uk", retry=NO_WAIT)
    assert uk.url("V1/orders") == f"{fresh.url}/rest/uk/V1/orders"
    assert uk.search_orders(SearchCriteria()).total_count == 0  # the scoped route answers
    assert uk.default_stock_id() == 1  # uk's website "uk" resolves to the default stock


# ---------------------------------------------------------------------------------------------------------
# errors


def test_missing_acl_gives_an_auth_error_with_the_resource_filled_in():
    limited = start_magento_twin(acl_resources={"Magento_Sales::actions_view", "Magento_Backend::store"})
    try:
        client = MagentoClient(settings_for(limited), retry=NO_WAIT)
        with pytest.raises(MagentoAuthError) as exc:
            client.cancel(1)
        assert exc.value.message == "The consumer isn't authorized to access Magento_Sales::cancel."
        assert exc.value.parameters == {"resources": "Magento_Sales::cancel"}
        assert str(exc.value) == "The consumer isn't authorized to access Magento_Sales::cancel. (HTTP 401)"
    finally:
        limited.stop()


def test_positional_placeholders_and_not_found(client, fresh):
    ref, _ = create(client, fresh, "111-0000001-0000001")
    client.invoice(ref.entity_id)
    with pytest.raises(MagentoInvalidRequest) as exc:
        client.refund_order(ref.entity_id, shipping_amount=D("500"))
    assert exc.value.raw_message == "Maximum shipping amount allowed to refund is: %1"
    assert exc.value.message == "Maximum shipping amount allowed to refund is: 4.99"
    with pytest.raises(MagentoNotFound) as missing:
        client.get_order(987654)
    assert not missing.value.is_no_route
    with pytest.raises(MagentoNotFound) as no_route:
        client.get("V1/no-such-endpoint")
    assert no_route.value.is_no_route


def test_aggregated_input_errors_are_filled(client):
    with pytest.raises(MagentoInvalidRequest) as exc:
        client.create_customer(email="", firstname="", lastname="", website_id=1)
    assert exc.value.message == "One or more input exceptions have occurred."
    assert exc.value.error_messages == [
        '"firstname" is required. Enter and try again.',
        '"lastname" is required. Enter and try again.',
        '"email" is required. Enter and try again.',
    ]


# ---------------------------------------------------------------------------------------------------------
# search


def test_search_criteria_round_trip_in_like_and_or_group(client, fresh):
    a, _ = create(client, fresh, "111-1000000-0000001")
    b, _ = create(client, fresh, "111-2000000-0000002")
    create(client, fresh, "222-3000000-0000003")
    client.hold(b.entity_id)
    criteria = (
        SearchCriteria()
        .where("ext_order_id", ["111-1000000-0000001", "111-2000000-0000002", "222-3000000-0000003"], "in")
        .where_any(Filter("state", "holded"), Filter("ext_order_id", "%-0000001", "like"))
        .sort("entity_id", "DESC")
        .page(10)
    )
    result = client.search_orders(criteria)
    assert SearchCriteria.from_dict(result.search_criteria).to_dict() == criteria.to_dict()
    assert [o["entity_id"] for o in result.items] == [b.entity_id, a.entity_id]
    assert result.total_count == 2


def test_find_orders_by_ext_order_ids_is_one_call_per_batch(client, fresh):
    ids = [f"111-{n:07d}-0000000" for n in range(5)]
    refs = {i: create(client, fresh, i)[0] for i in ids}
    wanted = [*ids, "999-0000000-0000001", "999-0000000-0000002"]
    requests.delete(f"{fresh.url}/_sandbox/stats", timeout=10)
    found = client.find_orders_by_ext_order_ids(wanted, batch_size=3)
    assert stats(fresh) == {"GET /V1/orders": 3}  # 7 ids in batches of 3
    assert set(found) == set(ids)
    for amazon_id, ref in refs.items():
        assert found[amazon_id].entity_id == ref.entity_id
        assert found[amazon_id].increment_id == ref.increment_id
        assert found[amazon_id].state == "new"


def test_find_orders_with_nothing_to_find_makes_no_call(client, fresh):
    assert client.find_orders_by_ext_order_ids(["", ""]) == {}
    assert stats(fresh) == {}


def test_unknown_store_view_is_a_clear_error(client):
    with pytest.raises(StoreViewMissing, match='Store view "nope" does not exist in Commerce'):
        client.store_view("nope")
    assert client.store_view("jp").base_currency == "JPY"
    # Magento reads /rest/nope/V1/... as a path of the default view and answers "no route": named, not retried
    with pytest.raises(StoreViewMissing, match='Store view "nope"') as info:
        client.for_store("nope").products_by_skus(["SKU-1"])
    assert info.value.needs_person and info.value.__cause__.is_no_route


def test_find_orders_pages_when_a_batch_has_more_orders_than_a_page(client, fresh):
    # Two Commerce orders for one Amazon id (what the bridge prevents): the oldest wins.
    first, order = create(client, fresh, "111-0000009-0000009")
    second = client.create_order(payload_for(client, order))
    found = client.find_orders_by_ext_order_ids(["111-0000009-0000009"], batch_size=1)
    assert found["111-0000009-0000009"].entity_id == first.entity_id < second.entity_id
    assert stats(fresh)["GET /V1/orders"] == 2  # page 1 and page 2 of one batch


# ---------------------------------------------------------------------------------------------------------
# order lifecycle


def test_create_get_invoice_ship_refund_then_cancel_is_false(client, fresh):
    ref, order = create(client, fresh, "111-5555555-5555555")
    assert ref.ext_order_id == "111-5555555-5555555" and (ref.state, ref.status) == ("new", "pending")
    got = client.get_order(ref.entity_id)
    assert D(str(got["grand_total"])) == order.order_total
    assert got["payment"]["po_number"] == "111-5555555-5555555"
    assert got["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]["region_id"] == 12

    assert client.add_comment(ref.entity_id, "Imported from Amazon", status="pending") is True
    assert client.get_order(ref.entity_id)["status"] == "pending"  # sent, so never nulled (#34180)

    invoice_id = client.invoice(ref.entity_id, comment="Invoice created for Amazon marketplace order.")
    assert [i["entity_id"] for i in client.list_invoices(ref.entity_id)] == [invoice_id]
    item_id = got["items"][0]["item_id"]
    shipment_id = client.ship(ref.entity_id, {item_id: 2}, [Track("1Z999", "ups", "UPS")])
    shipments = client.list_shipments(ref.entity_id)
    assert [s["entity_id"] for s in shipments] == [shipment_id]
    assert shipments[0]["tracks"][0]["track_number"] == "1Z999"
    assert client.get_order(ref.entity_id)["state"] == "complete"

    memo_id = client.refund_order(ref.entity_id, comment="Refunded on Amazon")
    assert [m["entity_id"] for m in client.list_creditmemos(ref.entity_id)] == [memo_id]
    assert client.get_order(ref.entity_id)["state"] == "closed"
    assert client.cancel(ref.entity_id) is False  # a business answer, not an exception


def test_cancel_hold_unhold_and_update(client, fresh):
    ref, _ = create(client, fresh, "111-6666666-6666666")
    assert client.hold(ref.entity_id) is True
    assert client.get_order(ref.entity_id)["state"] == "holded"
    with pytest.raises(MagentoInvalidRequest, match="A hold action is not available."):
        client.hold(ref.entity_id)
    assert client.unhold(ref.entity_id) is True
    assert client.cancel(ref.entity_id) is True
    assert client.get_order(ref.entity_id)["state"] == "canceled"
    other, _ = create(client, fresh, "111-7777777-7777777")
    updated = client.update_order(other.entity_id, {"state": "complete", "status": "complete"})
    assert (updated.entity_id, updated.state, updated.status) == (other.entity_id, "complete", "complete")
    assert updated.increment_id == other.increment_id


def test_add_comment_always_needs_a_status(client):
    with pytest.raises(ValueError, match="34180"):
        client.add_comment(1, "hello", status="")


def test_amazon_order_number_becomes_the_increment_id(client, fresh):
    order = amazon_order("111-8888888-8888888")
    add_product(fresh, "SKU-1")
    settings = OrderSettings(order_number_source="amazon", order_number_prefix="AMZ-")
    ref = client.create_order(payload_for(client, order, settings))
    assert ref.increment_id == "AMZ-111-8888888-8888888"


# ---------------------------------------------------------------------------------------------------------
# catalog, stock, customers, directory


def test_products_by_skus_batches_and_encodes(client, fresh):
    for sku in ("A/B 1", "plain", "Mixed-Case", "off"):
        add_product(fresh, sku, status=2 if sku == "off" else 1)
    add_product(fresh, "with,comma")
    requests.delete(f"{fresh.url}/_sandbox/stats", timeout=10)
    found = client.products_by_skus(["A/B 1", "plain", "mixed-case", "off", "missing", "with,comma"], batch_size=3)
    assert set(found) == {"A/B 1", "plain", "mixed-case", "off", "with,comma"}
    assert found["mixed-case"].sku == "Mixed-Case"
    assert found["off"].enabled is False and found["plain"].enabled is True
    assert found["A/B 1"].is_in_stock is True
    # 5 listable SKUs in batches of 3 → 2 searches; the comma SKU cannot go in an `in` list → 1 GET.
    assert stats(fresh) == {"GET /V1/products": 2, "GET /V1/products/:sku": 1}
    assert client.get_product("A/B 1").name == "Product A/B 1"


def test_salable_quantity_and_source_decrement(client, fresh):
    add_product(fresh, "STOCKED", qty=5)
    assert client.salable_qty("STOCKED") == D("5")
    assert client.is_salable("STOCKED", 5) is True
    assert client.is_salable("STOCKED", 6) is False
    assert client.is_salable("NOT-THERE", 1) is False
    assert client.decrement_source_quantity("STOCKED", 2) == D("3")
    assert [(s.source_code, s.quantity, s.status) for s in client.source_items("STOCKED")] == [("default", D("3"), 1)]
    assert client.salable_qty("STOCKED") == D("3")
    assert client.decrement_source_quantity("STOCKED", 3) == D("0")
    assert client.source_items("STOCKED")[0].status == 0
    assert client.is_salable("STOCKED", 1) is False


def test_legacy_stock_path(client, fresh):
    add_product(fresh, "LEGACY", qty=4)
    client._msi = False  # what the client concludes when the MSI routes answer "no route"
    assert client.salable_qty("LEGACY") == D("4")
    assert client.is_salable_for_qty("LEGACY", 4) is True
    assert client.is_salable_for_qty("LEGACY", 5) is False
    assert client.decrement_source_quantity("LEGACY", 1) == D("3")
    assert client.legacy_stock_item("LEGACY")["qty"] == 3
    assert not any(k.startswith("GET V1/inventory") for k in client.calls)


def test_customers_are_found_by_email_within_a_website(client, fresh):
    assert client.find_customers_by_email("jane.doe@marketplace.amazon.com") == []
    made = client.create_customer(email="jane.doe@marketplace.amazon.com", firstname="Jane", lastname="Doe",
                                  website_id=1)
    assert (made.email, made.firstname, made.lastname, made.website_id) == (
        "jane.doe@marketplace.amazon.com", "Jane", "Doe", 1)
    assert [c.id for c in client.find_customers_by_email("jane.doe@marketplace.amazon.com", website_id=1)] == [made.id]
    # The customer paths (guest, new account, predefined, races) are tested in tests/test_customers.py.


def test_region_resolver_and_country_cache(client, fresh):
    resolver = regions_for(client, "US")
    assert resolver.find("US", "Texas").id == 57
    assert regions_for(client, "us").find("US", "TX").id == 57
    assert stats(fresh) == {"GET /V1/directory/countries/:countryId": 1}
    assert regions_for(client, "BR").find("BR", "SP") is None  # not in this store's directory
    everything = regions_for(client)
    assert everything.find("DE", "Bayern").code == "BAY"


# ---------------------------------------------------------------------------------------------------------
# faults and retries


def test_lost_response_after_a_saved_create(client, fresh):
    order = amazon_order("111-4040404-4040404")
    add_product(fresh, "SKU-1")
    payload = payload_for(client, order)
    requests.post(f"{fresh.url}/_sandbox/faults", json={"rate_drop": 1}, timeout=10).raise_for_status()
    with pytest.raises(MagentoConnectionError) as exc:
        client.create_order(payload)
    assert exc.value.request_sent is True
    requests.post(f"{fresh.url}/_sandbox/faults", json={"rate_drop": 0}, timeout=10).raise_for_status()
    assert stats(fresh)["PUT /V1/orders/create"] == 1  # never re-sent blindly
    found = client.find_orders_by_ext_order_ids([order.amazon_order_id])
    assert list(found) == [order.amazon_order_id]
    assert client.search_orders(SearchCriteria().where("ext_order_id", order.amazon_order_id)).total_count == 1


def test_reads_are_retried_on_5xx_writes_are_not(client, fresh):
    ref, order = create(client, fresh, "111-5000000-0000005")
    requests.post(f"{fresh.url}/_sandbox/faults", json={"rate_500": 1}, timeout=10).raise_for_status()
    requests.delete(f"{fresh.url}/_sandbox/stats", timeout=10)
    with pytest.raises(MagentoServerError) as read_error:
        client.get_order(ref.entity_id)
    assert read_error.value.status == 500 and read_error.value.request_id.startswith("webapi-")
    assert stats(fresh) == {"GET /V1/orders/:id": NO_WAIT.max_attempts}
    requests.delete(f"{fresh.url}/_sandbox/stats", timeout=10)
    with pytest.raises(MagentoServerError):
        client.invoice(ref.entity_id)
    assert stats(fresh) == {"POST /V1/order/:orderId/invoice": 1}


def test_a_read_recovers_when_a_retry_succeeds(client, fresh):
    ref, _ = create(client, fresh, "111-5000000-0000006")
    # Seeded dice: with rate 0.5 and seed 3 the first draws fail and a later one succeeds.
    requests.post(f"{fresh.url}/_sandbox/faults", json={"rate_500": 0.5, "seed": 3}, timeout=10).raise_for_status()
    requests.delete(f"{fresh.url}/_sandbox/stats", timeout=10)
    patient = MagentoClient(settings_for(fresh), retry=replace(NO_WAIT, max_attempts=10))
    assert patient.get_order(ref.entity_id)["entity_id"] == ref.entity_id
    faults = requests.get(f"{fresh.url}/_sandbox/stats", timeout=10).json()["faults"]
    assert faults.get("500", 0) >= 1
    assert stats(fresh)["GET /V1/orders/:id"] == faults["500"] + 1


def test_read_timeout_means_sent(fresh):
    requests.post(
        f"{fresh.url}/_sandbox/faults", json={"rate_timeout": 1, "timeout_seconds": 3}, timeout=10
    ).raise_for_status()
    impatient = MagentoClient(settings_for(fresh, timeout_seconds=0.3), retry=NO_WAIT)
    with pytest.raises(MagentoTimeout) as exc:
        impatient.create_order({"entity": {}})
    assert exc.value.request_sent is True
    assert isinstance(exc.value, MagentoConnectionError)  # one `except` covers every lost answer


def test_connection_refused_means_not_sent_and_writes_may_retry():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    client = MagentoClient(MagentoSettings(base_url=f"http://127.0.0.1:{port}"), retry=NO_WAIT)
    with pytest.raises(MagentoConnectionError) as exc:
        client.create_order({"entity": {}})
    assert exc.value.request_sent is False
    assert client.calls["PUT V1/orders/create"] == NO_WAIT.max_attempts  # safe: Magento never saw it


# ---------------------------------------------------------------------------------------------------------
# hygiene


def test_no_secrets_or_emails_in_logs(client, fresh, caplog):
    caplog.set_level(logging.DEBUG, logger="bridge.magento")
    client.find_customers_by_email("secret.buyer@example.com")
    create(client, fresh, "111-1212121-1212121")
    requests.post(f"{fresh.url}/_sandbox/faults", json={"rate_500": 1}, timeout=10).raise_for_status()
    with pytest.raises(MagentoError):
        client.find_customers_by_email("secret.buyer@example.com")
    ours = [r for r in caplog.records if r.name.startswith("bridge.")]  # not the twin's access log
    text = "\n".join(r.getMessage() for r in ours)
    assert ours  # the client does log (method and path)
    for secret in (
        "secret.buyer@example.com",
        "jane.doe@marketplace.amazon.com",
        "1 Main St",
        fresh.config.consumer_secret,
        fresh.config.access_token,
        fresh.config.access_token_secret,
    ):
        assert secret not in text
    assert not [r for r in ours if r.levelno >= logging.INFO and "@" in r.getMessage()]
    assert "sandbox-access-token" not in repr(client) and "secret" not in repr(client.settings)
