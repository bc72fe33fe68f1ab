"""Orders API v2026-01-01: searchOrders and getOrder, served from the twin's stored v2026 orders.

Only the `includedData` blocks asked for are returned; identity, dates, programs, sales channel and the
items' product data always are.
"""

from __future__ import annotations

import copy
import re

from flask import Blueprint, Response, g, request

from .clock import parse_iso
from .query import (
    decode_token,
    encode_token,
    new_query,
    parse_page_size,
    parse_window,
    same_filters,
)
from .spapi import current_state, invalid_input, json_response, not_found, query_list, sp_operation

bp = Blueprint("amazon_orders_2026", __name__)

MODEL = "orders_2026-01-01"
ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
FULFILLMENT_STATUSES = {"PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED",
                        "CANCELLED", "UNFULFILLABLE"}
FULFILLED_BY = {"MERCHANT", "AMAZON"}
INCLUDED_DATA = {"BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                 "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS"}

# includedData value -> order-level and item-level keys it unlocks
ORDER_BLOCKS = {"BUYER": "buyer", "RECIPIENT": "recipient", "PROCEEDS": "proceeds", "PAYMENT": "payment",
                "TAX": "tax", "FULFILLMENT": "fulfillment", "PACKAGES": "packages",
                "FULFILLMENT_ORDERS": "fulfillmentOrders"}
ITEM_BLOCKS = {"PROCEEDS": "proceeds", "EXPENSE": "expense", "PROMOTION": "promotion",
               "CANCELLATION": "cancellation", "FULFILLMENT": "fulfillment", "TAX": "tax"}
ALWAYS_ORDER = ("orderId", "orderAliases", "createdTime", "lastUpdatedTime", "programs", "associatedOrders",
                "salesChannel")
ALWAYS_ITEM = ("orderItemId", "quantityOrdered", "measurement", "associatedOrderItems", "programs", "product")
ORDER_KEY_ORDER = ("orderId", "orderAliases", "createdTime", "lastUpdatedTime", "programs", "associatedOrders",
                   "salesChannel", "buyer", "recipient", "proceeds", "payment", "tax", "fulfillment",
                   "orderItems", "packages", "fulfillmentOrders")
ITEM_KEY_ORDER = ("orderItemId", "quantityOrdered", "measurement", "associatedOrderItems", "programs",
                  "product", "proceeds", "expense", "promotion", "cancellation", "fulfillment", "tax")


def project(order: dict, included: set[str], *, copy_blocks: bool = True) -> dict:
    """The order as the API returns it for this `includedData`; without `copy_blocks` it shares the stored
    order's blocks, for a caller that serializes it before letting go of the twin's lock."""
    copy_ = copy.deepcopy if copy_blocks else (lambda value: value)
    order_keys = set(ALWAYS_ORDER) | {ORDER_BLOCKS[i] for i in included if i in ORDER_BLOCKS} | {"orderItems"}
    item_keys = set(ALWAYS_ITEM) | {ITEM_BLOCKS[i] for i in included if i in ITEM_BLOCKS}
    out: dict = {}
    for key in ORDER_KEY_ORDER:
        if key not in order_keys or key not in order:
            continue
        if key == "orderItems":
            out[key] = [
                {k: copy_(item[k]) for k in ITEM_KEY_ORDER if k in item_keys and k in item}
                for item in order["orderItems"]
            ]
        else:
            out[key] = copy_(order[key])
    return out


def parse_included(values: list[str] | None) -> set[str] | Response:
    included = set(values or [])
    unknown = included - INCLUDED_DATA
    if unknown:
        return invalid_input(details=f"Invalid includedData value(s): {', '.join(sorted(unknown))}.")
    return included


def _enum_list(name: str, allowed: set[str]) -> list[str] | None | Response:
    values = query_list(name)
    if values is not None:
        bad = [v for v in values if v not in allowed]
        if bad:
            return invalid_input(details=f"Invalid {name} value(s): {', '.join(bad)}.")
    return values


def matches(order: dict, filters: dict[str, list[str] | None]) -> bool:
    statuses = filters.get("fulfillmentStatuses")
    if statuses and order.get("fulfillment", {}).get("fulfillmentStatus") not in statuses:
        return False
    fulfilled_by = filters.get("fulfilledBy")
    if fulfilled_by and order.get("fulfillment", {}).get("fulfilledBy") not in fulfilled_by:
        return False
    marketplaces = filters.get("marketplaceIds")
    return not (marketplaces and order.get("salesChannel", {}).get("marketplaceId") not in marketplaces)


@bp.get("/orders/2026-01-01/orders")
@sp_operation("searchOrders", MODEL, "searchOrders")
def search_orders() -> Response:
    state = current_state()
    now = state.clock.now()
    included = parse_included(query_list("includedData"))
    if isinstance(included, Response):
        return included
    size = parse_page_size(request.args.get("maxResultsPerPage"), "maxResultsPerPage")
    if isinstance(size, Response):
        return size
    filters: dict[str, list[str] | None] = {}
    for name, allowed in (("fulfillmentStatuses", FULFILLMENT_STATUSES), ("fulfilledBy", FULFILLED_BY)):
        values = _enum_list(name, allowed)
        if isinstance(values, Response):
            return values
        filters[name] = values
    filters["marketplaceIds"] = query_list("marketplaceIds")
    if filters["marketplaceIds"] is not None and len(filters["marketplaceIds"]) > 50:
        return invalid_input(details="marketplaceIds may contain at most 50 values.")

    names = ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore")
    token = request.args.get("paginationToken")
    if token:
        query = decode_token(token, state.secret, now)
        if isinstance(query, Response):
            return query
        window = None
        if any(request.args.get(n) for n in names):
            window = parse_window(request.args.get, names, now)
            if isinstance(window, Response):
                return window
        if not same_filters(query, window, filters):
            return invalid_input(details="The paginationToken does not match the other request parameters.")
    else:
        window = parse_window(request.args.get, names, now)
        if isinstance(window, Response):
            return window
        query = new_query(window, filters, now)

    with state.lock:
        chunk, cursor = state.sorted_orders(g.seller_id, query.mode).page(
            state.seller_orders(g.seller_id), after=parse_iso(query.after), before=parse_iso(query.before),
            last=query.last, size=size, matches=lambda o: matches(o, query.filters))
        body: dict = {"orders": [project(o, included, copy_blocks=False) for o in chunk]}
        if cursor is not None:
            query.last = cursor
            body["pagination"] = {"nextToken": encode_token(query, state.secret, now)}
        body["lastUpdatedBefore" if query.mode == "lastUpdated" else "createdBefore"] = query.before
        return json_response(body)  # serialized under the lock (orders change in place): no deep copies needed


@bp.get("/orders/2026-01-01/orders/<orderId>")
@sp_operation("getOrder", MODEL, "getOrder")
def get_order(orderId: str) -> Response:  # noqa: N803 - the model's parameter name
    state = current_state()
    included = parse_included(query_list("includedData"))
    if isinstance(included, Response):
        return included
    if not ORDER_ID.match(orderId):
        return invalid_input("Invalid Input", f"Invalid orderId: {orderId}.")
    with state.lock:
        order = state.find_order(g.seller_id, orderId)
        if order is None:
            return not_found(f"Order {orderId} was not found.")
        return json_response({"order": project(order, included)})
