"""Amazon Order Details shows what Amazon said beyond lines and totals, only when it said it, escaped."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from bridge.storage.models import Store
from tests.harness import line, v2026_order

FACILITATED = {"taxCollections": [{"model": "MARKETPLACE_FACILITATOR", "responsibleParty": "Amazon Services, Inc."}]}


def full_order(amazon_order_id: str) -> dict:
    raw = v2026_order(amazon_order_id, items=[line("SKU-1", "Thing", "2", "10.00", tax="1.65")])
    raw["orderItems"][0]["tax"] = copy.deepcopy(FACILITATED)
    raw["orderItems"][0]["fulfillment"]["packing"] = {
        "giftOption": {"giftMessage": "<b>Happy</b> birthday", "giftWrapLevel": "PREMIUM"}}
    raw["fulfillment"]["shipByWindow"] = {"earliestDateTime": "2026-11-20T00:00:00Z",
                                          "latestDateTime": "2026-11-22T23:59:59Z"}
    raw["fulfillment"]["deliverByWindow"] = {"earliestDateTime": "2026-11-24T00:00:00Z",
                                             "latestDateTime": "2026-11-27T23:59:59Z"}
    raw["tax"] = {"taxRegistrations": [{"entityType": "BUYER", "taxRegistrationType": "VAT",
                                        "taxRegistrationNumber": "DE123456789", "legalName": "Müller GmbH"}],
                  "taxInvoicing": {"buyerInvoicePreference": "BUSINESS"}}
    raw["associatedOrders"] = [{"orderId": "113-0000000-0000001", "associationType": "REPLACEMENT_ORIGINAL_ID"}]
    return raw


def test_details_show_amazons_tax_business_gift_delivery_and_replacement(h):
    store = h.add_store()
    h.add_order(store.id, "113-0000000-0000001")
    h.add_order(store.id, "113-0000000-0000002", snapshot=full_order("113-0000000-0000002"),
                latest_ship_date=datetime(2026, 11, 22, 23, 59, tzinfo=UTC))  # as the sync stores it

    html = h.client("viewer").get("/orders/113-0000000-0000002").get_data(as_text=True)

    assert "Tax, business buyer and gifts" in html
    assert "$1.65 (Marketplace facilitator), remitted by Amazon Services, Inc.;" in html
    assert "excluded from the Commerce order's totals" in html
    assert "Buyer: VAT DE123456789 (Müller GmbH)" in html
    assert "<dt>Invoice preference</dt><dd>BUSINESS</dd>" in html
    assert '<dd id="ship-by">2026-11-20 00:00 UTC – 2026-11-22 23:59 UTC</dd>' in html
    assert '<dd id="deliver-by">2026-11-24 00:00 UTC – 2026-11-27 23:59 UTC</dd>' in html
    assert 'href="/orders/113-0000000-0000001?store=' in html  # the replaced order, linked
    assert "Thing (SKU-1): &lt;b&gt;Happy&lt;/b&gt; birthday" in html and "<b>Happy</b>" not in html
    assert "Thing (SKU-1): PREMIUM" in html


def test_the_include_setting_is_what_the_page_says(h):
    store = h.add_store()
    with h.runtime.db.session() as session:
        session.get(Store, store.id).order_settings.amazon_collected_tax = "include"
        session.commit()
    h.add_order(store.id, "113-0000000-0000003", snapshot=full_order("113-0000000-0000003"))
    html = h.client("viewer").get("/orders/113-0000000-0000003").get_data(as_text=True)
    assert "included in the Commerce order's tax" in html


def test_nothing_is_shown_that_amazon_did_not_send(h):
    store = h.add_store()
    h.add_order(store.id, "113-0000000-0000004", snapshot=v2026_order("113-0000000-0000004"))
    html = h.client("viewer").get("/orders/113-0000000-0000004").get_data(as_text=True)
    assert "Tax, business buyer and gifts" not in html
    for label in ("Tax collected by Amazon", "Tax registration", "Gift message", "Gift wrap", "Deliver by",
                  "Replacement for", "Invoice preference"):
        assert label not in html, label


def test_tax_collected_by_amazon_is_an_order_setting_excluded_by_default(h):
    from bridge.order_settings import AmazonCollectedTax
    from bridge.storage.stores import order_settings
    from tests.admin.test_admin_settings import VALID, settings_row

    h.store_id = h.add_store().id
    client = h.client("admin")
    page = client.get("/stores/us/settings").get_data(as_text=True)
    assert "Tax Collected By Amazon" in page and "UK VOEC" in page  # the label and its tooltip
    assert order_settings(settings_row(h)).amazon_collected_tax is AmazonCollectedTax.EXCLUDE

    response = client.post("/stores/us/settings", dict(VALID, amazon_collected_tax="include"), follow_redirects=True)
    assert response.status_code == 200
    assert order_settings(settings_row(h)).amazon_collected_tax is AmazonCollectedTax.INCLUDE

    response = client.post("/stores/us/settings", dict(VALID, amazon_collected_tax="keep"))
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    assert order_settings(settings_row(h)).amazon_collected_tax is AmazonCollectedTax.INCLUDE
