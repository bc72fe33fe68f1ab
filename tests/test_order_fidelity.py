"""Commerce orders carry what Amazon says: tax Amazon collects, business buyers, gifts, dates, replacements.

Amazon's v2026 JSON (hand-made in Amazon's shape, Amazon's sandbox examples, generated orders) goes through
the real mapper and builder; the end-to-end tests run Amazon twin -> bridge -> Magento twin over HTTP.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
import requests

from bridge.amazon.mapping import order_from_v2026
from bridge.importer.order_builder import OrderBuildError, build_order_payload
from bridge.links import OrderLinks
from bridge.magento import MagentoClient
from bridge.order_settings import AmazonCollectedTax, OrderSettings
from sandbox.amazon.generator import generate_catalog, generate_orders
from sandbox.magento.config import EXAMPLE_EXTRA_VIEWS, default_store_views
from sandbox.magento.testing import start_magento_twin
from tests.harness import line, make_bridge, money, v2026_order
from tests.test_order_builder import REGIONS, SANDBOX, catalog_for, store

D = Decimal
LINKS = OrderLinks(view_url="http://admin.test/orders/X", list_url="http://admin.test/orders")
EXCLUDE = OrderSettings()
INCLUDE = OrderSettings(amazon_collected_tax=AmazonCollectedTax.INCLUDE)

# (currency, marketplace id, country, responsible party, reporting scheme, what the merchant reads)
SCHEMES = [
    ("USD", "ATVPDKIKX0DER", "US", "Amazon Services, Inc.", None, "Marketplace facilitator"),
    ("GBP", "A1F83G8C2ARO7P", "GB", "Amazon Services Europe S.a.r.L.", None, "UK VOEC"),
    ("EUR", "A1PA6795UKMFR9", "DE", "Amazon Services Europe S.a.r.L.", "IOSS", "EU IOSS"),
]


def collected_by_amazon(item: dict, party: str, scheme: str | None = None) -> dict:
    item = copy.deepcopy(item)
    item["tax"] = {"taxCollections": [{"model": "MARKETPLACE_FACILITATOR", "responsibleParty": party}]}
    if scheme:
        item["tax"]["taxCalculationBreakdowns"] = [{"reportingScheme": scheme}]
    return item


def mixed_order(currency: str, marketplace: str, country: str, party: str, scheme: str | None) -> dict:
    """One line whose tax Amazon remits (item + shipping tax), one whose tax the seller collects."""
    raw = v2026_order("111-0000000-0000001", currency=currency, items=[
        collected_by_amazon(line("SKU-1", "Thing", "2", "10.00", tax="1.65", shipping="4.99", shipping_tax="0.41",
                                 currency=currency), party, scheme),
        line("SKU-2", "Other", "1", "5.00", tax="0.41", currency=currency),
    ])
    raw["salesChannel"]["marketplaceId"] = marketplace
    raw["recipient"]["deliveryAddress"]["countryCode"] = country
    return raw


def build(raw: dict, settings: OrderSettings = EXCLUDE, currency: str | None = None, **kw) -> dict:
    order = order_from_v2026(raw)
    return build_order_payload(order, settings, store=store(currency or order.currency), products=catalog_for(order),
                               sku_map=lambda s: s, region_ids=REGIONS, links=LINKS, **kw)["entity"]


def comments(entity: dict) -> str:
    return "\n".join(h["comment"] for h in entity.get("status_histories") or [])


def dec(value) -> Decimal:
    return Decimal(str(value))


@pytest.mark.parametrize(("currency", "marketplace", "country", "party", "scheme", "label"), SCHEMES)
def test_tax_amazon_collects_is_left_out_by_default_and_the_totals_still_add_up(
        currency, marketplace, country, party, scheme, label):
    raw = mixed_order(currency, marketplace, country, party, scheme)
    amazon_total = D(raw["proceeds"]["grandTotal"]["amount"])
    assert amazon_total == D("32.46")

    entity = build(raw)

    assert dec(entity["tax_amount"]) == D("0.41")  # only the seller's own tax
    assert dec(entity["grand_total"]) == amazon_total - D("2.06")
    assert dec(entity["grand_total"]) + D("2.06") == amazon_total  # to the cent
    assert dec(entity["payment"]["amount_ordered"]) == dec(entity["grand_total"])
    facilitated, own = entity["items"]
    assert dec(facilitated["tax_amount"]) == 0 and dec(facilitated["row_total_incl_tax"]) == D("20.00")
    assert dec(own["tax_amount"]) == D("0.41")
    assert dec(entity["shipping_tax_amount"]) == 0
    assert (f"<b>Tax collected by Amazon:</b> 2.06 {currency} ({label}), remitted by {party}; "
            "excluded from the order totals") in comments(entity)


@pytest.mark.parametrize(("currency", "marketplace", "country", "party", "scheme", "label"), SCHEMES)
def test_tax_amazon_collects_can_be_booked_as_before_and_still_says_who_remits_it(
        currency, marketplace, country, party, scheme, label):
    raw = mixed_order(currency, marketplace, country, party, scheme)

    entity = build(raw, INCLUDE)

    assert dec(entity["tax_amount"]) == D("2.47")
    assert dec(entity["grand_total"]) == D(raw["proceeds"]["grandTotal"]["amount"])
    assert f"2.06 {currency} ({label}), remitted by {party}; included in the order tax" in comments(entity)


def test_a_wrong_amazon_total_is_still_refused_and_the_message_names_amazons_tax():
    raw = mixed_order(*SCHEMES[0][:5])
    raw["proceeds"]["grandTotal"] = money("32.47")
    with pytest.raises(OrderBuildError, match=r"add up to 30.40 USD plus 2.06 USD tax collected by Amazon but "
                                              r"Amazon's order total is 32.47 USD"):
        build(raw)


def test_business_buyer_vat_number_company_po_and_invoice_preference():
    raw = copy.deepcopy(SANDBOX["171-2345678-9012345"])  # Amazon Business, Brazil

    entity = build(raw)

    billing = entity["billing_address"]
    assert billing["vat_id"] == "1234567890"  # the BUYER's VAT registration, not the marketplace's CNPJ
    assert billing["company"] == "Oliveira Tecnologia Ltda"
    assert entity["payment"]["po_number"] == "171-2345678-9012345"  # Magento's PO field keeps the Amazon id
    note = comments(entity)
    assert "<b>Buyer purchase order number:</b> PO-BR-2024-5678" in note
    assert "<b>Tax registration:</b> Buyer: VAT 1234567890 (Oliveira Tecnologia Ltda)" in note
    assert "<b>Amazon Business order</b>" in note
    assert "15436940" not in note and "15436940" not in json.dumps(billing)

    turkish = build(copy.deepcopy(SANDBOX["028-1234567-8901234"]))  # invoice preference is Turkey-only
    assert turkish["billing_address"]["vat_id"] == "TR1234567890"
    assert "<b>Invoice preference:</b> BUSINESS" in comments(turkish)
    assert "tax office tax office" in comments(turkish)


def test_gift_message_goes_to_magento_when_the_store_allows_it_else_into_a_labelled_comment():
    raw = copy.deepcopy(SANDBOX["171-9876543-2109876"])
    message = "Feliz Natal! Espero que goste do seu novo alto-falante inteligente!"

    allowed = build(raw, gift_messages_allowed=True)
    assert allowed["extension_attributes"]["gift_message"]["message"] == message
    assert allowed["extension_attributes"]["gift_message"]["recipient"]
    assert "Gift wrap for" in comments(allowed) and "STANDARD" in comments(allowed)
    assert message not in comments(allowed)

    refused = build(raw, gift_messages_allowed=False)
    assert "gift_message" not in refused["extension_attributes"]
    assert f"<b>Gift message for Echo Dot (5ª Geração) (ECHO-DOT-BR-BLK):</b> {message}" in comments(refused) or (
        "<b>Gift message for " in comments(refused) and message in comments(refused)
    )


def test_ship_by_deliver_by_and_prime_are_on_the_commerce_order():
    raw = copy.deepcopy(SANDBOX["202-7654321-1098765"])
    raw["programs"] = ["PRIME", "PREMIUM"]
    note = comments(build(raw))
    ship = raw["fulfillment"]["shipByWindow"]
    deliver = raw["fulfillment"]["deliverByWindow"]
    assert f"<b>Ship by:</b> {ship['earliestDateTime'][:10]}" in note
    assert f"to {ship['latestDateTime'][:10]} {ship['latestDateTime'][11:16]} UTC" in note
    assert f"<b>Deliver by:</b> {deliver['earliestDateTime'][:10]}" in note
    assert "<b>Shipping program:</b> Prime, Premium shipping" in note


def test_a_zero_total_replacement_imports_and_names_the_order_it_replaces():
    raw = v2026_order("111-0000000-0000009", items=[line("SKU-1", "Thing", "1", "0.00")])
    raw["associatedOrders"] = [{"orderId": "111-0000000-0000001", "associationType": "REPLACEMENT_ORIGINAL_ID"}]

    entity = build(raw, replaced_commerce_order="000000042")

    assert dec(entity["grand_total"]) == 0 and dec(entity["subtotal"]) == 0
    assert ("<b>Replacement for:</b> Amazon order 111-0000000-0000001 (Commerce order #000000042)"
            in comments(entity))


def test_nothing_is_said_that_amazon_did_not_send_and_what_it_sent_is_escaped():
    plain = build(v2026_order("111-0000000-0000010"))
    assert [h["comment"] for h in plain["status_histories"]] == [plain["status_histories"][0]["comment"]]
    assert "Amazon order details" not in comments(plain)

    raw = v2026_order("111-0000000-0000011")
    raw["orderItems"][0]["fulfillment"]["packing"] = {"giftOption": {"giftMessage": "<script>alert(1)</script>"}}
    raw["buyer"]["buyerPurchaseOrderNumber"] = '<img src=x onerror="x">'
    note = comments(build(raw))
    assert "<script>" not in note and "&lt;script&gt;alert(1)&lt;/script&gt;" in note
    assert "<img" not in note and "&lt;img src=x onerror=&quot;x&quot;&gt;" in note


# -- end to end, against both twins ----------------------------------------------------------------------


@pytest.fixture
def magento():
    views = list(default_store_views()) + list(EXAMPLE_EXTRA_VIEWS)
    views[0] = type(views[0])(**{**views[0].__dict__, "allow_gift_messages": True})
    twin = start_magento_twin(store_views=tuple(views))
    yield twin
    twin.stop()


@pytest.fixture
def bridge(sqlite_url, redis_url, magento, amazon_twin, monkeypatch):
    b = make_bridge(database_url=sqlite_url, redis_url=redis_url, magento=magento, amazon=amazon_twin,
                    monkeypatch=monkeypatch)
    yield b
    b.runtime.close()


def test_generated_us_orders_import_without_amazons_tax_and_add_up_to_amazons_totals(bridge):
    catalog = generate_catalog(31, 10)
    bridge.add_products([(p.sku, p.name, p.price) for p in catalog])
    orders = generate_orders(30, 31, catalog, marketplaces=("US",), afn_rate=0.0, replacement_rate=0.15)
    assert any(o.get("associatedOrders") for o in orders)
    bridge.seed_amazon(orders)

    bridge.sync()

    by_id = {o["orderId"]: order_from_v2026(o) for o in orders}
    imported = [bridge.magento_order(o["entity_id"]) for o in bridge.magento_orders()]
    assert imported
    for magento_order in imported:
        amazon = by_id[magento_order["ext_order_id"]]
        assert amazon.facilitator_tax == sum((i.tax for i in amazon.items), D(0))
        assert dec(magento_order["grand_total"]) + amazon.facilitator_tax == amazon.order_total
        assert dec(magento_order["tax_amount"]) == 0
        if amazon.facilitator_tax:
            assert "remitted by Amazon Services, Inc." in comments(magento_order)
        if amazon.replaced_order_id:
            assert dec(magento_order["grand_total"]) == 0
            assert f"Amazon order {amazon.replaced_order_id}" in comments(magento_order)
    replacements = [o for o in imported if by_id[o["ext_order_id"]].replaced_order_id]
    assert replacements, "no zero-total replacement was imported"
    assert all(bridge.record(o["ext_order_id"]).import_state == "imported" for o in replacements)


def test_business_gift_and_vat_reach_the_commerce_order_in_magento(bridge, magento):
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    raw = v2026_order("111-0000000-0000021", items=[line("SKU-1", "Thing", "1", "10.00", tax="0.83")])
    raw["orderItems"][0]["fulfillment"]["packing"] = {"giftOption": {"giftMessage": "Happy birthday, Zoë!",
                                                                     "giftWrapLevel": "PREMIUM"}}
    raw["buyer"].update({"buyerCompanyName": "Doe Widgets LLC", "buyerPurchaseOrderNumber": "PO-77"})
    raw["tax"] = {"taxRegistrations": [{"entityType": "BUYER", "taxRegistrationType": "BUSINESS",
                                        "taxRegistrationNumber": "12-3456789"}]}
    raw["programs"] = ["AMAZON_BUSINESS"]
    bridge.seed_amazon([raw])

    bridge.sync()

    [summary] = bridge.magento_orders(ext_order_id="111-0000000-0000021")
    stored = bridge.magento_order(summary["entity_id"])
    assert stored["billing_address"]["vat_id"] == "12-3456789"
    assert stored["billing_address"]["company"] == "Doe Widgets LLC"
    assert stored["extension_attributes"]["gift_message"]["message"] == "Happy birthday, Zoë!"
    note = comments(stored)
    assert "PO-77" in note and "PREMIUM" in note and "Doe Widgets LLC" in note
    page = requests.get(f"{magento.url}/admin/sales/order/view/order_id/{summary['entity_id']}", timeout=10).text
    assert "PO-77" in page and "PREMIUM" in page  # the packing staff read it on Magento's order page
    assert "Gift Options" in page and "Happy birthday, Zoë!" in page


def test_a_store_without_gift_messages_gets_the_message_as_a_labelled_comment(sqlite_url, redis_url, magento_twin,
                                                                             amazon_twin, monkeypatch):
    bridge = make_bridge(database_url=sqlite_url, redis_url=redis_url, magento=magento_twin, amazon=amazon_twin,
                         monkeypatch=monkeypatch)  # the twin's default: gift messages not allowed, as Magento's
    bridge.add_products([("SKU-1", "Thing", "10.00")])
    raw = v2026_order("111-0000000-0000022", items=[line("SKU-1", "Thing", "1", "10.00")])
    raw["orderItems"][0]["fulfillment"]["packing"] = {"giftOption": {"giftMessage": "For you"}}
    bridge.seed_amazon([raw])

    bridge.sync()

    [summary] = bridge.magento_orders(ext_order_id="111-0000000-0000022")
    stored = bridge.magento_order(summary["entity_id"])
    assert "gift_message" not in stored.get("extension_attributes", {})
    assert "<b>Gift message for Thing (SKU-1):</b> For you" in comments(stored)
    assert bridge.record("111-0000000-0000022").import_state == "imported"
    bridge.runtime.close()


def test_magento_tells_whether_gift_messages_are_allowed_and_refuses_them_after_saving_when_not(magento):
    from tests.test_magento_client import NO_WAIT, settings_for

    client = MagentoClient(settings_for(magento), retry=NO_WAIT)
    assert client.gift_messages_allowed("default") is True
    assert client.gift_messages_allowed("uk") is False
    assert client.gift_messages_allowed("nosuchview") is False
    dead = MagentoClient(settings_for(magento, base_url="http://127.0.0.1:9"), retry=NO_WAIT)
    assert dead.gift_messages_allowed("default") is False  # no answer: the comment path, never a failure


# -- mapping: bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda o: o["orderItems"][0].__setitem__("tax", {"taxCollections": "MARKETPLACE_FACILITATOR"}),
     r"orderItems\[0\]\.tax\.taxCollections"),
    (lambda o: o.__setitem__("tax", {"taxRegistrations": ["DE123"]}), r"tax\.taxRegistrations\[0\]"),
    (lambda o: o.__setitem__("associatedOrders", [{"orderId": 5, "associationType": "REPLACEMENT_ORIGINAL_ID"}]),
     r"associatedOrders\[0\]\.orderId"),
    (lambda o: o["orderItems"][0]["fulfillment"].__setitem__("packing", {"giftOption": {"giftMessage": 7}}),
     r"giftOption\.giftMessage"),
    (lambda o: o["fulfillment"].__setitem__("deliverByWindow", {"latestDateTime": "next week"}),
     r"deliverByWindow\.latestDateTime"),
])
def test_malformed_new_fields_park_the_order_with_the_field_named(mutate, path):
    from bridge.amazon.errors import AmazonDataError

    raw = v2026_order("111-0000000-0000031")
    mutate(raw)
    with pytest.raises(AmazonDataError, match=rf"111-0000000-0000031.*{path}"):
        order_from_v2026(raw)
