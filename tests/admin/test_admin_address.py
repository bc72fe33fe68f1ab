"""Correcting an order's shipping address on Amazon Order Details (Save Order), resetting it to Amazon's, and
the importer using the correction; plus the history and logs naming fields, never the buyer's address."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from html import unescape

import pytest
from markupsafe import escape
from rq import Queue

from admin_ui.address_form import FIELDS, amazon_address, current_address, override_for
from bridge.domain import EDITABLE_ADDRESS_FIELDS, Address
from tests.admin.conftest import twin_settings
from tests.admin_support import AdminClient, AdminHarness

ORDER = "111-3333333-4444444"
AMAZON = {
    "name": "Jane Doe",
    "line1": "2201 Westlake Ave",
    "line2": "",
    "line3": "",
    "city": "Seattle",
    "region": "WA",
    "postal_code": "98121",
    "country_code": "US",
    "phone": "+1 206-555-0100",
}
XSS = '<script>alert("city")</script><img src=x onerror=alert(1)>'
NOTE = (
    "The Commerce order #000000042 already exists; this correction applies to the bridge's record only — "
    "change the address on the Commerce order in Magento too."
)


@pytest.fixture
def h(sqlite_url, redis_url, admin_magento):
    harness = AdminHarness(sqlite_url, redis_url, settings=twin_settings(sqlite_url, redis_url, admin_magento))
    harness.store_id = harness.add_store().id
    yield harness
    harness.close()


def form(**changes: str) -> dict[str, str]:
    """The address form as a browser posts it: every field, Amazon's values unless changed."""
    return {**AMAZON, "store": "us", **changes}


def input_value(html: str, name: str) -> str | None:
    """The value of the address form's text input `name`, as the page renders it (unescaped)."""
    match = re.search(rf'<input [^>]*name="{name}"[^>]*value="([^"]*)"', html)
    return unescape(match.group(1)) if match else None


def address_events(h, order: str = ORDER) -> list:
    return [e for e in h.record(order).events if e.kind.startswith("address_")]


def test_the_form_offers_exactly_the_fields_the_importer_applies():
    assert tuple(FIELDS) == EDITABLE_ADDRESS_FIELDS


def test_amazon_address_reads_both_snapshot_shapes():
    v0 = {
        "AmazonOrderId": ORDER,
        "ShippingAddress": {"AddressLine1": "1 Main St", "City": "Leeds", "CountryCode": "gb"},
    }
    assert amazon_address(v0) == {
        **dict.fromkeys(FIELDS, ""),
        "line1": "1 Main St",
        "city": "Leeds",
        "country_code": "GB",
    }
    assert amazon_address({}) == dict.fromkeys(FIELDS, "")
    assert amazon_address({"recipient": {"deliveryAddress": "garbage"}}) == dict.fromkeys(FIELDS, "")


def test_viewer_sees_the_address_read_only_and_cannot_post(h):
    h.add_order(h.store_id, ORDER)
    client = h.client("viewer")
    html = client.get(f"/orders/{ORDER}").get_data(as_text=True)
    assert 'id="address-form"' not in html and "Save Order" not in html
    assert "Reset to Amazon's address" not in html
    assert '<dd data-field="city">Seattle</dd>' in html
    assert client.post(f"/orders/{ORDER}/address", form(city="Portland")).status_code == 403
    assert client.post(f"/orders/{ORDER}/address/reset", {"store": "us"}).status_code == 403
    record = h.record(ORDER)
    assert record.address_override is None and address_events(h) == []


def test_operator_sees_the_form_prefilled_with_amazons_address(h):
    h.add_order(h.store_id, ORDER)
    html = h.client("operator").get(f"/orders/{ORDER}").get_data(as_text=True)
    assert '<form id="address-form" method="post" action="/orders/111-3333333-4444444/address"' in html
    assert re.search(r'<button class="button primary" type="submit" form="address-form"[^>]*>Save Order</button>', html)
    assert {name: input_value(html, name) for name in FIELDS} == AMAZON
    assert 'data-saved="Seattle"' in html
    assert "(corrected)" not in html
    assert "Save and retry import" not in html  # only for orders in error
    assert "Reset to Amazon" not in html  # nothing to reset
    assert "already exists" not in html  # no Commerce order yet


def test_operator_saves_only_the_changed_fields_and_the_history_names_fields_not_values(h, caplog):
    h.add_order(h.store_id, ORDER)
    client = h.client("operator", username="olga")
    caplog.set_level(logging.DEBUG)
    response = client.post(f"/orders/{ORDER}/address", form(city=" Portland ", postal_code="97204", region="WA"))
    assert response.status_code == 302
    assert response.location == f"/orders/{ORDER}?store=us"

    record = h.record(ORDER)
    assert record.address_override == {"city": "Portland", "postal_code": "97204"}
    [event] = address_events(h)
    assert (event.kind, event.actor) == ("address_corrected", "olga")
    assert event.message == "Shipping address corrected; fields changed: city, postal code."
    for value in ("Portland", "97204", "Seattle", "98121"):
        assert value not in event.message
        assert all(value not in r.getMessage() for r in caplog.records), value

    html = client.get(response.location).get_data(as_text=True)
    assert f"The shipping address of order {ORDER} is saved (city, postal code)." in html
    assert html.count('<span class="corrected">(corrected)</span>') == 2
    assert input_value(html, "city") == "Portland" and 'data-saved="Portland"' in html
    assert "Amazon: Seattle" in html and "Amazon: 98121" in html
    assert "Reset to Amazon's address" in html
    assert "Shipping address corrected; fields changed: city, postal code." in html  # in the history
    # and the importer's view of it
    corrected = Address(city="Seattle", postal_code="98121", line1="2201 Westlake Ave").corrected(
        record.address_override
    )
    assert (corrected.city, corrected.postal_code, corrected.line1) == ("Portland", "97204", "2201 Westlake Ave")


def test_a_field_set_back_to_amazons_value_leaves_the_override(h):
    h.add_order(h.store_id, ORDER, address_override={"city": "Portland", "postal_code": "97204"})
    client = h.client("operator")
    assert client.post(f"/orders/{ORDER}/address", form(city="Seattle", postal_code="97204")).status_code == 302
    assert h.record(ORDER).address_override == {"postal_code": "97204"}
    assert address_events(h)[-1].message == "Shipping address corrected; fields changed: city."
    assert client.post(f"/orders/{ORDER}/address", form()).status_code == 302
    assert h.record(ORDER).address_override is None
    html = client.get(f"/orders/{ORDER}").get_data(as_text=True)
    assert "(corrected)" not in html


def test_a_blank_optional_field_clears_amazons_value(h):
    h.add_order(h.store_id, ORDER)
    client = h.client("operator")
    assert client.post(f"/orders/{ORDER}/address", form(phone="", country_code="us")).status_code == 302
    override = h.record(ORDER).address_override
    assert override == {"phone": ""}  # "us" is Amazon's US
    assert Address(phone="+1 206-555-0100").corrected(override).phone is None
    html = client.get(f"/orders/{ORDER}").get_data(as_text=True)
    assert html.count("(corrected)") == 1 and "Amazon: +1 206-555-0100" in html


def test_nothing_changed_saves_nothing(h):
    h.add_order(h.store_id, ORDER)
    client = h.client("operator")
    response = client.post(f"/orders/{ORDER}/address", form(city="Seattle "), follow_redirects=True)
    assert "Nothing to save: the shipping address is unchanged." in response.get_data(as_text=True)
    assert h.record(ORDER).address_override is None and address_events(h) == []


def test_post_without_csrf_token_is_refused(h):
    h.add_order(h.store_id, ORDER)
    client = h.client("operator")
    assert client.post(f"/orders/{ORDER}/address", form(city="Portland"), csrf=False).status_code == 400
    assert client.post(f"/orders/{ORDER}/address/reset", {"store": "us"}, csrf=False).status_code == 400
    assert h.record(ORDER).address_override is None


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"country_code": "USA"}, "country_code", "Use the two-letter country code, e.g. US, GB or DE."),
        ({"country_code": "U1"}, "country_code", "Use the two-letter country code, e.g. US, GB or DE."),
        ({"country_code": ""}, "country_code", "This is a required field."),
        ({"line1": "  "}, "line1", "This is a required field."),
        ({"city": ""}, "city", "This is a required field."),
        ({"city": "x" * 129}, "city", "Use at most 128 characters."),
        ({"postal_code": "9" * 33}, "postal_code", "Use at most 32 characters."),
        ({"line2": "Suite 4\nDrop table"}, "line2", "Use a single line of text"),
    ],
)
def test_invalid_values_are_form_errors_and_nothing_is_saved(h, changes, field, error):
    h.add_order(h.store_id, ORDER)
    client = h.client("operator")
    response = client.post(f"/orders/{ORDER}/address", form(**{"city": "Portland", **changes}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The address is not saved; correct the fields marked below." in html
    cell = re.search(rf'<dd class="has-error" data-field="{field}">(.*?)</dd>', html, re.S)
    assert cell and error in cell.group(1)
    assert 'data-saved="Seattle"' in html  # Save Order stays enabled: the form differs from what is saved
    assert h.record(ORDER).address_override is None and address_events(h) == []


def test_hostile_values_are_escaped_when_shown_again(h):
    h.add_order(h.store_id, ORDER)
    client = h.client("operator")
    rejected = client.post(f"/orders/{ORDER}/address", form(city=XSS, country_code="XXX")).get_data(as_text=True)
    assert str(escape(XSS)) in rejected
    assert client.post(f"/orders/{ORDER}/address", form(city=XSS)).status_code == 302
    assert h.record(ORDER).address_override == {"city": XSS}
    viewer = h.client("viewer").get(f"/orders/{ORDER}").get_data(as_text=True)
    for html in (rejected, client.get(f"/orders/{ORDER}").get_data(as_text=True), viewer):
        assert "<script>alert" not in html and "<img src=x" not in html
    assert f'<dd data-field="city">{escape(XSS)} <span class="corrected">(corrected)</span></dd>' in viewer


def test_commerce_order_exists_note(h):
    h.add_order(h.store_id, ORDER, import_state="imported", magento_entity_id=42, magento_increment_id="000000042")
    client = h.client("operator")
    page = client.get(f"/orders/{ORDER}").get_data(as_text=True)
    assert (
        "The Commerce order #000000042 already exists; corrections made here apply to the bridge&#39;s record only"
        in page
    )
    response = client.post(f"/orders/{ORDER}/address", form(city="Portland"), follow_redirects=True)
    html = response.get_data(as_text=True)
    assert f'<div class="message message-warning" role="status">{escape(NOTE)}</div>' in html
    assert h.record(ORDER).address_override == {"city": "Portland"}


def test_reset_to_amazons_address(h):
    h.add_order(h.store_id, ORDER, address_override={"city": "Portland", "line2": "Suite 4"})
    client = h.client("operator", username="omar")
    html = client.get(f"/orders/{ORDER}").get_data(as_text=True)
    assert html.count("(corrected)") == 2
    response = client.post(f"/orders/{ORDER}/address/reset", {"store": "us"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert f"The shipping address of order {ORDER} is Amazon&#39;s again." in html
    assert "(corrected)" not in html and input_value(html, "city") == "Seattle"
    assert h.record(ORDER).address_override is None
    [event] = address_events(h)
    assert (event.kind, event.actor) == ("address_reset", "omar")
    assert event.message == "Shipping address reset to Amazon's; fields changed back: address line 2, city."
    again = client.post(f"/orders/{ORDER}/address/reset", {"store": "us"}, follow_redirects=True)
    assert "The shipping address is Amazon&#39;s already." in again.get_data(as_text=True)


def test_save_and_retry_import_for_an_order_in_error(h):
    error = "Cannot create sales order: region 'Wash.' of country US not found"
    h.add_order(h.store_id, ORDER, import_state="error", last_error=error)
    client = h.client("operator", username="opal")
    html = client.get(f"/orders/{ORDER}").get_data(as_text=True)
    assert re.search(r'form="address-form" name="then" value="retry" data-needs-change>Save and retry import<', html)
    response = client.post(f"/orders/{ORDER}/address", form(region="WA", city="Tacoma", then="retry"))
    assert response.status_code == 302
    record = h.record(ORDER)
    assert record.address_override == {"city": "Tacoma"}
    assert record.import_state == "queued"
    assert [e.kind for e in record.events][-2:] == ["address_corrected", "retry"]
    assert Queue("orders", connection=h.runtime.redis).job_ids == [f"import-{h.store_id}-{ORDER}"]
    html = client.get(response.location).get_data(as_text=True)
    assert f"Import of order {ORDER} is queued." in html


def test_pure_rules():
    amazon = dict(AMAZON)
    assert override_for(amazon, {**amazon, "city": "Portland", "country_code": "us"}) == {"city": "Portland"}
    assert current_address(amazon, {"city": "Portland", "bogus": "x"})["city"] == "Portland"
    assert current_address(amazon, None) == amazon


# -- end to end, with both twins ------------------------------------------------------------------------------


@pytest.fixture
def live(sqlite_url, redis_url, magento_twin, amazon_twin, monkeypatch):
    """The pipeline and the admin on one runtime (as in test_admin_linked)."""
    from admin_ui import create_app
    from admin_ui.users import create_user
    from tests.harness import make_bridge

    bridge = make_bridge(
        database_url=sqlite_url, redis_url=redis_url, magento=magento_twin, amazon=amazon_twin, monkeypatch=monkeypatch
    )
    settings = bridge.runtime.settings
    bridge.runtime.settings = replace(
        settings, magento=replace(settings.magento, admin_url=f"{magento_twin.url}/admin")
    )
    bridge.app = create_app(bridge.runtime.settings, runtime=bridge.runtime, test_config={"TESTING": True})
    with bridge.runtime.db.session() as session:
        create_user(session, "fixer", "operator", "address test password")
    yield bridge
    from admin_ui.extensions import db

    with bridge.app.app_context():
        db.engine.dispose()


def test_correction_made_while_import_is_held_reaches_magento(live):
    from tests.harness import v2026_order

    order = "114-7777777-7777777"
    live.add_products([("SKU-1", "Thing", "10.00")])
    live.set_settings(import_enabled=False)  # held while the address is fixed
    live.seed_amazon([v2026_order(order)])
    live.sync()
    assert live.record(order).import_state != "imported"

    client = AdminClient(live.app.test_client())
    assert client.login("fixer", "address test password").status_code == 302
    page = client.get(f"/orders/{order}").get_data(as_text=True)
    assert input_value(page, "city") == "Seattle"
    response = client.post(f"/orders/{order}/address", {**form(city="Portland", postal_code="97204", region="OR")})
    assert response.status_code == 302
    assert live.record(order).address_override == {"city": "Portland", "postal_code": "97204", "region": "OR"}

    live.sync()  # Amazon's snapshot is read again; the correction stays
    assert live.record(order).address_override["city"] == "Portland"
    live.set_settings(import_enabled=True)
    live.sync()
    record = live.record(order)
    assert record.import_state == "imported", record.last_error

    full = live.magento_order(record.magento_entity_id)
    shipping = full["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]
    assert (shipping["city"], shipping["postcode"], shipping["street"]) == ("Portland", "97204", ["2201 Westlake Ave"])
    assert shipping["region_id"] == 49  # Oregon in Magento's directory
    # now that the Commerce order exists, the page says a later correction won't reach it
    page = client.get(f"/orders/{order}").get_data(as_text=True)
    assert f"The Commerce order #{record.magento_increment_id} already exists; corrections made here" in page
