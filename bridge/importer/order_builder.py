"""Amazon order → the body of Magento's `PUT /V1/orders/create` (pure: no I/O, no clock, no randomness).

The repository save behind that route stores what it is sent and recalculates nothing, so every amount is
Amazon's: summed exactly in Decimal, rendered as JSON numbers only at the end, and the grand total must
equal Amazon's order total or nothing is built (`OrderBuildError`; the order waits in an error state,
never becomes a wrong Commerce order). Messages of `OrderBuildError` are the notes merchants read, in ASC's
wording where ASC has one. Only keys of Magento's Sales data interfaces are sent, because the web API
rejects unknown fields.

Where each Magento field comes from (sums are over the Amazon order items; amounts in the order currency):

| Magento field                          | Source                                                                  |
|----------------------------------------|-------------------------------------------------------------------------|
| ext_order_id                           | Amazon order id (the idempotency key, looked up before any create)      |
| increment_id                           | prefix + Amazon order id with Order Number Source = Amazon, else omitted |
| store_id                               | the store view of "Import Amazon Orders Into Magento Store"             |
| state / status                         | `new` / `pending` (the offline invoice later moves it on); FBA below    |
| base/order/store/global_currency_code  | order currency; must equal the store view's base currency               |
| *_rate (base_to_global, ...)           | 1                                                                       |
| customer_is_guest / customer_group_id  | 1 / 0 (NOT LOGGED IN) for guests; 0 / the customer's group otherwise    |
| customer_id                            | the existing or newly built customer, when one is given                 |
| customer_email                         | BuyerEmail, else `{AmazonOrderId}@amazon.com` (ASC's placeholder)       |
| customer_firstname / _lastname         | BuyerName split on the first space, else "Amazon Customer"              |
| items[].sku / product_id / product_type| catalog SKU (seller SKU through the store's mapping) and its product    |
| items[].name                           | catalog product name (ASC's quote item is the product), else Amazon's   |
| items[].qty_ordered                    | QuantityOrdered                                                         |
| items[].price, original_price          | ItemPrice / qty, rounded to the currency's minor unit                   |
| items[].row_total                      | ItemPrice (exactly; not price x qty)                                    |
| items[].tax_amount                     | ItemTax; 0 for lines whose tax Amazon collects (*Tax collected by*     |
|                                        | *Amazon* = exclude, the default)                                       |
| items[].tax_percent                    | ItemTax / (ItemPrice - PromotionDiscount) x 100, 4 decimals (derived)   |
| items[].discount_amount                | PromotionDiscount (positive, as Magento keeps item discounts)           |
| items[].price_incl_tax                 | (ItemPrice + ItemTax) / qty, rounded                                    |
| items[].row_total_incl_tax             | ItemPrice + ItemTax                                                     |
| items[].description, ext_order_item_id | Amazon OrderItemId (ASC keeps it on `description` for tracking)         |
| items[].base_*, order base_*           | the same amounts (base currency = order currency)                       |
| subtotal / subtotal_incl_tax           | sum ItemPrice / sum (ItemPrice + ItemTax)                               |
| shipping_amount                        | sum (ShippingPrice + GiftWrapPrice + COD fee and other charges): what   |
|                                        | Magento shows as "Shipping & Handling"                                  |
| shipping_tax_amount                    | sum (ShippingTax + GiftWrapTax)                                         |
| shipping_incl_tax                      | shipping_amount + shipping_tax_amount                                   |
| shipping_discount_amount               | sum ShippingDiscount (positive)                                         |
| discount_amount                        | -(sum PromotionDiscount + sum ShippingDiscount): negative, as Magento   |
|                                        | keeps order discounts                                                   |
| discount_description                   | "Amazon Applied Discount" (ASC), when there is a discount               |
| tax_amount                             | sum ItemTax + shipping_tax_amount                                       |
| grand_total, total_due                 | subtotal + shipping_amount + tax_amount + discount_amount; must equal   |
|                                        | Amazon's order total minus the tax Amazon collects (when excluded)    |
| total_qty_ordered / total_item_count   | sum qty / number of lines                                               |
| weight, items[].weight, row_weight     | product weight x qty (only when every product has a weight)             |
| billing_address                        | BuyerName (+ BuyerCompany) with the shipping street, city, region,      |
|                                        | postcode, country and phone (ASC)                                       |
| billing_address.vat_id                 | the buyer's tax registration number (VAT first) from taxRegistrations |
| shipping address                       | (in shipping_assignments) recipient name split, street lines as a list, |
|                                        | region id from the store's directory (`RegionResolver`)                 |
| telephone                              | ShippingAddress.Phone, else `111-111-1111` (ASC)                        |
| missing street / city / postcode       | `Undefined` / `Undefined` / `00000`                                     |
| missing country                        | the marketplace's country, else the store locale's                      |
| shipping_assignments[0].shipping.method| Order Settings' shipping method for the ShipServiceLevel                |
| shipping_description                   | `Amazon <ShipServiceLevel>` (ASC's carrier title)                       |
| payment.method / po_number             | Order Settings' payment method (default `purchaseorder`) / Amazon id    |
| payment.additional_information         | Amazon order number, marketplace, fulfilment, links to our pages        |
| status_histories[0]                    | comment with the Amazon order number, *View or Cancel Amazon Order* and |
|                                        | *View all Amazon Orders* links (saved with the order itself)            |
| status_histories[1]                    | "Amazon order details": tax collected by Amazon and who remits it,     |
|                                        | business buyer, PO number, invoice preference, ship-by / deliver-by,  |
|                                        | Prime / Premium, replaced order, gift wrap (and gift message when the |
|                                        | store does not allow gift messages); only what Amazon sent            |
| extension_attributes.gift_message      | the buyer's gift message, when the store view allows gift messages    |

FBA orders (Amazon shipped them already; ASC creates them *Complete*) are created `processing` with every
item's `qty_shipped` = `qty_ordered`: nothing is left to ship, so Magento's own state resolver completes the
order when the offline invoice is saved, with no extra order save (without invoicing, the pipeline
completes it). Their stock is never touched.
Not sent: `created_at` (Magento stamps the import time, like ASC's quote submit), `send_email` (not part of
the web API's OrderInterface; the repository save never sends the new-order e-mail anyway), order-level
`taxes` breakdowns (Amazon gives amounts, not rates).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bridge.domain import ZERO, Address, AmazonOrder, AmazonOrderItem
from bridge.errors import BridgeError
from bridge.importer.order_notes import facts_comment, order_facts
from bridge.importer.regions import RegionResolver
from bridge.links import OrderLinks, order_comment
from bridge.magento.models import CustomerRef, Product, StoreView, json_number
from bridge.order_settings import AmazonCollectedTax, OrderNumberSource, OrderSettings

PLACEHOLDER_EMAIL_DOMAIN = "amazon.com"  # ASC's `{AmazonOrderId}@amazon.com`; passes Magento's e-mail check
PLACEHOLDER_PHONE = "111-111-1111"  # ASC
PLACEHOLDER_NAME = "Amazon Customer"
PLACEHOLDER_TEXT = "Undefined"  # ASC's fallback for a missing last name; also street and city
PLACEHOLDER_POSTCODE = "00000"
DISCOUNT_DESCRIPTION = "Amazon Applied Discount"  # ASC
GUEST_GROUP_ID = 0  # NOT LOGGED IN
MAX_INCREMENT_ID = 32  # sales_order.increment_id is varchar(32)
COMPOSITE_TYPES = frozenset({"configurable", "bundle", "grouped"})  # need a child product: not orderable alone

# ISO 4217 minor units where they are not 2 (Amazon's marketplaces use 0 for JPY only).
CURRENCY_EXPONENT: dict[str, int] = {
    "JPY": 0, "KRW": 0, "CLP": 0, "VND": 0, "ISK": 0, "UGX": 0, "XAF": 0, "XOF": 0, "PYG": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip

# Country of each Amazon marketplace, for orders that come without any address (no PII role).
MARKETPLACE_COUNTRY: dict[str, str] = {
    "ATVPDKIKX0DER": "US", "A2EUQ1WTGCTBG2": "CA", "A1AM78C64UM0Y8": "MX", "A2Q3Y263D00KWC": "BR",
    "A1F83G8C2ARO7P": "GB", "A1PA6795UKMFR9": "DE", "A13V1IB3VIYZZH": "FR", "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES", "A1805IZSGTT6HS": "NL", "AMEN7PMS3EDWL": "BE", "A28R8C7NBKEWEA": "IE",
    "A2NODRKZP88ZB9": "SE", "A1C3SOZRARQ6R3": "PL", "A33AVAJ2PDY3EV": "TR", "ARBP9OOSHTCHU": "EG",
    "A17E79C6D8DWNP": "SA", "A2VIGQ35RCS4UG": "AE", "A21TJRUUN4KGV": "IN", "A1VC38T7YXB528": "JP",
    "A39IBJ37TRP1C6": "AU", "A19VAU5U5O7RUS": "SG", "AE08WJ6YKNBMC": "ZA",
}  # fmt: skip

FOUR_PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)


class OrderBuildError(BridgeError):
    """The order cannot become a Commerce order as it is; the message is the note merchants see."""


def currency_exponent(currency: str) -> int:
    return CURRENCY_EXPONENT.get(currency.upper(), 2)


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-currency_exponent(currency)), rounding=ROUND_HALF_UP)


def split_name(name: str | None, *, fallback: str = PLACEHOLDER_NAME) -> tuple[str, str]:
    """ASC: split on the first space; a single word gets the last name `Undefined`."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        cleaned = fallback
    first, _, last = cleaned.partition(" ")
    return first, last or PLACEHOLDER_TEXT


def placeholder_email(amazon_order_id: str) -> str:
    return f"{amazon_order_id}@{PLACEHOLDER_EMAIL_DOMAIN}"


def shipping_description(service_level: str | None) -> str:
    """ASC's rate title `Amazon <ShipServiceLevel>`; v2026's `SECOND_DAY` reads as `Second Day`."""
    if not service_level:
        return "Amazon"
    level = service_level.strip()
    if level.isupper() or "_" in level:
        level = " ".join(part.capitalize() for part in level.replace("_", " ").split())
    return f"Amazon {level}"


def _find_product(products: Mapping[str, Product], sku: str) -> Product | None:
    product = products.get(sku)
    if product is None:
        folded = sku.casefold()  # Magento matches SKUs case-insensitively
        product = next((p for key, p in products.items() if key.casefold() == folded), None)
    return product


def _line_problem(item: AmazonOrderItem, catalog_sku: str, product: Product | None, *, fba: bool) -> str | None:
    if product is None:
        return f'Cannot create sales order: Product "{item.seller_sku}" does not exist'
    not_salable = f'Cannot create sales order: Product "{catalog_sku}" in order is not salable'
    if not product.enabled or product.type_id in COMPOSITE_TYPES:
        return not_salable
    if product.is_in_stock is False and not fba:  # FBA stock is Amazon's, not Commerce's
        return not_salable
    return None


def _money(value: Decimal) -> int | float:
    return json_number(value)


def _address(
    kind: str,
    *,
    name: str | None,
    company: str | None,
    source: Address | None,
    email: str,
    country_fallback: str,
    region_ids: RegionResolver,
) -> dict[str, Any]:
    firstname, lastname = split_name(name)
    country = (source.country_code if source and source.country_code else country_fallback).upper()
    out: dict[str, Any] = {
        "address_type": kind,
        "firstname": firstname,
        "lastname": lastname,
        "street": (source.street if source else None) or [PLACEHOLDER_TEXT],
        "city": (source.city if source and source.city else PLACEHOLDER_TEXT),
        "postcode": (source.postal_code if source and source.postal_code else PLACEHOLDER_POSTCODE),
        "country_id": country,
        "telephone": (source.phone if source and source.phone else PLACEHOLDER_PHONE),
        "email": email,
    }
    if company:
        out["company"] = company
    resolved = region_ids.resolve(country, source.region if source else None)
    if resolved is not None:
        out["region"] = resolved.region
        if resolved.region_code:
            out["region_code"] = resolved.region_code
        if resolved.region_id is not None:
            out["region_id"] = resolved.region_id
    return out


def build_order_payload(
    order: AmazonOrder,
    settings: OrderSettings,
    *,
    store: StoreView,
    products: Mapping[str, Product],
    sku_map: Callable[[str], str],
    region_ids: RegionResolver,
    customer: CustomerRef | None = None,
    links: OrderLinks | None = None,
    gift_messages_allowed: bool = False,
    replaced_commerce_order: str | None = None,
) -> dict[str, Any]:
    """`{"entity": {...}}` for `PUT /V1/orders/create`; raises `OrderBuildError` instead of a wrong order.

    `gift_messages_allowed`: the store view allows gift messages on orders, so the buyer's gift message
    goes to Magento's own gift message (else into the comment). `replaced_commerce_order`: the increment id
    of the Commerce order a replacement order replaces, when known.

    The steps, in the order their refusals are checked: the lines worth ordering, their products, the items
    and their totals (which must equal Amazon's), the buyer and addresses, the order number; then the entity
    and the comments saved with it.
    """
    currency = order.currency.upper()
    lines = _orderable_lines(order, currency, store)
    resolved = _resolve_products(lines, products, sku_map, fba=order.is_fba)
    totals = _Totals()
    exclude = settings.amazon_collected_tax is AmazonCollectedTax.EXCLUDE
    items = [_item_line(totals.add(item, product, exclude_facilitator_tax=exclude), product, store, currency,
                        fba=order.is_fba) for item, product in resolved]
    totals.check_against(order, currency)
    email, first, last = _buyer(order, customer)
    shipping_address, billing_address = _addresses(order, store, email, region_ids)
    increment_id = _increment_id(order, settings)
    method = settings.shipping_method_for(order.ship_service_level)

    initial_state, initial_status = ("processing", "processing") if order.is_fba else ("new", "pending")
    entity: dict[str, Any] = {
        "ext_order_id": order.amazon_order_id,
        "store_id": store.id,
        "state": initial_state,
        "status": initial_status,
        "is_virtual": 0,
        **_currency_fields(currency),
        "customer_email": email,
        "customer_firstname": first,
        "customer_lastname": last,
        "customer_is_guest": 0 if customer is not None else 1,
        "customer_group_id": customer.group_id if customer is not None else GUEST_GROUP_ID,
        "customer_note_notify": 0,
        **totals.fields(),
        "total_qty_ordered": sum(item.quantity_ordered for item, _ in resolved),
        "total_item_count": len(items),
        "shipping_description": shipping_description(order.ship_service_level),
        "items": items,
        "billing_address": billing_address,
        "payment": {
            "method": settings.payment_method,
            "po_number": order.amazon_order_id,
            "amount_ordered": _money(totals.grand_total),
            "base_amount_ordered": _money(totals.grand_total),
            "additional_information": _payment_information(order, links),
        },
        "extension_attributes": {
            "shipping_assignments": [
                {
                    "shipping": {"address": shipping_address, "method": method},
                    "items": items,
                }
            ]
        },
    }
    _add_comments(entity, order, settings, links, initial_status, gift_messages_allowed, replaced_commerce_order)
    if customer is not None:
        entity["customer_id"] = customer.id
    if increment_id is not None:
        entity["increment_id"] = increment_id
    if totals.discount != ZERO:
        entity["discount_description"] = DISCOUNT_DESCRIPTION
    if totals.weight is not None:
        entity["weight"] = _money(totals.weight)
    return {"entity": entity}


def _orderable_lines(order: AmazonOrder, currency: str, store: StoreView) -> list[AmazonOrderItem]:
    """The items that become order lines (nothing ordered and nothing charged is left out), or why none can."""
    lines = [item for item in order.items if item.quantity_ordered > 0 or item.row_total != ZERO]
    if not lines:
        raise OrderBuildError(
            "Cannot create sales order: No items in the order. Please check data consistency or report a bug."
        )
    for item in lines:
        if item.quantity_ordered <= 0:
            raise OrderBuildError(
                f'Cannot create sales order: item {item.order_item_id} ("{item.seller_sku}") has quantity '
                f"{item.quantity_ordered} but charges {item.row_total} {currency}"
            )
    if currency != store.base_currency.upper():
        raise OrderBuildError(
            f"Cannot create sales order: the order is in {currency} but store view {store.code!r} has base "
            f"currency {store.base_currency}; import it into a store view whose base currency is {currency}"
        )
    return lines


def _resolve_products(
    lines: list[AmazonOrderItem], products: Mapping[str, Product], sku_map: Callable[[str], str], *, fba: bool
) -> list[tuple[AmazonOrderItem, Product]]:
    """Each line's catalog product; every distinct problem of every line in one error (ASC's wording)."""
    problems: list[str] = []
    resolved: list[tuple[AmazonOrderItem, Product]] = []
    for item in lines:
        catalog_sku = sku_map(item.seller_sku) or item.seller_sku
        product = _find_product(products, catalog_sku)
        problem = _line_problem(item, catalog_sku, product, fba=fba)
        if problem:
            if problem not in problems:
                problems.append(problem)
            continue
        assert product is not None
        resolved.append((item, product))
    if problems:
        raise OrderBuildError("; ".join(problems))
    return resolved


@dataclass
class _Totals:
    """The order's sums, exact in Decimal, added up line by line."""

    subtotal: Decimal = ZERO
    item_tax: Decimal = ZERO
    shipping: Decimal = ZERO  # shipping, gift wrap and other charges: Magento has one place for them
    shipping_tax: Decimal = ZERO
    shipping_discount: Decimal = ZERO
    promotion: Decimal = ZERO
    excluded_tax: Decimal = ZERO  # collected and remitted by Amazon, left off the Commerce order
    weight: Decimal | None = ZERO  # None once a product has no weight

    def add(self, item: AmazonOrderItem, product: Product, *, exclude_facilitator_tax: bool) -> AmazonOrderItem:
        """Count one line; returns the item as the Commerce order carries it (without Amazon's tax if excluded)."""
        if exclude_facilitator_tax and item.facilitator_tax != ZERO:
            # Amazon remits this tax: not the merchant's, so not on the Commerce order (*Tax collected by Amazon*)
            self.excluded_tax += item.facilitator_tax
            item = replace(item, item_tax=ZERO, shipping_tax=ZERO, gift_wrap_tax=ZERO)
        if product.weight is not None and self.weight is not None:
            self.weight += product.weight * Decimal(item.quantity_ordered)
        elif product.weight is None:
            self.weight = None
        self.subtotal += item.item_price
        self.item_tax += item.item_tax
        self.shipping += item.shipping_price + item.gift_wrap_price + item.other_charges
        self.shipping_tax += item.shipping_tax + item.gift_wrap_tax
        self.shipping_discount += item.shipping_discount
        self.promotion += item.promotion_discount
        return item

    @property
    def discount(self) -> Decimal:
        return -(self.promotion + self.shipping_discount)

    @property
    def tax(self) -> Decimal:
        return self.item_tax + self.shipping_tax

    @property
    def grand_total(self) -> Decimal:
        return self.subtotal + self.shipping + self.tax + self.discount

    def check_against(self, order: AmazonOrder, currency: str) -> None:
        """Never a wrong order: what Commerce will show plus what Amazon kept must be Amazon's total."""
        if self.grand_total + self.excluded_tax != order.order_total:
            excluded = f" plus {self.excluded_tax} {currency} tax collected by Amazon" if self.excluded_tax else ""
            raise OrderBuildError(
                f"Cannot create sales order: totals do not match: the items add up to {self.grand_total} {currency}"
                f"{excluded} but Amazon's order total is {order.order_total} {currency}"
            )

    def fields(self) -> dict[str, Any]:
        """The entity's money fields (base and order currency are the same)."""
        subtotal, shipping, shipping_tax, grand_total = (self.subtotal, self.shipping, self.shipping_tax,
                                                         self.grand_total)
        return {
            "subtotal": _money(subtotal),
            "base_subtotal": _money(subtotal),
            "subtotal_incl_tax": _money(subtotal + self.item_tax),
            "base_subtotal_incl_tax": _money(subtotal + self.item_tax),
            "shipping_amount": _money(shipping),
            "base_shipping_amount": _money(shipping),
            "shipping_tax_amount": _money(shipping_tax),
            "base_shipping_tax_amount": _money(shipping_tax),
            "shipping_incl_tax": _money(shipping + shipping_tax),
            "base_shipping_incl_tax": _money(shipping + shipping_tax),
            "shipping_discount_amount": _money(self.shipping_discount),
            "base_shipping_discount_amount": _money(self.shipping_discount),
            "discount_amount": _money(self.discount),
            "base_discount_amount": _money(self.discount),
            "tax_amount": _money(self.tax),
            "base_tax_amount": _money(self.tax),
            "grand_total": _money(grand_total),
            "base_grand_total": _money(grand_total),
            "total_due": _money(grand_total),
            "base_total_due": _money(grand_total),
        }


def _item_line(
    item: AmazonOrderItem, product: Product, store: StoreView, currency: str, *, fba: bool
) -> dict[str, Any]:
    """One `items[]` entry: Amazon's prices per unit and per row, its tax and discount."""
    qty = Decimal(item.quantity_ordered)
    price = round_money(item.item_price / qty, currency)
    price_incl_tax = round_money((item.item_price + item.item_tax) / qty, currency)
    taxable = item.item_price - item.promotion_discount
    tax_percent = (item.item_tax / taxable * HUNDRED).quantize(FOUR_PLACES) if taxable > 0 else ZERO
    row_total_incl_tax = item.item_price + item.item_tax
    line: dict[str, Any] = {
        "sku": product.sku,
        "name": product.name or item.title or item.seller_sku,
        "product_id": product.id,
        "product_type": product.type_id,
        "store_id": store.id,
        "qty_ordered": item.quantity_ordered,
        **({"qty_shipped": item.quantity_ordered} if fba else {}),
        "is_virtual": 0,
        "price": _money(price),
        "base_price": _money(price),
        "original_price": _money(price),
        "base_original_price": _money(price),
        "price_incl_tax": _money(price_incl_tax),
        "base_price_incl_tax": _money(price_incl_tax),
        "row_total": _money(item.item_price),
        "base_row_total": _money(item.item_price),
        "row_total_incl_tax": _money(row_total_incl_tax),
        "base_row_total_incl_tax": _money(row_total_incl_tax),
        "tax_amount": _money(item.item_tax),
        "base_tax_amount": _money(item.item_tax),
        "tax_percent": _money(tax_percent),
        "discount_amount": _money(item.promotion_discount),
        "base_discount_amount": _money(item.promotion_discount),
        "description": item.order_item_id,
        "ext_order_item_id": item.order_item_id,
    }
    if product.weight is not None:
        line["weight"] = _money(product.weight)
        line["row_weight"] = _money(product.weight * qty)
    return line


def _currency_fields(currency: str) -> dict[str, Any]:
    """One currency throughout: the store view's base currency is the order's (checked first)."""
    return {
        "base_currency_code": currency,
        "order_currency_code": currency,
        "store_currency_code": currency,
        "global_currency_code": currency,
        "base_to_global_rate": 1,
        "base_to_order_rate": 1,
        "store_to_base_rate": 1,
        "store_to_order_rate": 1,
    }


def _buyer(order: AmazonOrder, customer: CustomerRef | None) -> tuple[str, str, str]:
    """(e-mail, first name, last name): the customer account's, else the buyer's or ASC's placeholders."""
    if customer is not None:
        first, last = customer.firstname, customer.lastname
        if not first or not last:
            first, last = split_name(order.buyer_name)
        return customer.email, first, last
    first, last = split_name(order.buyer_name)
    return order.buyer_email or placeholder_email(order.amazon_order_id), first, last


def _addresses(
    order: AmazonOrder, store: StoreView, email: str, region_ids: RegionResolver
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(shipping, billing): both at Amazon's shipping address (Amazon gives no billing address); the billing
    one in the buyer's name, company and VAT number."""
    country_fallback = MARKETPLACE_COUNTRY.get(order.marketplace_id or "") or _locale_country(store) or "US"
    ship_to = order.shipping_address
    shipping_address = _address(
        "shipping",
        name=(ship_to.name if ship_to and ship_to.name else None) or order.buyer_name,
        company=ship_to.company if ship_to else None,
        source=ship_to,
        email=email,
        country_fallback=country_fallback,
        region_ids=region_ids,
    )
    billing_address = _address(
        "billing",
        name=order.buyer_name,
        company=order.buyer_company,
        source=ship_to,
        email=email,
        country_fallback=country_fallback,
        region_ids=region_ids,
    )
    if order.buyer_vat_id:
        billing_address["vat_id"] = order.buyer_vat_id
    return shipping_address, billing_address


def _increment_id(order: AmazonOrder, settings: OrderSettings) -> str | None:
    """Amazon's order number (with the store's prefix) when the store uses it; None lets Magento number it."""
    if settings.order_number_source != OrderNumberSource.AMAZON:
        return None
    increment_id = f"{settings.order_number_prefix or ''}{order.amazon_order_id}"
    if len(increment_id) > MAX_INCREMENT_ID:
        raise OrderBuildError(
            f"Cannot create sales order: order number {increment_id!r} is longer than Magento's "
            f"{MAX_INCREMENT_ID} characters; shorten the order number prefix"
        )
    return increment_id


def _payment_information(order: AmazonOrder, links: OrderLinks | None) -> list[str]:
    """What Magento's *Payment & Shipping Method* section shows under the payment method."""
    info = [f"Amazon Order Number: {order.amazon_order_id}"]
    if order.sales_channel:
        info.append(f"Marketplace: {order.sales_channel}")
    info.append("Fulfilled by: " + ("Amazon (FBA)" if order.is_fba else "Merchant"))
    if links is not None:
        info.append(f"View or Cancel Amazon Order: {links.view_url}")
        info.append(f"View all Amazon Orders: {links.list_url}")
    return info


def _add_comments(
    entity: dict[str, Any],
    order: AmazonOrder,
    settings: OrderSettings,
    links: OrderLinks | None,
    status: str,
    gift_messages_allowed: bool,
    replaced_commerce_order: str | None,
) -> None:
    """The comments saved with the order (links, then Amazon's order details) and the gift message."""
    if links is not None:
        # Saved with the order by the repository (Sales Order Relation saves status histories), so the
        # Commerce order never exists without its links to our pages, and no second call is needed.
        entity["status_histories"] = [_history(order_comment(links, order.amazon_order_id), status)]
    facts = order_facts(order)
    gift_on_order = gift_messages_allowed and facts.gift_message is not None
    if gift_on_order:
        ship_to = order.shipping_address
        # Magento_GiftMessage saves `extension_attributes.gift_message` with the order (OrderSave plugin).
        entity["extension_attributes"]["gift_message"] = {
            "sender": order.buyer_name or PLACEHOLDER_NAME,
            "recipient": (ship_to.name if ship_to and ship_to.name else None) or order.buyer_name or PLACEHOLDER_NAME,
            "message": facts.gift_message,
        }
    note = facts_comment(
        facts, settings.amazon_collected_tax, gift_message_on_order=gift_on_order,
        replaced_commerce_order=replaced_commerce_order,
    )
    if note is not None:
        entity.setdefault("status_histories", []).append(_history(note, status))


def _history(comment: str, status: str) -> dict[str, Any]:
    return {
        "comment": comment,
        "status": status,
        "is_customer_notified": 0,
        "is_visible_on_front": 0,
        "entity_name": "order",
    }


def _locale_country(store: StoreView) -> str | None:
    if store.locale and "_" in store.locale:
        return store.locale.rsplit("_", 1)[1].upper()
    return None
