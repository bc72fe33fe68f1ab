"""Orders API v0, derived from the same stored v2026 orders: getOrders, getOrder, getOrderItems,
getOrderAddress, getOrderBuyerInfo (v0 names and statuses, NextToken) and confirmShipment.

PII follows Amazon's Restricted Data Token rules: with a plain LWA token the buyer block and the
restricted address fields (name, lines, phone, type) are left out; an RDT from the Tokens API with the
`shippingAddress` / `buyerInfo` data elements brings them back.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Blueprint, Response, g, request

from . import lifecycle
from .clock import iso, parse_iso
from .money import amount, money_v0
from .orders import ORDER_ID
from .query import decode_token, encode_token, in_window, new_query, page, parse_page_size, parse_window, same_filters
from .spapi import current_state, error, invalid_input, json_response, not_found, query_list, request_json, sp_operation

bp = Blueprint("amazon_orders_v0", __name__)

MODEL = "ordersV0"
STATUS_V0 = {"PENDING_AVAILABILITY": "PendingAvailability", "PENDING": "Pending", "UNSHIPPED": "Unshipped",
             "PARTIALLY_SHIPPED": "PartiallyShipped", "SHIPPED": "Shipped", "CANCELLED": "Canceled",
             "UNFULFILLABLE": "Unfulfillable"}
STATUS_2026 = {v: k for k, v in STATUS_V0.items()}
V0_STATUSES = set(STATUS_V0.values()) | {"InvoiceUnconfirmed"}
LEVEL_V0 = {"EXPEDITED": "Expedited", "FREE_ECONOMY": "FreeEconomy", "NEXT_DAY": "NextDay",
            "PRIORITY": "Priority", "SAME_DAY": "SameDay", "SECOND_DAY": "SecondDay", "SCHEDULED": "Scheduled",
            "STANDARD": "Standard"}
CONDITION_V0 = {"NEW": "New", "USED": "Used", "COLLECTIBLE": "Collectible", "REFURBISHED": "Refurbished",
                "PREORDER": "Preorder", "CLUB": "Club", "MINT": "Mint", "VERY_GOOD": "VeryGood",
                "GOOD": "Good", "ACCEPTABLE": "Acceptable", "POOR": "Poor"}
ADDRESS_STATUSES = {"UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED"}


def _currency(order: dict) -> str:
    total = order.get("proceeds", {}).get("grandTotal")
    if total:
        return total["currencyCode"]
    for item in order["orderItems"]:
        price = item.get("product", {}).get("price", {}).get("unitPrice")
        if price:
            return price["currencyCode"]
    return "USD"


def _breakdown(item: dict, kind: str, subtype: str | None = None) -> Decimal | None:
    for b in item.get("proceeds", {}).get("breakdowns", []):
        if b["type"] != kind:
            continue
        if subtype is None:
            return amount(b["subtotal"])
        details = b.get("detailedBreakdowns")
        if not details:
            return amount(b["subtotal"]) if subtype == "ITEM" else None
        found = [amount(d["value"]) for d in details if d.get("subtype") == subtype]
        return sum(found, Decimal("0")) if found else None
    return None


def order_v0(order: dict, pii: set[str] | frozenset[str] = frozenset()) -> dict:
    status = lifecycle.status(order)
    programs = set(order.get("programs", []))
    fulfillment = order.get("fulfillment", {})
    channel = order.get("salesChannel", {})
    items = order["orderItems"]
    out: dict = {"AmazonOrderId": order["orderId"]}
    for alias in order.get("orderAliases", []):
        if alias.get("aliasType") == "SELLER_ORDER_ID":
            out["SellerOrderId"] = alias["aliasId"]
    out["PurchaseDate"] = order["createdTime"]
    out["LastUpdateDate"] = order["lastUpdatedTime"]
    out["OrderStatus"] = STATUS_V0.get(status, "Pending")
    out["FulfillmentChannel"] = "AFN" if fulfillment.get("fulfilledBy") == "AMAZON" else "MFN"
    if channel.get("marketplaceName"):
        out["SalesChannel"] = channel["marketplaceName"]
    level = fulfillment.get("fulfillmentServiceLevel")
    if level:
        out["ShipServiceLevel"] = LEVEL_V0.get(level, level)
    total = order.get("proceeds", {}).get("grandTotal")
    if total and status != "PENDING":
        out["OrderTotal"] = money_v0(Decimal(total["amount"]), total["currencyCode"])
    out["NumberOfItemsShipped"] = sum(i.get("fulfillment", {}).get("quantityFulfilled", 0) for i in items)
    out["NumberOfItemsUnshipped"] = sum(
        i.get("fulfillment", {}).get("quantityUnfulfilled", i["quantityOrdered"]) for i in items
    ) if status not in ("CANCELLED", "PENDING") else 0
    methods = [p.get("paymentMethod") for p in order.get("payment", {}).get("paymentExecutions", [])]
    out["PaymentMethod"] = "COD" if "CashOnDelivery" in methods else "CVS" if "ConvenienceStore" in methods \
        else "Other"
    out["PaymentMethodDetails"] = [m for m in methods if m] or ["Standard"]
    out["IsReplacementOrder"] = any(a.get("associationType", "").startswith("REPLACEMENT")
                                    for a in order.get("associatedOrders", []))
    if channel.get("marketplaceId"):
        out["MarketplaceId"] = channel["marketplaceId"]
    if level:
        out["ShipmentServiceLevelCategory"] = LEVEL_V0.get(level, "Standard")
    out["OrderType"] = "Preorder" if "PREORDER" in programs else "StandardOrder"
    for window, (early, late) in (("shipByWindow", ("EarliestShipDate", "LatestShipDate")),
                                  ("deliverByWindow", ("EarliestDeliveryDate", "LatestDeliveryDate"))):
        w = fulfillment.get(window) or {}
        if w.get("earliestDateTime"):
            out[early] = w["earliestDateTime"]
        if w.get("latestDateTime"):
            out[late] = w["latestDateTime"]
    out["IsBusinessOrder"] = "AMAZON_BUSINESS" in programs
    out["IsPrime"] = "PRIME" in programs
    out["IsGlobalExpressEnabled"] = False
    out["IsPremiumOrder"] = "PREMIUM" in programs
    out["IsSoldByAB"] = False
    out["IsIBA"] = "INVOICE_BY_AMAZON" in programs
    address = order.get("recipient", {}).get("deliveryAddress")
    out["IsISPU"] = "IN_STORE_PICK_UP" in programs
    out["IsAccessPointOrder"] = bool(address and address.get("addressType") == "PICKUP_POINT")
    if address and status in ADDRESS_STATUSES:
        out["ShippingAddress"] = _address_v0(address, restricted="shippingAddress" in pii)
    if "buyerInfo" in pii:
        out["BuyerInfo"] = _buyer_v0(order)
    return out


def _buyer_v0(order: dict) -> dict:
    buyer = order.get("buyer", {})
    out = {}
    if buyer.get("buyerEmail"):
        out["BuyerEmail"] = buyer["buyerEmail"]
    if buyer.get("buyerName"):
        out["BuyerName"] = buyer["buyerName"]
    if buyer.get("buyerPurchaseOrderNumber"):
        out["PurchaseOrderNumber"] = buyer["buyerPurchaseOrderNumber"]
    return out


def _address_v0(address: dict, *, restricted: bool) -> dict:
    """v0 Address; Name, address lines, phone, type and extended fields need an RDT (restricted)."""
    fields = [("city", "City"), ("districtOrCounty", "County"), ("stateOrRegion", "StateOrRegion"),
              ("municipality", "Municipality"), ("postalCode", "PostalCode"), ("countryCode", "CountryCode")]
    if restricted:
        fields = [("name", "Name"), ("companyName", "CompanyName"), ("addressLine1", "AddressLine1"),
                  ("addressLine2", "AddressLine2"), ("addressLine3", "AddressLine3"), *fields,
                  ("phone", "Phone")]
    out = {v0: address[v26] for v26, v0 in fields if address.get(v26)}
    if restricted and address.get("addressType") in ("RESIDENTIAL", "COMMERCIAL"):
        out["AddressType"] = address["addressType"].capitalize()
    return out


def item_v0(order: dict, item: dict, pii: set[str] | frozenset[str] = frozenset()) -> dict:
    currency = _currency(order)
    product = item.get("product", {})
    fulfillment = item.get("fulfillment", {})
    out: dict = {"ASIN": product.get("asin", "")}
    if product.get("sellerSku"):
        out["SellerSKU"] = product["sellerSku"]
    out["OrderItemId"] = item["orderItemId"]
    if product.get("title"):
        out["Title"] = product["title"]
    out["QuantityOrdered"] = item["quantityOrdered"]
    out["QuantityShipped"] = fulfillment.get("quantityFulfilled", 0)
    out["ProductInfo"] = {"NumberOfItems": "1"}
    points = item.get("expense", {}).get("pointsCost", {}).get("pointsGranted")
    if points:
        value = points.get("pointsMonetaryValue")
        out["PointsGranted"] = {"PointsNumber": points.get("pointsNumber", 0)}
        if value:
            out["PointsGranted"]["PointsMonetaryValue"] = money_v0(Decimal(value["amount"]),
                                                                   value["currencyCode"])
    if lifecycle.status(order) != "PENDING":  # Pending orders omit pricing, taxes, promotions and gift status
        unit = product.get("price", {}).get("unitPrice")
        item_price = _breakdown(item, "ITEM")
        if item_price is None and unit:
            item_price = Decimal(unit["amount"]) * item["quantityOrdered"]
        if item_price is not None:
            out["ItemPrice"] = money_v0(item_price, currency)
        shipping = _breakdown(item, "SHIPPING")
        if shipping is not None:
            out["ShippingPrice"] = money_v0(shipping, currency)
        out["ItemTax"] = money_v0(_breakdown(item, "TAX", "ITEM") or Decimal("0"), currency)
        if shipping is not None:
            out["ShippingTax"] = money_v0(_breakdown(item, "TAX", "SHIPPING") or Decimal("0"), currency)
            out["ShippingDiscount"] = money_v0(-(_breakdown(item, "DISCOUNT", "SHIPPING") or Decimal("0")),
                                               currency)
        out["PromotionDiscount"] = money_v0(-(_breakdown(item, "DISCOUNT", "ITEM") or Decimal("0")), currency)
        promotions = [p["promotionId"] for p in item.get("promotion", {}).get("breakdowns", [])
                      if p.get("promotionId")]
        if promotions:
            out["PromotionIds"] = promotions
        gift = fulfillment.get("packing", {}).get("giftOption")
        out["IsGift"] = "true" if gift else "false"
        if gift and "buyerInfo" in pii:
            out["BuyerInfo"] = {k: v for k, v in (("GiftMessageText", gift.get("giftMessage")),
                                                  ("GiftWrapLevel", gift.get("giftWrapLevel"))) if v}
    condition = product.get("condition", {})
    if condition.get("conditionNote"):
        out["ConditionNote"] = condition["conditionNote"]
    if condition.get("conditionType"):
        out["ConditionId"] = CONDITION_V0.get(condition["conditionType"], condition["conditionType"].title())
    if condition.get("conditionSubtype"):
        out["ConditionSubtypeId"] = CONDITION_V0.get(condition["conditionSubtype"],
                                                     condition["conditionSubtype"].title())
    out["IsTransparency"] = "TRANSPARENCY" in item.get("programs", [])
    out["SerialNumberRequired"] = False
    request_ = item.get("cancellation", {}).get("cancellationRequest")
    out["BuyerRequestedCancel"] = (
        {"IsBuyerRequestedCancel": "true", "BuyerCancelReason": request_.get("cancelReason", "")}
        if request_ else {"IsBuyerRequestedCancel": "false"}
    )
    return out


# -- reads --------------------------------------------------------------------------------------------

def _order_or_error(order_id: str) -> dict | Response:
    if not ORDER_ID.match(order_id):
        return invalid_input("Invalid Input", f"Invalid AmazonOrderId: {order_id}.")
    order = current_state().find_order(g.seller_id, order_id)
    if order is None:
        return not_found(f"Order {order_id} was not found.")
    return order


@bp.get("/orders/v0/orders")
@sp_operation("getOrders", MODEL, "getOrders")
def get_orders() -> Response:
    state = current_state()
    now = state.clock.now()
    size = parse_page_size(request.args.get("MaxResultsPerPage"), "MaxResultsPerPage")
    if isinstance(size, Response):
        return size
    filters: dict[str, list[str] | None] = {
        "MarketplaceIds": query_list("MarketplaceIds"),
        "OrderStatuses": query_list("OrderStatuses"),
        "FulfillmentChannels": query_list("FulfillmentChannels"),
        "AmazonOrderIds": query_list("AmazonOrderIds"),
        "SellerOrderId": [request.args["SellerOrderId"]] if request.args.get("SellerOrderId") else None,
    }
    bad = [s for s in filters["OrderStatuses"] or [] if s not in V0_STATUSES]
    bad += [c for c in filters["FulfillmentChannels"] or [] if c not in ("AFN", "MFN")]
    if bad:
        return invalid_input(details=f"Invalid value(s): {', '.join(bad)}.")
    names = ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore")
    token = request.args.get("NextToken")
    if token:
        query = decode_token(token, state.secret, now)
        if isinstance(query, Response):
            return query
        if not same_filters(query, None, {k: v for k, v in filters.items() if k != "MarketplaceIds"}):
            return invalid_input(details="The NextToken does not match the other request parameters.")
    else:
        if not filters["MarketplaceIds"]:
            return invalid_input(details="MarketplaceIds is a required parameter.")
        if len(filters["MarketplaceIds"]) > 50 or len(filters["AmazonOrderIds"] or []) > 50:
            return invalid_input(details="At most 50 MarketplaceIds and 50 AmazonOrderIds are allowed.")
        window = parse_window(request.args.get, names, now)
        if isinstance(window, Response):
            return window
        query = new_query(window, filters, now)

    f = query.filters
    statuses = {STATUS_2026.get(s, s) for s in f.get("OrderStatuses") or []}
    with state.lock:
        candidates = []
        for order in state.seller_orders(g.seller_id).values():
            v0 = None
            if not in_window(order, query):
                continue
            if f.get("MarketplaceIds") and order.get("salesChannel", {}).get("marketplaceId") \
                    not in f["MarketplaceIds"]:
                continue
            if statuses and lifecycle.status(order) not in statuses:
                continue
            if f.get("AmazonOrderIds") and order["orderId"] not in f["AmazonOrderIds"]:
                continue
            if f.get("FulfillmentChannels") or f.get("SellerOrderId"):
                v0 = order_v0(order)
                if f.get("FulfillmentChannels") and v0["FulfillmentChannel"] not in f["FulfillmentChannels"]:
                    continue
                if f.get("SellerOrderId") and v0.get("SellerOrderId") not in f["SellerOrderId"]:
                    continue
            candidates.append(order)
        chunk, cursor = page(candidates, query, size)
        payload: dict = {"Orders": [order_v0(o, g.pii) for o in chunk]}
    if cursor is not None:
        query.last = cursor
        payload["NextToken"] = encode_token(query, state.secret, now)
    payload["LastUpdatedBefore" if query.mode == "lastUpdated" else "CreatedBefore"] = query.before
    return json_response({"payload": payload})


@bp.get("/orders/v0/orders/<orderId>")
@sp_operation("getOrderV0", MODEL, "getOrder")
def get_order(orderId: str) -> Response:  # noqa: N803
    with current_state().lock:
        order = _order_or_error(orderId)
        if isinstance(order, Response):
            return order
        return json_response({"payload": order_v0(order, g.pii)})


@bp.get("/orders/v0/orders/<orderId>/orderItems")
@sp_operation("getOrderItems", MODEL, "getOrderItems")
def get_order_items(orderId: str) -> Response:  # noqa: N803
    with current_state().lock:
        order = _order_or_error(orderId)
        if isinstance(order, Response):
            return order
        items = [item_v0(order, i, g.pii) for i in order["orderItems"]]
    return json_response({"payload": {"AmazonOrderId": orderId, "OrderItems": items}})


@bp.get("/orders/v0/orders/<orderId>/address")
@sp_operation("getOrderAddress", MODEL, "getOrderAddress")
def get_order_address(orderId: str) -> Response:  # noqa: N803
    with current_state().lock:
        order = _order_or_error(orderId)
        if isinstance(order, Response):
            return order
        payload: dict = {"AmazonOrderId": orderId}
        address = order.get("recipient", {}).get("deliveryAddress")
        if address and lifecycle.status(order) in ADDRESS_STATUSES:
            payload["ShippingAddress"] = _address_v0(address, restricted=g.rdt)
    return json_response({"payload": payload})


@bp.get("/orders/v0/orders/<orderId>/buyerInfo")
@sp_operation("getOrderBuyerInfo", MODEL, "getOrderBuyerInfo")
def get_order_buyer_info(orderId: str) -> Response:  # noqa: N803
    with current_state().lock:
        order = _order_or_error(orderId)
        if isinstance(order, Response):
            return order
        payload: dict = {"AmazonOrderId": orderId}
        if g.rdt:
            payload.update(_buyer_v0(order))
    return json_response({"payload": payload})


# -- confirmShipment ----------------------------------------------------------------------------------

def _shipment_error(message: str) -> Response:
    return error(400, "InvalidInput", message)


@bp.post("/orders/v0/orders/<orderId>/shipmentConfirmation")
@sp_operation("confirmShipment", MODEL, "confirmShipment")
def confirm_shipment(orderId: str) -> Response:  # noqa: N803
    state = current_state()
    body = request_json()
    if not isinstance(body, dict):
        return _shipment_error("Invalid request body: a JSON object is required.")
    marketplace_id = body.get("marketplaceId")
    detail = body.get("packageDetail")
    if not isinstance(marketplace_id, str) or not marketplace_id:
        return _shipment_error("marketplaceId is required.")
    if not isinstance(detail, dict):
        return _shipment_error("packageDetail is required.")
    for name in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate"):
        if not isinstance(detail.get(name), str) or not detail[name].strip():
            return _shipment_error(f"packageDetail.{name} is required.")
    if detail["carrierCode"] == "Other" and not detail.get("carrierName"):
        return _shipment_error("carrierName is required when carrierCode is Other.")
    try:
        ship_date: datetime = parse_iso(detail["shipDate"])
    except ValueError:
        return _shipment_error(f"shipDate: {detail['shipDate']} is not a valid ISO 8601 date-time.")
    lines = detail.get("orderItems")
    if not isinstance(lines, list) or not lines:
        return _shipment_error("packageDetail.orderItems must contain at least one item.")
    if body.get("codCollectionMethod") not in (None, "DirectPayment"):
        return _shipment_error("codCollectionMethod must be DirectPayment.")
    if not ORDER_ID.match(orderId):
        return _shipment_error(f"AmazonOrderId {orderId} is invalid.")
    with state.lock:
        order = state.find_order(g.seller_id, orderId)
        if order is None:
            return not_found(f"Order {orderId} was not found.")
        if order.get("salesChannel", {}).get("marketplaceId") != marketplace_id:
            return _shipment_error(f"marketplaceId {marketplace_id} does not match the order's marketplace.")
        if order.get("fulfillment", {}).get("fulfilledBy") == "AMAZON":
            return _shipment_error("Shipment confirmation is not allowed for orders fulfilled by Amazon.")
        items = {i["orderItemId"]: i for i in order["orderItems"]}
        wanted: dict[str, int] = {}
        for line in lines:
            if not isinstance(line, dict):
                return _shipment_error("Each orderItems entry must be an object.")
            item_id, qty = line.get("orderItemId"), line.get("quantity")
            if item_id not in items:
                return _shipment_error("OrderItemId is invalid, please obtain the value through the "
                                       "getOrderItems API or Manage Orders page")
            if not isinstance(qty, int) or isinstance(qty, bool) or qty < 1:
                return _shipment_error(f"Quantity for OrderItemId {item_id} must be a positive integer.")
            wanted[item_id] = wanted.get(item_id, 0) + qty
        existing = {p["packageReferenceId"] for p in order.get("packages", [])}
        status = lifecycle.status(order)
        editing = detail["packageReferenceId"] in existing and status in ("PARTIALLY_SHIPPED", "SHIPPED")
        if not editing:
            if status not in lifecycle.SHIPPABLE:
                return _shipment_error(f"The order is in status {STATUS_V0.get(status, status)} and cannot "
                                       f"be confirmed as shipped.")
            for item_id, qty in wanted.items():
                left = lifecycle.item_fulfillment(items[item_id])["quantityUnfulfilled"]
                if qty > left:
                    return _shipment_error(f"Quantity {qty} for OrderItemId {item_id} exceeds the unshipped "
                                           f"quantity {left}.")
        now = state.clock.now()
        package = {
            "packageReferenceId": detail["packageReferenceId"],
            "createdTime": iso(now),
            "packageStatus": {"status": "SHIPPED"},
            "carrier": detail.get("carrierName") or detail["carrierCode"],
            "shipTime": iso(ship_date),
            "shippingService": detail.get("shippingMethod") or "",
            "trackingNumber": detail["trackingNumber"],
            "packageItems": [
                {"orderItemId": line["orderItemId"], "quantity": line["quantity"],
                 **({"transparencyCodes": line["transparencyCodes"]} if line.get("transparencyCodes") else {})}
                for line in lines
            ],
        }
        lifecycle.record_package(order, package, {} if editing else wanted, now)
        state.save()
    return Response(status=204)
