"""Small typed views of the Magento entities the bridge reads.

Only what the importer needs is lifted out of Magento's JSON; everything else stays in `raw` so nothing is
lost. Magento omits null fields in some versions and sends them as null in others, so every reader here
accepts both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

PRODUCT_ENABLED = 1
PRODUCT_DISABLED = 2


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number, exactly: integers stay ints, others go through float only when the
    float's shortest repr is the same decimal (always true for money with up to 15 significant digits)."""
    if value == value.to_integral_value() and int(value.as_tuple().exponent) >= 0:
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        raise ValueError(f"{value} cannot be sent as an exact JSON number")
    return as_float


def to_decimal(value: Any) -> Decimal | None:
    """Magento money/qty as Decimal, via str so floats from JSON don't carry binary noise."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class MagentoOrderRef:
    """What the importer stores to link an Amazon order to the Commerce order it became."""

    entity_id: int
    increment_id: str | None
    ext_order_id: str | None
    state: str | None
    status: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MagentoOrderRef:
        return cls(
            entity_id=int(data["entity_id"]),
            increment_id=data.get("increment_id"),
            ext_order_id=data.get("ext_order_id"),
            state=data.get("state"),
            status=data.get("status"),
        )


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    sku: str
    name: str
    status: int  # 1 enabled, 2 disabled
    type_id: str
    price: Decimal | None = None
    visibility: int | None = None
    weight: Decimal | None = None
    website_ids: tuple[int, ...] = ()
    is_in_stock: bool | None = None  # from extension_attributes.stock_item when Magento sends it
    qty: Decimal | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def enabled(self) -> bool:
        return self.status == PRODUCT_ENABLED

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Product:
        ext = data.get("extension_attributes") or {}
        stock = ext.get("stock_item") or {}
        in_stock = stock.get("is_in_stock")
        return cls(
            id=int(data["id"]),
            sku=str(data["sku"]),
            name=str(data.get("name") or data["sku"]),
            status=_int(data.get("status")) or PRODUCT_ENABLED,
            type_id=str(data.get("type_id") or "simple"),
            price=to_decimal(data.get("price")),
            visibility=_int(data.get("visibility")),
            weight=to_decimal(data.get("weight")),
            website_ids=tuple(int(w) for w in ext.get("website_ids") or ()),
            is_in_stock=None if in_stock is None else bool(in_stock),
            qty=to_decimal(stock.get("qty")),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class StoreView:
    """A store view with its currencies (from storeViews + storeConfigs)."""

    id: int
    code: str
    website_id: int
    base_currency: str
    default_display_currency: str
    name: str = ""
    store_group_id: int | None = None
    is_active: bool = True
    locale: str | None = None
    timezone: str | None = None
    weight_unit: str | None = None


@dataclass(frozen=True, slots=True)
class Region:
    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Country:
    id: str  # ISO 3166-1 alpha-2
    name: str
    regions: tuple[Region, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Country:
        regions = tuple(
            Region(int(r["id"]), str(r.get("code") or ""), str(r.get("name") or ""))
            for r in data.get("available_regions") or ()
        )
        return cls(
            id=str(data.get("id") or data.get("two_letter_abbreviation")),
            name=str(data.get("full_name_english") or data.get("full_name_locale") or ""),
            regions=regions,
        )


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """An existing Commerce customer an order is assigned to."""

    id: int
    email: str
    firstname: str
    lastname: str
    group_id: int = 1
    website_id: int | None = None
    store_id: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CustomerRef:
        return cls(
            id=int(data["id"]),
            email=str(data["email"]),
            firstname=str(data.get("firstname") or ""),
            lastname=str(data.get("lastname") or ""),
            group_id=_int(data.get("group_id")) or 1,
            website_id=_int(data.get("website_id")),
            store_id=_int(data.get("store_id")),
        )


@dataclass(frozen=True, slots=True)
class Track:
    """A shipment tracking number as Magento's ship endpoint takes it."""

    track_number: str
    carrier_code: str = "custom"
    title: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "track_number": self.track_number,
            "title": self.title or self.carrier_code,
            "carrier_code": self.carrier_code,
        }


@dataclass(frozen=True, slots=True)
class SourceItem:
    sku: str
    source_code: str
    quantity: Decimal
    status: int  # 1 in stock, 0 out of stock

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceItem:
        return cls(
            sku=str(data["sku"]),
            source_code=str(data["source_code"]),
            quantity=to_decimal(data.get("quantity")) or Decimal(0),
            status=_int(data.get("status")) or 0,
        )
