"""Read the details page's extra fields from an order's stored Amazon JSON (v2026-01-01 shape, v0 tolerated).

The indexed columns cover lists and filters; the rest (buyer e-mail, address, packages) is only needed on
one page, so it stays in the snapshot and is read here, defensively: any field may be missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Package:
    reference: str
    carrier: str | None
    tracking_number: str | None
    shipping_service: str | None
    ship_time: datetime | None
    status: str | None
    items: list[tuple[str, int]] = field(default_factory=list)  # (order_item_id, quantity)


@dataclass(frozen=True)
class SnapshotDetails:
    buyer_email: str | None = None
    buyer_company: str | None = None
    purchase_order_number: str | None = None
    sales_channel: str | None = None
    is_premium: bool = False
    earliest_ship_date: datetime | None = None
    address_lines: list[str] = field(default_factory=list)
    ship_name: str | None = None
    ship_company: str | None = None
    ship_phone: str | None = None
    address_type: str | None = None
    packages: list[Package] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)


def details(snapshot: dict[str, Any] | None) -> SnapshotDetails:
    snap = snapshot or {}
    if "AmazonOrderId" in snap:  # v0 shape
        return _details_v0(snap)
    buyer = _get(snap, "buyer") or {}
    address = _get(snap, "recipient", "deliveryAddress") or {}
    programs = [str(p) for p in (snap.get("programs") or []) if p]
    packages = []
    for raw in snap.get("packages") or []:
        if not isinstance(raw, dict):
            continue
        items = [
            (str(item.get("orderItemId", "")), int(item.get("quantity") or 0))
            for item in raw.get("packageItems") or []
            if isinstance(item, dict)
        ]
        packages.append(
            Package(
                reference=str(raw.get("packageReferenceId", "")),
                carrier=_text(raw.get("carrier")),
                tracking_number=_text(raw.get("trackingNumber")),
                shipping_service=_text(raw.get("shippingService")),
                ship_time=_time(raw.get("shipTime")),
                status=_text(_get(raw, "packageStatus", "status")),
                items=items,
            )
        )
    return SnapshotDetails(
        buyer_email=_text(buyer.get("buyerEmail")),
        buyer_company=_text(buyer.get("buyerCompanyName")),
        purchase_order_number=_text(buyer.get("buyerPurchaseOrderNumber")),
        sales_channel=_text(_get(snap, "salesChannel", "marketplaceName") or _get(snap, "salesChannel", "channelName")),
        is_premium="PREMIUM" in programs,
        earliest_ship_date=_time(_get(snap, "fulfillment", "shipByWindow", "earliestDateTime")),
        address_lines=_address_lines(
            address.get("companyName"),
            address.get("addressLine1"),
            address.get("addressLine2"),
            address.get("addressLine3"),
            " ".join(
                str(p) for p in (address.get("city"), address.get("stateOrRegion"), address.get("postalCode")) if p
            ),
            address.get("countryCode"),
        ),
        ship_name=_text(address.get("name")),
        ship_company=_text(address.get("companyName")),
        ship_phone=_text(address.get("phone")),
        address_type=_text(address.get("addressType")),
        packages=packages,
        programs=programs,
    )


def _address_lines(*parts: Any) -> list[str]:
    return [str(p) for p in parts if p not in (None, "")]


def _details_v0(snap: dict[str, Any]) -> SnapshotDetails:
    buyer = snap.get("BuyerInfo") or {}
    address = snap.get("ShippingAddress") or {}
    return SnapshotDetails(
        buyer_email=_text(buyer.get("BuyerEmail")),
        buyer_company=_text(buyer.get("BuyerCompanyName")),
        purchase_order_number=_text(buyer.get("PurchaseOrderNumber")),
        sales_channel=_text(snap.get("SalesChannel")),
        is_premium=bool(snap.get("IsPremiumOrder")),
        earliest_ship_date=_time(snap.get("EarliestShipDate")),
        address_lines=_address_lines(
            address.get("AddressLine1"),
            address.get("AddressLine2"),
            address.get("AddressLine3"),
            " ".join(
                str(p) for p in (address.get("City"), address.get("StateOrRegion"), address.get("PostalCode")) if p
            ),
            address.get("CountryCode"),
        ),
        ship_name=_text(address.get("Name")),
        ship_phone=_text(address.get("Phone")),
        address_type=_text(address.get("AddressType")),
    )
