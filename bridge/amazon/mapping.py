"""Amazon order JSON (Orders API v2026-01-01) -> the bridge's `AmazonOrder`.

The only place that reads raw Amazon order dicts. Input is the JSON-shaped dict (Amazon's camelCase
keys) exactly as the API sent it; amounts may be strings (as Amazon sends them), Decimals (JSON parsed
with `parse_float=Decimal`) or ints. Anything malformed raises `AmazonDataError` naming the order and
the field path, so one bad order is parked with a readable message instead of a KeyError in a job log.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.amazon.errors import AmazonDataError
from bridge.domain import (
    ZERO,
    Address,
    AmazonOrder,
    AmazonOrderItem,
    AmazonStatus,
    FulfillmentChannel,
    TaxCollection,
    TaxRegistration,
    TrackingPackage,
)

__all__ = ["AmazonDataError", "order_from_v2026", "parse_amazon_datetime", "STATUS_FROM_V2026"]

STATUS_FROM_V2026: dict[str, AmazonStatus] = {
    "PENDING": AmazonStatus.PENDING,
    "PENDING_AVAILABILITY": AmazonStatus.PENDING_AVAILABILITY,
    "UNSHIPPED": AmazonStatus.UNSHIPPED,
    "PARTIALLY_SHIPPED": AmazonStatus.PARTIALLY_SHIPPED,
    "SHIPPED": AmazonStatus.SHIPPED,
    "CANCELLED": AmazonStatus.CANCELED,
    "UNFULFILLABLE": AmazonStatus.UNFULFILLABLE,
}

CHANNEL_FROM_V2026 = {"MERCHANT": FulfillmentChannel.MFN, "AMAZON": FulfillmentChannel.AFN}

# Currency per marketplace, used only when an order carries no money at all (v0 Pending orders omit
# prices), so the domain object still has its currency.
MARKETPLACE_CURRENCY = {
    "ATVPDKIKX0DER": "USD",
    "A2EUQ1WTGCTBG2": "CAD",
    "A1AM78C64UM0Y8": "MXN",
    "A2Q3Y263D00KWC": "BRL",
    "A1F83G8C2ARO7P": "GBP",
    "A1PA6795UKMFR9": "EUR",
    "A13V1IB3VIYZZH": "EUR",
    "APJ6JRA9NG5V4": "EUR",
    "A1RKKUPIHCS9HS": "EUR",
    "A1805IZSGTT6HS": "EUR",
    "AMEN7PMS3EDWL": "EUR",
    "A28R8C7NBKEWEA": "EUR",
    "A2NODRKZP88ZB9": "SEK",
    "A1C3SOZRARQ6R3": "PLN",
    "A33AVAJ2PDY3EV": "TRY",
    "A21TJRUUN4KGV": "INR",
    "A1VC38T7YXB528": "JPY",
    "A39IBJ37TRP1C6": "AUD",
    "A19VAU5U5O7RUS": "SGD",
    "A2VIGQ35RCS4UG": "AED",
    "A17E79C6D8DWNP": "SAR",
    "ARBP9OOSHTCHU": "EGP",
    "AE08WJ6YKNBMC": "ZAR",
}


def parse_amazon_datetime(value: str) -> datetime:
    """ISO 8601 (with `Z` or an offset, optional fractions) -> aware UTC datetime; naive means UTC."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def maybe_amazon_datetime(value: Any) -> datetime | None:
    """`parse_amazon_datetime` for optional fields: None when absent, empty or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_amazon_datetime(value)
    except ValueError:
        return None


class _Reader:
    """Typed access to one order's JSON, turning every problem into `AmazonDataError` with a path."""

    def __init__(self, order_id: str | None) -> None:
        self.order_id = order_id
        self.currency: str | None = None

    def fail(self, path: str, problem: str) -> AmazonDataError:
        return AmazonDataError(self.order_id, path, problem)

    def obj(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Mapping[str, Any]:
        value = parent.get(key)
        if value is None:
            if required:
                raise self.fail(path, "missing")
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected an object, got {type(value).__name__}")
        return value

    def list(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> list[Any]:
        value = parent.get(key)
        if value is None:
            if required:
                raise self.fail(path, "missing")
            return []
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {type(value).__name__}")
        return value

    def str(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
        value = parent.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(path, "missing")
            return None
        if not isinstance(value, str):
            raise self.fail(path, f"expected text, got {type(value).__name__}")
        return value

    # Annotations below name builtins.str/int/bool: inside this class `str`, `int` and `bool` are the methods.
    def int(self, parent: Mapping[builtins.str, Any], key: builtins.str, path: builtins.str, *,
            default: builtins.int | None = None) -> builtins.int:
        value = parent.get(key)
        if value is None:
            if default is None:
                raise self.fail(path, "missing")
            return default
        if isinstance(value, bool):
            raise self.fail(path, "expected a whole number, got a boolean")
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int):
            raise self.fail(path, f"expected a whole number, got {value!r}")
        if value < 0:
            raise self.fail(path, f"must not be negative, got {value}")
        return value

    def bool(self, parent: Mapping[builtins.str, Any], key: builtins.str, path: builtins.str) -> builtins.bool:
        """Booleans; v0 sends some as the strings "true"/"false"."""
        value = parent.get(key)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.fail(path, f"expected true or false, got {value!r}")

    def datetime(self, parent: Mapping[builtins.str, Any], key: builtins.str, path: builtins.str, *,
                 required: builtins.bool = False) -> datetime | None:
        value = self.str(parent, key, path, required=required)
        if value is None:
            return None
        try:
            return parse_amazon_datetime(value)
        except ValueError as exc:
            raise self.fail(path, f"not an ISO 8601 date-time: {value!r}") from exc

    def amount(self, value: Any, path: builtins.str) -> Decimal:
        if isinstance(value, bool) or value is None:
            raise self.fail(path, f"expected a decimal amount, got {value!r}")
        if isinstance(value, float):
            value = repr(value)  # shortest round-trip text, never the binary expansion
        try:
            amount = Decimal(value) if isinstance(value, str | int | Decimal) else None
        except (InvalidOperation, ValueError):
            amount = None
        if amount is None or not amount.is_finite():
            raise self.fail(path, f"expected a decimal amount, got {value!r}")
        return amount

    def money(
        self, parent: Mapping[builtins.str, Any], key: builtins.str, path: builtins.str, *, amount_key: builtins.str,
        currency_key: builtins.str,
    ) -> Decimal | None:
        """A Money object's amount (None when absent); its currency must match the order's."""
        money = self.obj(parent, key, path)
        if not money:
            return None
        if amount_key not in money:
            raise self.fail(f"{path}.{amount_key}", "missing")
        amount = self.amount(money[amount_key], f"{path}.{amount_key}")
        currency = self.str(money, currency_key, f"{path}.{currency_key}")
        if currency is not None:
            if self.currency is None:
                self.currency = currency
            elif currency != self.currency:
                raise self.fail(
                    f"{path}.{currency_key}", f"currency {currency} differs from the order's {self.currency}"
                )
        return amount


def _unit_price(row_total: Decimal, qty: int) -> Decimal:
    """Row total / quantity at the row total's precision (JPY has no cents); 4 places if not exact."""
    if not qty:
        return ZERO
    exponent = row_total.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    unit = row_total / qty
    exact = unit.quantize(Decimal(1).scaleb(-places))
    return exact if exact * qty == row_total else unit.quantize(Decimal("0.0001"))


def _money26(r: _Reader, parent: Mapping[str, Any], key: str, path: str) -> Decimal | None:
    return r.money(parent, key, path, amount_key="amount", currency_key="currencyCode")


# --------------------------------------------------------------------------------------------- v2026


def _address26(r: _Reader, data: Mapping[str, Any], path: str) -> Address | None:
    if not data:
        return None

    def s(key: str) -> str | None:
        return r.str(data, key, f"{path}.{key}")

    address = Address(
        name=s("name"),
        company=s("companyName"),
        line1=s("addressLine1"),
        line2=s("addressLine2"),
        line3=s("addressLine3"),
        city=s("city"),
        district=s("districtOrCounty"),
        region=s("stateOrRegion"),
        postal_code=s("postalCode"),
        country_code=s("countryCode"),
        phone=s("phone"),
        address_type=(s("addressType") or "").upper() or None,
    )
    return None if address == Address() else address


def _item26(r: _Reader, item: Any, path: str, status: AmazonStatus) -> AmazonOrderItem:
    """One `orderItems[]` entry: identity and product, money (proceeds), shipped quantity, promotions,
    cancellation and gift options, each read by its own step below."""
    if not isinstance(item, Mapping):
        raise r.fail(path, "expected an object")
    item_id = r.str(item, "orderItemId", f"{path}.orderItemId", required=True)
    assert item_id is not None
    qty = r.int(item, "quantityOrdered", f"{path}.quantityOrdered")
    product = r.obj(item, "product", f"{path}.product", required=True)
    sku = r.str(product, "sellerSku", f"{path}.product.sellerSku", required=True)
    assert sku is not None
    unit_price = _money26(
        r, r.obj(product, "price", f"{path}.product.price"), "unitPrice", f"{path}.product.price.unitPrice"
    )
    parts = _proceeds26(r, r.obj(item, "proceeds", f"{path}.proceeds"), f"{path}.proceeds")
    if not parts.has_item_breakdown and unit_price is not None:
        parts.item = unit_price * qty  # proceeds not requested (or Pending): the list price
    if unit_price is None:
        unit_price = _unit_price(parts.item, qty)

    fulfillment = r.obj(item, "fulfillment", f"{path}.fulfillment")
    default_shipped = qty if status is AmazonStatus.SHIPPED else 0
    shipped = r.int(fulfillment, "quantityFulfilled", f"{path}.fulfillment.quantityFulfilled", default=default_shipped)
    promotion_ids = _promotion_ids26(r, item, path)
    buyer_requested_cancel, cancel_reason = _cancellation26(r, item, path)
    condition = r.obj(product, "condition", f"{path}.product.condition")
    gift = r.obj(r.obj(fulfillment, "packing", f"{path}.fulfillment.packing"), "giftOption",
                 f"{path}.fulfillment.packing.giftOption")

    return AmazonOrderItem(
        order_item_id=item_id,
        seller_sku=sku,
        asin=r.str(product, "asin", f"{path}.product.asin"),
        title=r.str(product, "title", f"{path}.product.title") or sku,
        quantity_ordered=qty,
        quantity_shipped=shipped,
        unit_price=unit_price,
        item_price=parts.item,
        item_tax=parts.item_tax,
        shipping_price=parts.shipping,
        shipping_tax=parts.shipping_tax,
        promotion_discount=parts.promotion,
        shipping_discount=parts.shipping_discount,
        gift_wrap_price=parts.gift_wrap,
        gift_wrap_tax=parts.gift_wrap_tax,
        other_charges=parts.other,
        condition=r.str(condition, "conditionType", f"{path}.product.condition.conditionType"),
        promotion_ids=promotion_ids,
        buyer_requested_cancel=buyer_requested_cancel,
        cancel_reason=cancel_reason,
        tax_collection=_tax_collection26(r, r.obj(item, "tax", f"{path}.tax"), f"{path}.tax"),
        gift_message=r.str(gift, "giftMessage", f"{path}.fulfillment.packing.giftOption.giftMessage"),
        gift_wrap_level=r.str(gift, "giftWrapLevel", f"{path}.fulfillment.packing.giftOption.giftWrapLevel"),
    )


@dataclass
class _Proceeds:
    """An item's money by where it belongs; discounts are positive numbers that reduce the total."""

    item: Decimal = ZERO
    item_tax: Decimal = ZERO
    shipping: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    promotion: Decimal = ZERO
    shipping_discount: Decimal = ZERO
    gift_wrap: Decimal = ZERO
    gift_wrap_tax: Decimal = ZERO
    other: Decimal = ZERO
    has_item_breakdown: bool = False  # an ITEM breakdown was sent (else the list price is the item's money)

    def add(self, kind: str, subtotal: Decimal, detailed: Mapping[str, Decimal]) -> None:
        """One `proceeds.breakdowns[]` entry of type `kind`."""
        if kind == "ITEM":
            self.item += subtotal
            self.has_item_breakdown = True
        elif kind == "SHIPPING":
            self.shipping += subtotal
        elif kind == "GIFT_WRAP":
            self.gift_wrap += subtotal
        elif kind == "TAX":
            self._add_tax(subtotal, detailed)
        elif kind == "DISCOUNT":
            shipping_discount = abs(detailed.get("SHIPPING", ZERO))  # positive, whatever sign Amazon uses
            self.shipping_discount += shipping_discount
            self.promotion += abs(subtotal) - shipping_discount
        else:  # COD_FEE, OTHER, or a category newer than this code: keep the money, never drop it
            self.other += subtotal

    def _add_tax(self, subtotal: Decimal, detailed: Mapping[str, Decimal]) -> None:
        # The subtotal is the truth; its detailed breakdowns only say where it belongs. Whatever is not
        # attributed to shipping, gift wrap or other charges is item tax, so the sum always matches.
        shipping_tax = detailed.get("SHIPPING", ZERO)
        gift_wrap_tax = detailed.get("GIFT_WRAP", ZERO)
        other_tax = sum((v for k, v in detailed.items() if k not in ("ITEM", "SHIPPING", "GIFT_WRAP")), ZERO)
        self.shipping_tax += shipping_tax
        self.gift_wrap_tax += gift_wrap_tax
        self.other += other_tax
        self.item_tax += subtotal - shipping_tax - gift_wrap_tax - other_tax


def _proceeds26(r: _Reader, proceeds: Mapping[str, Any], path: str) -> _Proceeds:
    """`proceeds.breakdowns[]` (type, subtotal, detailed breakdowns by subtype) summed by where they belong."""
    parts = _Proceeds()
    for i, bd in enumerate(r.list(proceeds, "breakdowns", f"{path}.breakdowns")):
        bpath = f"{path}.breakdowns[{i}]"
        if not isinstance(bd, Mapping):
            raise r.fail(bpath, "expected an object")
        kind = r.str(bd, "type", f"{bpath}.type", required=True)
        assert kind is not None
        subtotal = _money26(r, bd, "subtotal", f"{bpath}.subtotal")
        if subtotal is None:
            raise r.fail(f"{bpath}.subtotal", "missing")
        parts.add(kind, subtotal, _detailed26(r, bd, bpath))
    return parts


def _detailed26(r: _Reader, breakdown: Mapping[str, Any], path: str) -> dict[str, Decimal]:
    """A breakdown's `detailedBreakdowns[]` summed by subtype (no subtype counts as OTHER)."""
    detailed: dict[str, Decimal] = {}
    for j, det in enumerate(r.list(breakdown, "detailedBreakdowns", f"{path}.detailedBreakdowns")):
        dpath = f"{path}.detailedBreakdowns[{j}]"
        if not isinstance(det, Mapping):
            raise r.fail(dpath, "expected an object")
        subtype = r.str(det, "subtype", f"{dpath}.subtype") or "OTHER"
        value = _money26(r, det, "value", f"{dpath}.value") or ZERO
        detailed[subtype] = detailed.get(subtype, ZERO) + value
    return detailed


def _promotion_ids26(r: _Reader, item: Mapping[str, Any], path: str) -> tuple[str, ...]:
    promotion = r.obj(item, "promotion", f"{path}.promotion")
    ids = []
    for i, p in enumerate(r.list(promotion, "breakdowns", f"{path}.promotion.breakdowns")):
        if isinstance(p, Mapping):
            pid = r.str(p, "promotionId", f"{path}.promotion.breakdowns[{i}].promotionId")
            if pid:
                ids.append(pid)
    return tuple(ids)


def _cancellation26(r: _Reader, item: Mapping[str, Any], path: str) -> tuple[bool, str | None]:
    """(the buyer asked to cancel, the reason given by the request or else by the executed cancel)."""
    cpath = f"{path}.cancellation"
    cancellation = r.obj(item, "cancellation", cpath)
    request = r.obj(cancellation, "cancellationRequest", f"{cpath}.cancellationRequest")
    execution = r.obj(cancellation, "cancellationExecution", f"{cpath}.cancellationExecution")
    requester = r.str(request, "requester", f"{cpath}.cancellationRequest.requester")
    reason = r.str(request, "cancelReason", f"{cpath}.cancellationRequest.cancelReason") or r.str(
        execution, "cancelReason", f"{cpath}.cancellationExecution.cancelReason"
    )
    return bool(request) and (requester or "BUYER") == "BUYER", reason


def _tax_collection26(r: _Reader, tax: Mapping[str, Any], path: str) -> TaxCollection | None:
    """The item's `tax.taxCollections` (Amazon remits the tax) with its EU reporting scheme, if any."""
    collections = r.list(tax, "taxCollections", f"{path}.taxCollections")
    schemes = [
        r.str(b, "reportingScheme", f"{path}.taxCalculationBreakdowns[{i}].reportingScheme")
        for i, b in enumerate(r.list(tax, "taxCalculationBreakdowns", f"{path}.taxCalculationBreakdowns"))
        if isinstance(b, Mapping)
    ]
    scheme = next((s for s in schemes if s), None)
    for i, c in enumerate(collections):
        if not isinstance(c, Mapping):
            raise r.fail(f"{path}.taxCollections[{i}]", "expected an object")
        model = r.str(c, "model", f"{path}.taxCollections[{i}].model")
        if model:
            party = r.str(c, "responsibleParty", f"{path}.taxCollections[{i}].responsibleParty")
            return TaxCollection(model=model, responsible_party=party, reporting_scheme=scheme)
    return None


def _tax_registrations26(r: _Reader, tax: Mapping[str, Any], path: str) -> tuple[TaxRegistration, ...]:
    out = []
    for i, reg in enumerate(r.list(tax, "taxRegistrations", f"{path}.taxRegistrations")):
        rpath = f"{path}.taxRegistrations[{i}]"
        if not isinstance(reg, Mapping):
            raise r.fail(rpath, "expected an object")
        office = None
        for j, attr in enumerate(r.list(reg, "taxRegistrationAttributes", f"{rpath}.taxRegistrationAttributes")):
            if isinstance(attr, Mapping) and r.str(attr, "key", f"{rpath}.taxRegistrationAttributes[{j}].key") == (
                "TAX_OFFICE"
            ):
                office = r.str(attr, "value", f"{rpath}.taxRegistrationAttributes[{j}].value")
        out.append(TaxRegistration(
            entity_type=r.str(reg, "entityType", f"{rpath}.entityType"),
            number=r.str(reg, "taxRegistrationNumber", f"{rpath}.taxRegistrationNumber"),
            registration_type=r.str(reg, "taxRegistrationType", f"{rpath}.taxRegistrationType"),
            legal_name=r.str(reg, "legalName", f"{rpath}.legalName"),
            tax_office=office,
        ))
    return tuple(out)


def _replaced_order26(r: _Reader, order: Mapping[str, Any]) -> str | None:
    for i, assoc in enumerate(r.list(order, "associatedOrders", "associatedOrders")):
        if not isinstance(assoc, Mapping):
            raise r.fail(f"associatedOrders[{i}]", "expected an object")
        if r.str(assoc, "associationType", f"associatedOrders[{i}].associationType") == "REPLACEMENT_ORIGINAL_ID":
            return r.str(assoc, "orderId", f"associatedOrders[{i}].orderId")
    return None


def _package26(r: _Reader, pkg: Any, path: str) -> TrackingPackage:
    if not isinstance(pkg, Mapping):
        raise r.fail(path, "expected an object")
    items = []
    for i, pi in enumerate(r.list(pkg, "packageItems", f"{path}.packageItems")):
        ipath = f"{path}.packageItems[{i}]"
        if not isinstance(pi, Mapping):
            raise r.fail(ipath, "expected an object")
        oid = r.str(pi, "orderItemId", f"{ipath}.orderItemId", required=True)
        items.append((str(oid), r.int(pi, "quantity", f"{ipath}.quantity")))
    ref = r.str(pkg, "packageReferenceId", f"{path}.packageReferenceId", required=True)
    return TrackingPackage(
        package_reference_id=str(ref),
        carrier=r.str(pkg, "carrier", f"{path}.carrier"),
        tracking_number=r.str(pkg, "trackingNumber", f"{path}.trackingNumber"),
        shipping_service=r.str(pkg, "shippingService", f"{path}.shippingService"),
        ship_time=r.datetime(pkg, "shipTime", f"{path}.shipTime"),
        items=tuple(items),
    )


def _unique_item_ids(r: _Reader, items: tuple[AmazonOrderItem, ...], path: str) -> None:
    """An order item id names one line (stored per order, refunds and shipments point at it): a repeated
    one would make the order unstorable, so the order is unreadable and waits, named, instead."""
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.order_item_id in seen:
            raise r.fail(f"{path}[{i}].orderItemId", f"order item id {item.order_item_id!r} appears twice")
        seen.add(item.order_item_id)


def order_from_v2026(order: Mapping[str, Any]) -> AmazonOrder:
    """Map one Orders API v2026-01-01 `Order` (from searchOrders or getOrder) to an `AmazonOrder`.

    Needs `includedData` FULFILLMENT (status, channel); PROCEEDS for Amazon's totals (without it the
    order total is the sum of the items at list price); BUYER/RECIPIENT may be missing (no PII role).
    """
    if not isinstance(order, Mapping):
        raise AmazonDataError(None, "order", f"expected an object, got {type(order).__name__}")
    raw_id = order.get("orderId")
    r = _Reader(raw_id if isinstance(raw_id, str) else None)
    order_id = r.str(order, "orderId", "orderId", required=True)
    assert order_id is not None

    fulfillment = r.obj(order, "fulfillment", "fulfillment", required=True)
    status_text = r.str(fulfillment, "fulfillmentStatus", "fulfillment.fulfillmentStatus", required=True)
    if status_text not in STATUS_FROM_V2026:
        raise r.fail("fulfillment.fulfillmentStatus", f"unknown status {status_text!r}")
    status = STATUS_FROM_V2026[status_text]
    fulfilled_by = r.str(fulfillment, "fulfilledBy", "fulfillment.fulfilledBy", required=True)
    if fulfilled_by not in CHANNEL_FROM_V2026:
        raise r.fail("fulfillment.fulfilledBy", f"expected MERCHANT or AMAZON, got {fulfilled_by!r}")
    ship_by = r.obj(fulfillment, "shipByWindow", "fulfillment.shipByWindow")
    deliver_by = r.obj(fulfillment, "deliverByWindow", "fulfillment.deliverByWindow")
    tax = r.obj(order, "tax", "tax")
    replaced = _replaced_order26(r, order)

    sales_channel = r.obj(order, "salesChannel", "salesChannel")
    marketplace_id = r.str(sales_channel, "marketplaceId", "salesChannel.marketplaceId")

    proceeds = r.obj(order, "proceeds", "proceeds")
    grand_total = _money26(r, proceeds, "grandTotal", "proceeds.grandTotal")

    raw_items = r.list(order, "orderItems", "orderItems", required=True)
    items = tuple(_item26(r, item, f"orderItems[{i}]", status) for i, item in enumerate(raw_items))
    _unique_item_ids(r, items, "orderItems")
    packages = tuple(_package26(r, p, f"packages[{i}]") for i, p in enumerate(r.list(order, "packages", "packages")))

    buyer = r.obj(order, "buyer", "buyer")
    recipient = r.obj(order, "recipient", "recipient")
    programs = tuple(p for p in r.list(order, "programs", "programs") if isinstance(p, str))

    currency = r.currency or MARKETPLACE_CURRENCY.get(marketplace_id or "")
    if currency is None:
        raise r.fail("proceeds.grandTotal.currencyCode", "no amount in the order names its currency")
    created = r.datetime(order, "createdTime", "createdTime", required=True)
    updated = r.datetime(order, "lastUpdatedTime", "lastUpdatedTime", required=True)
    assert created is not None and updated is not None

    return AmazonOrder(
        amazon_order_id=order_id,
        marketplace_id=marketplace_id,
        status=status,
        fulfillment_channel=CHANNEL_FROM_V2026[fulfilled_by],
        purchase_date=created,
        last_updated=updated,
        currency=currency,
        order_total=grand_total if grand_total is not None else sum((i.row_total for i in items), ZERO),
        items=items,
        buyer_name=r.str(buyer, "buyerName", "buyer.buyerName"),
        buyer_email=r.str(buyer, "buyerEmail", "buyer.buyerEmail"),
        buyer_company=r.str(buyer, "buyerCompanyName", "buyer.buyerCompanyName"),
        buyer_purchase_order_number=r.str(buyer, "buyerPurchaseOrderNumber", "buyer.buyerPurchaseOrderNumber"),
        shipping_address=_address26(
            r, r.obj(recipient, "deliveryAddress", "recipient.deliveryAddress"), "recipient.deliveryAddress"
        ),
        ship_service_level=r.str(fulfillment, "fulfillmentServiceLevel", "fulfillment.fulfillmentServiceLevel"),
        is_prime="PRIME" in programs,
        is_business="AMAZON_BUSINESS" in programs,
        is_premium="PREMIUM" in programs,
        earliest_ship_date=r.datetime(ship_by, "earliestDateTime", "fulfillment.shipByWindow.earliestDateTime"),
        latest_ship_date=r.datetime(ship_by, "latestDateTime", "fulfillment.shipByWindow.latestDateTime"),
        packages=packages,
        sales_channel=r.str(sales_channel, "marketplaceName", "salesChannel.marketplaceName"),
        programs=programs,
        earliest_delivery_date=r.datetime(
            deliver_by, "earliestDateTime", "fulfillment.deliverByWindow.earliestDateTime"
        ),
        latest_delivery_date=r.datetime(deliver_by, "latestDateTime", "fulfillment.deliverByWindow.latestDateTime"),
        tax_registrations=_tax_registrations26(r, tax, "tax"),
        buyer_invoice_preference=r.str(
            r.obj(tax, "taxInvoicing", "tax.taxInvoicing"), "buyerInvoicePreference",
            "tax.taxInvoicing.buyerInvoicePreference",
        ),
        replaced_order_id=replaced,
        is_replacement=replaced is not None,
    )


def delivery_window(raw: Mapping[str, Any] | None) -> tuple[datetime | None, datetime | None]:
    """The deliver-by window (earliest, latest) of a stored order, v2026 `fulfillment.deliverByWindow` or v0
    `EarliestDeliveryDate`/`LatestDeliveryDate`; (None, None) when Amazon sent none or it is unreadable."""
    parse = maybe_amazon_datetime
    if not isinstance(raw, Mapping):
        return None, None
    if "AmazonOrderId" in raw:
        return parse(raw.get("EarliestDeliveryDate")), parse(raw.get("LatestDeliveryDate"))
    fulfillment = raw.get("fulfillment")
    window = fulfillment.get("deliverByWindow") if isinstance(fulfillment, Mapping) else None
    if not isinstance(window, Mapping):
        return None, None
    return parse(window.get("earliestDateTime")), parse(window.get("latestDateTime"))
