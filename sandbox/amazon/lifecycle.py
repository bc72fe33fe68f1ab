"""How an order moves: shipments confirmed by the seller, cancellations, Amazon-side status changes.

All functions mutate a stored v2026 order dict in place and stamp `lastUpdatedTime`; callers hold the
state lock.
"""

from __future__ import annotations

from datetime import datetime

from .clock import iso

CANCELLABLE = {"UNSHIPPED"}
SHIPPABLE = {"UNSHIPPED", "PARTIALLY_SHIPPED"}


def status(order: dict) -> str:
    return order.get("fulfillment", {}).get("fulfillmentStatus", "PENDING")


def item_fulfillment(item: dict) -> dict:
    f = item.setdefault("fulfillment", {})
    f.setdefault("quantityFulfilled", 0)
    f.setdefault("quantityUnfulfilled", item["quantityOrdered"] - f["quantityFulfilled"])
    return f


def refresh_status(order: dict) -> None:
    """Derive SHIPPED / PARTIALLY_SHIPPED from the items' shipped quantities."""
    shipped = sum(item_fulfillment(i)["quantityFulfilled"] for i in order["orderItems"])
    remaining = sum(item_fulfillment(i)["quantityUnfulfilled"] for i in order["orderItems"])
    fulfillment = order.setdefault("fulfillment", {"fulfillmentStatus": "UNSHIPPED"})
    if shipped and remaining:
        fulfillment["fulfillmentStatus"] = "PARTIALLY_SHIPPED"
    elif shipped and not remaining:
        fulfillment["fulfillmentStatus"] = "SHIPPED"


def record_package(order: dict, package: dict, lines: dict[str, int], now: datetime) -> None:
    """A confirmed shipment: a package on the order and its quantities moved to fulfilled.

    Re-confirming an existing packageReferenceId edits that package's details without shipping the
    quantities again (Amazon lets sellers edit shipment details of shipped orders).
    """
    packages = order.setdefault("packages", [])
    existing = next((p for p in packages if p["packageReferenceId"] == package["packageReferenceId"]), None)
    if existing is not None:
        existing.update({k: v for k, v in package.items() if k not in ("packageItems", "createdTime")})
    else:
        packages.append(package)
        items = {i["orderItemId"]: i for i in order["orderItems"]}
        for item_id, qty in lines.items():
            f = item_fulfillment(items[item_id])
            f["quantityFulfilled"] += qty
            f["quantityUnfulfilled"] -= qty
        refresh_status(order)
    order["lastUpdatedTime"] = iso(now)


def cancel(order: dict, cancelled_by: str, reasons: dict[str, str], default_reason: str, now: datetime) -> None:
    """Cancel the whole order; `reasons` maps orderItemId -> cancel reason."""
    order.setdefault("fulfillment", {})["fulfillmentStatus"] = "CANCELLED"
    for item in order["orderItems"]:
        cancellation = item.setdefault("cancellation", {})
        cancellation["cancellationExecution"] = {
            "cancelledBy": cancelled_by,
            "cancelReason": reasons.get(item["orderItemId"], default_reason),
        }
        f = item_fulfillment(item)
        f["quantityUnfulfilled"] = 0
    for package in order.get("packages", []):
        package.setdefault("packageStatus", {})["status"] = "CANCELLED"
    order["lastUpdatedTime"] = iso(now)


def request_cancellation(order: dict, reason: str, now: datetime) -> None:
    """The buyer asks to cancel; the seller still decides (v0 BuyerRequestedCancel)."""
    for item in order["orderItems"]:
        item.setdefault("cancellation", {})["cancellationRequest"] = {"requester": "BUYER", "cancelReason": reason}
    order["lastUpdatedTime"] = iso(now)


def ship_all(order: dict, now: datetime) -> None:
    """Amazon shipped everything (AFN), or a status forced from the control API."""
    for item in order["orderItems"]:
        f = item_fulfillment(item)
        f["quantityFulfilled"] = item["quantityOrdered"]
        f["quantityUnfulfilled"] = 0
    order.setdefault("fulfillment", {})["fulfillmentStatus"] = "SHIPPED"
    order["lastUpdatedTime"] = iso(now)


def set_status(order: dict, new_status: str, now: datetime) -> None:
    order.setdefault("fulfillment", {})["fulfillmentStatus"] = new_status
    order["lastUpdatedTime"] = iso(now)
