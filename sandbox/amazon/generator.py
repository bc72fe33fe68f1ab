"""Realistic, reproducible Amazon orders (v2026-01-01 `Order` dicts) for the demo, tests and benchmarks.

Same seed, catalog and `now` → the same orders, byte for byte.

How the money adds up (every amount a Decimal in the marketplace currency's minor unit, rendered as a
string; JPY has no decimals). For each order item:

- ``ITEM``      = unitPrice × quantityOrdered
- ``SHIPPING``  = the shipping charged for the item (present only when non-zero)
- ``TAX``       = item tax + shipping tax, with ``detailedBreakdowns`` subtypes ``ITEM`` and ``SHIPPING``
                  (tax is computed on the price after promotions and added on top of it)
- ``DISCOUNT``  = −(item promotion discount + shipping promotion discount), negative, with
                  ``detailedBreakdowns`` ``ITEM`` / ``SHIPPING`` (present only when non-zero)
- ``proceedsTotal`` = ITEM + SHIPPING + TAX + DISCOUNT

Who remits the tax (``tax.taxCollections``): in the US Amazon does, as marketplace facilitator, for every
item. Elsewhere the seller does, unless ``amazon_collects_tax=True``: then UK items carry Amazon's VOEC
collection and DE items the EU IOSS one (``taxCalculationBreakdowns[].reportingScheme = IOSS``), as for
low-value goods shipped in from outside. Amazon Business orders carry the buyer's VAT registration and
``taxInvoicing``; ``replacement_rate`` makes some orders zero-total replacements of an earlier order.

The order's ``proceeds.breakdowns`` hold, per type, the sum of that type over the items, and
``proceeds.grandTotal`` = Σ order breakdowns = Σ item ``proceedsTotal``, exactly. An importer can rebuild
Magento's grand total from the item blocks alone: subtotal = Σ ITEM, shipping = Σ SHIPPING, tax = Σ TAX,
discount = Σ DISCOUNT.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .clock import iso
from .money import money, quantize


@dataclass(frozen=True)
class CatalogProduct:
    sku: str
    name: str
    price: Decimal  # in `currency`
    currency: str
    asin: str


@dataclass(frozen=True)
class Marketplace:
    code: str
    marketplace_id: str
    name: str
    currency: str
    country: str
    tax_rate: Decimal
    fx: Decimal  # units of currency per USD
    shipping: Decimal
    order_prefixes: tuple[str, ...]
    email_domain: str
    tax_party: str
    amazon_collects_tax: bool = False  # US marketplace facilitator: Amazon collects and remits the sales tax


MARKETPLACES: dict[str, Marketplace] = {
    "US": Marketplace("US", "ATVPDKIKX0DER", "Amazon.com", "USD", "US", Decimal("0.0825"), Decimal("1"),
                      Decimal("4.99"), ("111", "112", "113", "114"), "marketplace.amazon.com",
                      "Amazon Services, Inc.", True),
    "UK": Marketplace("UK", "A1F83G8C2ARO7P", "Amazon.co.uk", "GBP", "GB", Decimal("0.20"), Decimal("0.79"),
                      Decimal("2.99"), ("202", "203", "204", "205", "206"), "marketplace.amazon.co.uk",
                      "Amazon Services Europe S.a.r.L."),
    "DE": Marketplace("DE", "A1PA6795UKMFR9", "Amazon.de", "EUR", "DE", Decimal("0.19"), Decimal("0.92"),
                      Decimal("3.99"), ("302", "303", "304", "305", "306"), "marketplace.amazon.de",
                      "Amazon Services Europe S.a.r.L."),
    "JP": Marketplace("JP", "A1VC38T7YXB528", "Amazon.co.jp", "JPY", "JP", Decimal("0.10"), Decimal("150"),
                      Decimal("500"), ("249", "250", "503"), "marketplace.amazon.co.jp",
                      "Amazon Japan G.K."),
}

_ADJECTIVES = ["Stainless", "Organic", "Wireless", "Ergonomic", "Vintage", "Compact", "Premium", "Bamboo",
               "Ceramic", "Waterproof", "Café-Style", "Nordic Ørsted", "Edelstahl-", "Crème", "Smart"]
_NOUNS = ["Water Bottle", "Coffee Grinder", "Desk Lamp", "Yoga Mat", "Headphones", "Tea Set", "Backpack",
          "Cutting Board", "Phone Stand", "Kaffeemühle", "Trinkflasche", "水筒 500ml", "マグカップ",
          "Throw Blanket", "Notebook", "Plant Pot", "Bluetooth Speaker", "Garden Hose", "LED Strip"]
_COLOURS = ["Black", "White", "Sage", "Navy", "Terracotta", "Grün", "Bleu", "黒", "Charcoal", "Rosé"]

_PEOPLE = {
    "US": ["John Smith", "María José García", "Chloé Dubois", "Nguyễn Văn An", "Zoë O'Connor",
           "José Álvarez", "Aiyana Redcloud", "Søren Kierkegaard"],
    "GB": ["Sarah Thompson", "Siobhán Ó Briain", "Rhys ap Gruffydd", "Zoë Kowalczyk", "Oliver Brown"],
    "DE": ["Jürgen Müller", "Zoë Weiß", "Björn Strauß", "Ölçüm Yılmaz", "Anna-Lena Fröhlich"],
    "JP": ["山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲", "田中 健"],
}
_STREETS = {
    "US": [("123 Main Street", "Seattle", "WA", "98101"), ("4500 Elm Ave", "Austin", "TX", "78701"),
           ("77 Ocean Blvd Apt 5", "Miami", "FL", "33139"), ("1 Infinite Loop", "Cupertino", "CA", "95014")],
    "GB": [("45 Oak Avenue", "London", "England", "SW1A 1AA"), ("12 Queen's Road", "Brighton", "England",
                                                                "BN1 3XE"),
           ("3 Princes Street", "Edinburgh", "Scotland", "EH2 2AN")],
    "DE": [("Hauptstraße 5", "München", "Bayern", "80331"), ("Königsallee 12", "Düsseldorf",
                                                            "Nordrhein-Westfalen", "40212"),
           ("Straße des 17. Juni 100", "Berlin", "Berlin", "10623")],
    "JP": [("渋谷2-21-1", "渋谷区", "東京都", "150-0002"), ("梅田3-1-3", "大阪市北区", "大阪府", "530-0001"),
           ("栄3-5-1", "名古屋市中区", "愛知県", "460-0008")],
}
_PHONES = {"US": "+1 206-555-{:04d}", "GB": "+44 20 7946 {:04d}", "DE": "+49 30 1234{:04d}",
           "JP": "+81 3-1234-{:04d}"}
_CARRIERS = {"US": ("UPS", "UPS Ground"), "GB": ("Royal Mail", "Tracked 48"), "DE": ("DHL", "DHL Paket"),
             "JP": ("Yamato Transport", "宅急便")}


def _asin(rng: random.Random) -> str:
    return "B0" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(8))


def generate_catalog(seed: int, count: int) -> list[CatalogProduct]:
    """`count` products with unique SKUs and USD prices (converted per marketplace by the order generator)."""
    rng = random.Random(f"catalog:{seed}")
    products = []
    for index in range(count):
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} – {rng.choice(_COLOURS)}"
        dollars = rng.choice([4, 7, 9, 12, 14, 19, 24, 29, 34, 39, 49, 59, 79, 99, 149])
        price = Decimal(dollars) + rng.choice([Decimal("0.99"), Decimal("0.95"), Decimal("0.49"),
                                               Decimal("0.00")])
        products.append(CatalogProduct(sku=f"SKU-{seed % 1000:03d}-{index + 1:05d}", name=name, price=price,
                                       currency="USD", asin=_asin(rng)))
    return products


def _local_price(product: CatalogProduct, mp: Marketplace) -> Decimal:
    if mp.currency == product.currency:
        return product.price
    converted = product.price * mp.fx
    if mp.currency == "JPY":
        return quantize(converted / 10, "JPY") * 10  # ¥1,980-style round prices
    return quantize(converted, mp.currency) // 1 + Decimal("0.99")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _pick_status(rng: random.Random, afn: bool) -> str:
    if afn:
        return rng.choices(["SHIPPED", "PENDING", "CANCELLED"], [80, 10, 10])[0]
    return rng.choices(["UNSHIPPED", "SHIPPED", "PENDING", "CANCELLED", "PARTIALLY_SHIPPED"],
                       [45, 30, 9, 8, 8])[0]


def _breakdown(kind: str, value: Decimal, currency: str, details: dict[str, Decimal] | None = None) -> dict:
    out: dict = {"type": kind, "subtotal": money(value, currency)}
    if details:
        out["detailedBreakdowns"] = [{"subtype": k, "value": money(v, currency)} for k, v in details.items()]
    return out


def _make_replacement(order: dict, original_id: str, currency: str) -> None:
    """Amazon's replacement for an earlier order: same kind of goods, nothing charged."""
    order["associatedOrders"] = [{"orderId": original_id, "associationType": "REPLACEMENT_ORIGINAL_ID"}]
    zero = money(Decimal("0"), currency)
    for item in order["orderItems"]:
        item["proceeds"] = {"proceedsTotal": zero, "breakdowns": [{"type": "ITEM", "subtotal": zero}]}
        item.pop("tax", None)
        item.pop("promotion", None)
    order["proceeds"] = {"grandTotal": zero, "breakdowns": [{"type": "ITEM", "subtotal": zero}]}


def generate_orders(count: int, seed: int, catalog: Sequence[CatalogProduct], *,
                    marketplaces: Iterable[str] = ("US", "UK", "DE", "JP"), unknown_sku_rate: float = 0.0,
                    afn_rate: float = 0.2, now: datetime | None = None, amazon_collects_tax: bool | None = None,
                    replacement_rate: float = 0.0) -> list[dict]:
    """`count` v2026 Order dicts spread over the three days before `now` (default: the current time)."""
    return list(iter_orders(count, seed, catalog, marketplaces=marketplaces, unknown_sku_rate=unknown_sku_rate,
                            afn_rate=afn_rate, now=now, amazon_collects_tax=amazon_collects_tax,
                            replacement_rate=replacement_rate))


def iter_orders(count: int, seed: int, catalog: Sequence[CatalogProduct], *,
                marketplaces: Iterable[str] = ("US", "UK", "DE", "JP"), unknown_sku_rate: float = 0.0,
                afn_rate: float = 0.2, now: datetime | None = None, amazon_collects_tax: bool | None = None,
                replacement_rate: float = 0.0) -> Iterator[dict]:
    """The orders of `generate_orders`, one at a time, so 100,000 of them can be loaded in batches (bench/)."""
    if not catalog:
        raise ValueError("the catalog is empty")
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    rng = random.Random(f"orders:{seed}")
    codes = list(marketplaces)
    order_ids: list[str] = []  # earlier orders, for replacements to point at
    used_ids: set[str] = set()
    for _ in range(count):
        mp = MARKETPLACES[rng.choice(codes)]
        facilitated = mp.amazon_collects_tax if amazon_collects_tax is None else amazon_collects_tax
        afn = rng.random() < afn_rate
        status = _pick_status(rng, afn)
        created = now - timedelta(seconds=rng.randint(600, 3 * 86400))
        updated = created + timedelta(seconds=rng.randint(0, int((now - created).total_seconds())))
        order_id = f"{rng.choice(mp.order_prefixes)}-{_digits(rng, 7)}-{_digits(rng, 7)}"
        while order_id in used_ids:
            order_id = f"{rng.choice(mp.order_prefixes)}-{_digits(rng, 7)}-{_digits(rng, 7)}"
        used_ids.add(order_id)
        n_items = rng.choices([1, 2, 3, 4, 5], [55, 25, 12, 5, 3])[0]
        products = rng.sample(list(catalog), min(n_items, len(catalog)))
        if status == "PARTIALLY_SHIPPED" and len(products) < 2:
            status = "UNSHIPPED"
        prime = rng.random() < 0.4
        business = rng.random() < 0.05
        ship_charge = Decimal("0") if (prime or afn or rng.random() < 0.4) else mp.shipping
        free_ship_promo = ship_charge > 0 and rng.random() < 0.1
        items: list[dict] = []
        totals: dict[str, Decimal] = {}
        for index, product in enumerate(products):
            qty = rng.choices([1, 2, 3], [75, 18, 7])[0]
            unit = _local_price(product, mp)
            item_total = unit * qty
            shipping = ship_charge if index == 0 else Decimal("0")
            promo_id = None
            item_discount = Decimal("0")
            if rng.random() < 0.2:
                promo_id = f"PROMO-{mp.code}-{rng.choice(['SPRING', 'WINTER', 'PRIME', 'BUNDLE'])}-{_digits(rng, 3)}"
                item_discount = quantize(item_total * Decimal("0.10"), mp.currency)
            ship_discount = shipping if free_ship_promo else Decimal("0")
            if free_ship_promo and promo_id is None and index == 0:
                promo_id = f"FREESHIP-{mp.code}-{_digits(rng, 4)}"
            item_tax = quantize((item_total - item_discount) * mp.tax_rate, mp.currency)
            ship_tax = quantize((shipping - ship_discount) * mp.tax_rate, mp.currency)
            breakdowns = [_breakdown("ITEM", item_total, mp.currency)]
            parts = {"ITEM": item_total}
            if shipping:
                breakdowns.append(_breakdown("SHIPPING", shipping, mp.currency))
                parts["SHIPPING"] = shipping
            tax_details = {"ITEM": item_tax}
            if shipping:
                tax_details["SHIPPING"] = ship_tax
            breakdowns.append(_breakdown("TAX", item_tax + ship_tax, mp.currency, tax_details))
            parts["TAX"] = item_tax + ship_tax
            if item_discount or ship_discount:
                details = {}
                if item_discount:
                    details["ITEM"] = -item_discount
                if ship_discount:
                    details["SHIPPING"] = -ship_discount
                breakdowns.append(_breakdown("DISCOUNT", -(item_discount + ship_discount), mp.currency, details))
                parts["DISCOUNT"] = -(item_discount + ship_discount)
            for kind, value in parts.items():
                totals[kind] = totals.get(kind, Decimal("0")) + value
            sku = product.sku
            if rng.random() < unknown_sku_rate:  # always drawn, so the rate changes nothing else
                sku = f"UNKNOWN-{_digits(rng, 6)}"
            shipped = qty if status == "SHIPPED" or (status == "PARTIALLY_SHIPPED" and index == 0) else 0
            item: dict = {
                "orderItemId": _digits(rng, 14),
                "quantityOrdered": qty,
                "product": {
                    "asin": product.asin, "title": product.name, "sellerSku": sku,
                    "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                    "price": {"unitPrice": money(unit, mp.currency)},
                },
                "proceeds": {"proceedsTotal": money(sum(parts.values(), Decimal("0")), mp.currency),
                             "breakdowns": breakdowns},
                "fulfillment": {"quantityFulfilled": shipped,
                                "quantityUnfulfilled": 0 if status == "CANCELLED" else qty - shipped},
            }
            if facilitated:
                item["tax"] = {"taxCollections": [{"model": "MARKETPLACE_FACILITATOR",
                                                   "responsibleParty": mp.tax_party}]}
                if mp.code == "DE":
                    item["tax"]["taxCalculationBreakdowns"] = [{"reportingScheme": "IOSS"}]
            if promo_id:
                item["promotion"] = {"breakdowns": [{"promotionId": promo_id}]}
            if status == "CANCELLED":
                item["cancellation"] = {"cancellationExecution": {"cancelledBy": "BUYER",
                                                                  "cancelReason": "BuyerCanceled"}}
            elif status == "UNSHIPPED" and rng.random() < 0.03:
                item["cancellation"] = {"cancellationRequest": {"requester": "BUYER",
                                                                "cancelReason": "Changed my mind"}}
            if rng.random() < 0.05:
                item["fulfillment"]["packing"] = {"giftOption": {"giftMessage": "Alles Gute! 🎁",
                                                                 "giftWrapLevel": "STANDARD"}}
            items.append(item)
        grand_total = sum(totals.values(), Decimal("0"))
        person = rng.choice(_PEOPLE[mp.country])
        street, city, region, postal = rng.choice(_STREETS[mp.country])
        programs = (["PRIME"] if prime else []) + (["AMAZON_BUSINESS"] if business else [])
        order: dict = {
            "orderId": order_id,
            "createdTime": iso(created),
            "lastUpdatedTime": iso(updated),
            "programs": programs,
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": mp.marketplace_id,
                             "marketplaceName": mp.name},
            "buyer": {"buyerName": person,
                      "buyerEmail": f"{_digits(rng, 4)}{rng.choice('abcdefghjk')}{_digits(rng, 6)}@{mp.email_domain}"},
            "proceeds": {"grandTotal": money(grand_total, mp.currency),
                         "breakdowns": [_breakdown(k, v, mp.currency) for k, v in totals.items()]},
            "fulfillment": {
                "fulfillmentStatus": status,
                "fulfilledBy": "AMAZON" if afn else "MERCHANT",
                "fulfillmentServiceLevel": rng.choices(["STANDARD", "EXPEDITED", "NEXT_DAY"], [80, 15, 5])[0],
                "shipByWindow": {"earliestDateTime": iso(created),
                                 "latestDateTime": iso(created + timedelta(days=2))},
                "deliverByWindow": {"earliestDateTime": iso(created + timedelta(days=3)),
                                    "latestDateTime": iso(created + timedelta(days=7))},
            },
            "orderItems": items,
        }
        if business:
            order["buyer"]["buyerCompanyName"] = f"{person.split()[-1]} GmbH" if mp.country == "DE" \
                else f"{person.split()[-1]} Ltd"
            order["buyer"]["buyerPurchaseOrderNumber"] = f"PO-{_digits(rng, 6)}"
            order["tax"] = {"taxRegistrations": [{
                "entityType": "BUYER", "taxRegistrationType": "VAT" if mp.country != "US" else "BUSINESS",
                "taxRegistrationNumber": f"{mp.country}{order_id.replace('-', '')[-9:]}",
                "legalName": order["buyer"]["buyerCompanyName"],
            }], "taxInvoicing": {"buyerInvoicePreference": "BUSINESS"}}
        if replacement_rate and order_ids and rng.random() < replacement_rate:
            _make_replacement(order, rng.choice(order_ids), mp.currency)
        if status != "PENDING":
            order["recipient"] = {"deliveryAddress": {
                "name": person, "addressLine1": street, "city": city, "stateOrRegion": region,
                "postalCode": postal, "countryCode": mp.country,
                "phone": _PHONES[mp.country].format(rng.randint(0, 9999)),
                "addressType": "COMMERCIAL" if business else "RESIDENTIAL",
            }}
        if not afn and status in ("SHIPPED", "PARTIALLY_SHIPPED"):
            carrier, service = _CARRIERS[mp.country]
            shipped_items = [i for i in items if i["fulfillment"]["quantityFulfilled"]]
            order["packages"] = [{
                "packageReferenceId": "1", "createdTime": iso(updated), "packageStatus": {"status": "SHIPPED"},
                "carrier": carrier, "shipTime": iso(updated), "shippingService": service,
                "trackingNumber": f"1Z{_digits(rng, 16)}",
                "packageItems": [{"orderItemId": i["orderItemId"], "quantity": i["fulfillment"]["quantityFulfilled"]}
                                 for i in shipped_items],
            }]
        order_ids.append(order_id)
        yield order
