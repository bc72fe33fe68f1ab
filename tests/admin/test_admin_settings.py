"""Order Settings (ASC labels, defaults, validation, import-disabled greying) and SKU mapping CRUD with retry."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from rq import Queue
from sqlalchemy import select

from bridge.storage.models import SkuMapping, StoreOrderSettings
from bridge.storage.stores import order_settings
from tests.admin.conftest import add_products, twin_settings
from tests.admin_support import AdminHarness

SAVED = "You have successfully saved the order settings."


@pytest.fixture
def h(sqlite_url, redis_url, admin_magento):
    harness = AdminHarness(sqlite_url, redis_url, settings=twin_settings(sqlite_url, redis_url, admin_magento))
    add_products(admin_magento, ("CAT-1", "Cat one"), ("CAT-2", "Cat two"), ("CAT-9", "Cat nine"),
                 ("DIVER-ORNAMENT", "Diver ornament"))
    harness.store_id = harness.add_store().id
    yield harness
    harness.close()


def settings_row(h) -> StoreOrderSettings:
    with h.runtime.db.session() as session:
        return session.get(StoreOrderSettings, h.store_id)


VALID = {
    "import_enabled": "1",
    "store_view_code": "default",
    "customer_creation": "guest",
    "predefined_customer_email": "",
    "order_number_source": "magento",
    "order_number_prefix": "",
    "reserve_pending": "1",
    "stock_handling": "none",
    "order_status_mode": "default",
    "custom_processing_status": "",
    "payment_method": "purchaseorder",
    "shipping_methods": "* = flatrate_flatrate",
    "import_fba": "1",
    "create_invoice": "1",
    "import_from": "2026-01-01 00:00",
}


def test_settings_page_shows_asc_labels_defaults_and_tooltips(h):
    html = h.client("viewer").get("/stores/us/settings").get_data(as_text=True)
    for text in (
        "Order Settings",
        "Store Name:",
        "Control how Amazon orders are managed",
        "Import Amazon Orders",
        "Import Amazon Orders Into Magento Store",
        "Customer Creation",
        "No Customer Creation (guest)",
        "Build New Customer Account",
        "Order Number Source",
        "Build Using Magento Order Number",
        "Build Using Amazon Order Number",
        "Pending Orders",
        "Reserve Quantity",
        "Do Not Reserve Quantity",
        "Order Status",
        "Default Order Status",
        "Custom Order Status",
        "Processing Order Status",
        "Enabling will import Amazon orders into Magento, where the orders and fulfillment will be managed from the "
        "Magento admin.",
        "The default store that Amazon orders will be imported into.",
        "Determines whether pending order will place a reserve on the Magento available quantity - thus reducing by "
        "the sold quantity.",
        "If you are using an external system for order fulfillment, it is recommended to use Magento Order Number",
        ">Back</a>",
    ):
        assert text in html, text
    assert '<option selected value="1">Enabled</option>' in html  # ASC's default
    assert '<option selected value="guest">' in html
    assert '<option selected value="magento">' in html
    assert 'value="purchaseorder"' in html
    assert "Save order settings" not in html  # viewers read only
    assert "Only admins change order settings." in html


def test_admin_saves_settings_with_asc_success_message(h):
    client = h.client("admin")
    data = dict(
        VALID,
        customer_creation="new_account",
        order_number_source="amazon",
        order_number_prefix="AMZ-",
        reserve_pending="0",
        stock_handling="decrement_source",
        order_status_mode="custom",
        custom_processing_status="amazon_processing",
        payment_method="checkmo",
        shipping_methods="Expedited = tablerate_bestway\nStandard = flatrate_flatrate\n* = freeshipping_freeshipping",
        import_fba="0",
        create_invoice="0",
        import_from="2026-03-04 05:06",
    )
    response = client.post("/stores/us/settings", data, follow_redirects=True)
    assert response.status_code == 200
    assert SAVED in response.get_data(as_text=True)
    saved = order_settings(settings_row(h))
    assert saved.customer_creation == "new_account"
    assert saved.order_number_source == "amazon" and saved.order_number_prefix == "AMZ-"
    assert saved.reserve_pending is False
    assert saved.stock_handling == "decrement_source"
    assert saved.processing_status == "amazon_processing"
    assert saved.payment_method == "checkmo"
    assert saved.shipping_method_for("expedited") == "tablerate_bestway"
    assert saved.shipping_method_for("SecondDay") == "freeshipping_freeshipping"
    assert saved.import_fba is False and saved.create_invoice is False
    assert saved.import_from == datetime(2026, 3, 4, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"store_view_code": ""}, "store_view_code", "This is a required field."),
        ({"store_view_code": "Not A Code"}, "store_view_code", "Magento store view code"),
        ({"customer_creation": "predefined"}, "predefined_customer_email", "Give the e-mail"),
        (
            {"customer_creation": "predefined", "predefined_customer_email": "nope"},
            "predefined_customer_email",
            "valid e-mail",
        ),
        ({"order_status_mode": "custom"}, "custom_processing_status", "This is a required field."),
        (
            {"order_status_mode": "custom", "custom_processing_status": "complete"},
            "custom_processing_status",
            "other than complete, canceled or closed",
        ),
        ({"payment_method": ""}, "payment_method", "This is a required field."),
        ({"shipping_methods": "Standard flatrate"}, "shipping_methods", "Line 1"),
        ({"shipping_methods": "Standard = not a method"}, "shipping_methods", "carrier_method"),
        ({"import_from": "yesterday"}, "import_from", "yyyy-mm-dd"),
        ({"order_number_prefix": "<b>"}, "order_number_prefix", "Up to 32 letters"),
        ({"customer_creation": "hacker"}, "customer_creation", "Not a valid choice"),
    ],
)
def test_settings_validation(h, changes, field, message):
    before = order_settings(settings_row(h))
    response = h.client("admin").post("/stores/us/settings", dict(VALID, **changes))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    block = re.search(rf'data-field="{field}">(.*?)</div>\s*</div>', html, re.S)
    assert block and message in block.group(1), html[:200]
    assert SAVED not in html
    assert order_settings(settings_row(h)) == before


def test_import_disabled_greys_out_and_ignores_the_other_fields(h):
    client = h.client("admin")
    before = order_settings(settings_row(h))
    # Disabled fields are not sent by browsers; a hand-made request that sends them anyway changes nothing.
    response = client.post(
        "/stores/us/settings",
        {"import_enabled": "0", "payment_method": "evil", "store_view_code": "Bad Code", "customer_creation": "x"},
        follow_redirects=True,
    )
    assert SAVED in response.get_data(as_text=True)
    after = order_settings(settings_row(h))
    assert after.import_enabled is False
    assert replace_enabled(after) == replace_enabled(before)
    html = client.get("/stores/us/settings").get_data(as_text=True)
    assert re.search(r'<select disabled id="payment_method"|<input disabled id="payment_method"', html)
    assert re.search(r'<select disabled id="customer_creation"', html)
    assert '<select id="import_enabled"' in html  # the switch itself stays usable
    # enabling again saves the rest
    response = client.post("/stores/us/settings", dict(VALID, payment_method="checkmo"), follow_redirects=True)
    assert SAVED in response.get_data(as_text=True)
    assert order_settings(settings_row(h)).payment_method == "checkmo"


def replace_enabled(settings):
    from dataclasses import replace

    return replace(settings, import_enabled=True)


def test_settings_of_unknown_store_is_404(h):
    assert h.client("admin").get("/stores/nope/settings").status_code == 404


def test_settings_index_goes_to_the_chosen_store(h):
    response = h.client("viewer").get("/settings")
    assert response.status_code == 302 and response.location.endswith("/stores/us/settings")


# -- SKU mapping --------------------------------------------------------------------------------------------


def mappings(h) -> dict[str, str]:
    with h.runtime.db.session() as session:
        return {m.seller_sku: m.catalog_sku for m in session.scalars(select(SkuMapping))}


def test_sku_mapping_crud(h):
    client = h.client("operator")
    assert client.post("/stores/us/sku/new", {"seller_sku": "AMZ-1", "catalog_sku": "CAT-1"}).status_code == 302
    assert client.post("/stores/us/sku/new", {"seller_sku": "AMZ-2", "catalog_sku": "CAT-2"}).status_code == 302
    assert mappings(h) == {"AMZ-1": "CAT-1", "AMZ-2": "CAT-2"}
    html = client.get("/stores/us/sku").get_data(as_text=True)
    assert "AMZ-1" in html and "CAT-2" in html and "<strong>2</strong> records found" in html
    assert "AMZ-2" not in client.get("/stores/us/sku?q=amz-1").get_data(as_text=True)
    duplicate = client.post("/stores/us/sku/new", {"seller_sku": "AMZ-1", "catalog_sku": "OTHER"})
    assert duplicate.status_code == 400 and "is mapped already" in duplicate.get_data(as_text=True)
    with h.runtime.db.session() as session:
        first = session.scalar(select(SkuMapping.id).where(SkuMapping.seller_sku == "AMZ-1"))
    assert (
        client.post(f"/stores/us/sku/{first}/edit", {"seller_sku": "AMZ-1", "catalog_sku": "CAT-9"}).status_code == 302
    )
    assert mappings(h)["AMZ-1"] == "CAT-9"
    clash = client.post(f"/stores/us/sku/{first}/edit", {"seller_sku": "AMZ-2", "catalog_sku": "X"})
    assert clash.status_code == 400
    assert client.post(f"/stores/us/sku/{first}/delete").status_code == 302
    assert mappings(h) == {"AMZ-2": "CAT-2"}
    assert client.post("/stores/us/sku/new", {"seller_sku": " padded", "catalog_sku": "X"}).status_code == 400


def test_sku_mapping_belongs_to_its_store(h):
    other = h.add_store("uk", "UK store")
    with h.runtime.db.session() as session:
        session.add(SkuMapping(store_id=other.id, seller_sku="UK-1", catalog_sku="CAT"))
        session.flush()
        uk_id = session.scalar(select(SkuMapping.id))
    client = h.client("operator")
    assert client.get(f"/stores/us/sku/{uk_id}/edit").status_code == 404
    client.post(f"/stores/us/sku/{uk_id}/delete")
    assert mappings(h) == {"UK-1": "CAT"}
    assert "UK-1" not in client.get("/stores/us/sku").get_data(as_text=True)


def test_viewer_reads_but_cannot_change_sku_mappings(h):
    client = h.client("viewer")
    assert client.get("/stores/us/sku").status_code == 200
    assert client.get("/stores/us/sku/new").status_code == 403
    assert client.post("/stores/us/sku/new", {"seller_sku": "A", "catalog_sku": "B"}).status_code == 403
    assert mappings(h) == {}


def test_mapping_the_missing_sku_from_an_order_in_error_offers_a_retry(h):
    error = 'Cannot create sales order: Product "GLOFISH-DIVER" does not exist'
    h.add_order(
        h.store_id,
        "111-0000000-0000001",
        import_state="error",
        last_error=error,
        items=[{"seller_sku": "GLOFISH-DIVER", "title": "Diver", "qty": 1, "price": "5.00"}],
    )
    h.add_order(
        h.store_id,
        "111-0000000-0000002",
        import_state="error",
        last_error=error,
        items=[{"seller_sku": "GLOFISH-DIVER", "title": "Diver", "qty": 2, "price": "10.00"}],
    )
    h.add_order(
        h.store_id,
        "111-0000000-0000003",
        import_state="error",
        last_error='Cannot create sales order: Product "OTHER" does not exist',
    )
    client = h.client("operator", username="opal")
    detail = client.get("/orders/111-0000000-0000001").get_data(as_text=True)
    link = re.search(r'href="(/stores/us/sku/new\?[^"]+)">Map seller SKU GLOFISH-DIVER', detail)
    assert link
    form = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="GLOFISH-DIVER"' in form and 'value="111-0000000-0000001"' in form
    offer = client.post(
        "/stores/us/sku/new",
        {"seller_sku": "GLOFISH-DIVER", "catalog_sku": "DIVER-ORNAMENT", "order": "111-0000000-0000001"},
    )
    assert offer.status_code == 200
    html = offer.get_data(as_text=True)
    assert "2 order(s) of US store wait in error on seller SKU" in html
    assert "Retry import of 2 order(s)" in html
    response = client.post("/stores/us/sku/retry", {"seller_sku": "GLOFISH-DIVER", "origin": "111-0000000-0000001"})
    assert response.status_code == 302 and response.location.startswith("/orders/111-0000000-0000001")
    assert h.record("111-0000000-0000001").import_state == "queued"
    assert h.record("111-0000000-0000002").import_state == "queued"
    assert h.record("111-0000000-0000003").import_state == "error"
    assert sorted(Queue("orders", connection=h.runtime.redis).job_ids) == [
        f"import-{h.store_id}-111-0000000-0000001",
        f"import-{h.store_id}-111-0000000-0000002",
    ]


def test_commerce_to_amazon_settings_have_defaults_and_are_saved(h):
    client = h.client("admin")
    page = client.get("/stores/us/settings").get_data(as_text=True)
    assert "Shipment Without Tracking Number" in page and "Hold And Warn" in page
    assert '<option selected value="CustomerReturn">Customer Return</option>' in page
    assert '<option selected value="GeneralAdjustment">General Adjustment</option>' in page

    response = client.post("/stores/us/settings", dict(VALID, no_tracking_policy="send", adjustment_reason="PriceError",
                                                       commerce_cancel_reason="NoInventory"), follow_redirects=True)

    assert SAVED in response.get_data(as_text=True)
    saved = order_settings(settings_row(h))
    assert (saved.no_tracking_policy, saved.adjustment_reason, saved.commerce_cancel_reason) == (
        "send", "PriceError", "NoInventory")
    bad = client.post("/stores/us/settings", dict(VALID, adjustment_reason="BecauseISaidSo"))
    assert bad.status_code == 400 and "Choose one of the listed values." in bad.get_data(as_text=True)
    assert order_settings(settings_row(h)).adjustment_reason == "PriceError"
