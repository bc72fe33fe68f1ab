"""Domain objects of the bridge, named in the words of Adobe's Amazon Sales Channel (ASC) guide.

These are what the importer, the jobs and the admin pages pass around. Amazon's JSON (v2026-01-01)
is mapped into them in one place (`bridge.amazon.mapping`), and Magento payloads are built from them in
one place (`bridge.importer.order_builder`); nothing else reads raw API dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal("0")


class AmazonStatus(StrEnum):
    """Amazon order statuses as ASC shows them (v0 spelling); v2026 `fulfillmentStatus` maps onto these."""

    PENDING = "Pending"
    PENDING_AVAILABILITY = "PendingAvailability"
    UNSHIPPED = "Unshipped"
    PARTIALLY_SHIPPED = "PartiallyShipped"
    SHIPPED = "Shipped"
    CANCELED = "Canceled"
    UNFULFILLABLE = "Unfulfillable"


class ImportState(StrEnum):
    """Where an Amazon order stands on its way to becoming a Commerce order."""

    WAITING = "waiting"  # not importable yet (Pending, PendingAvailability, FBA not yet Shipped...)
    QUEUED = "queued"  # should become a Commerce order; a job will create it
    IMPORTED = "imported"  # the Commerce order exists and is linked
    ERROR = "error"  # creation failed (unknown SKU, no stock, totals mismatch...); retried every sync
    SKIPPED = "skipped"  # never created: import disabled, placed before import-from, FBA off, canceled


class FulfillmentChannel(StrEnum):
    """MFN = fulfilled by the merchant (v2026 `MERCHANT`), AFN = fulfilled by Amazon, FBA (`AMAZON`)."""

    MFN = "MFN"
    AFN = "AFN"


# ASC's ten cancel reasons, in ASC's order (value, label).
CANCEL_REASONS: tuple[tuple[str, str], ...] = (
    ("NoInventory", "No Inventory"),
    ("ShippingAddressUndeliverable", "Shipping Address Undeliverable"),
    ("CustomerExchange", "Customer Exchange"),
    ("BuyerCanceled", "Buyer Canceled"),
    ("GeneralAdjustment", "General Adjustment"),
    ("CarrierCreditDecision", "Carrier Credit Decision"),
    ("RiskAssessmentInformationNotValid", "Risk Assessment Information Not Valid"),
    ("CarrierCoverageFailure", "Carrier Coverage Failure"),
    ("CustomerReturn", "Customer Return"),
    ("MerchandiseNotReceived", "Merchandise Not Received"),
)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address as Amazon gives it; any field may be missing when the app lacks the PII role."""

    name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    line3: str | None = None
    city: str | None = None
    district: str | None = None
    region: str | None = None  # stateOrRegion, free text ("CA", "California", "Bayern")
    postal_code: str | None = None
    country_code: str | None = None  # ISO 3166-1 alpha-2
    phone: str | None = None
    address_type: str | None = None  # RESIDENTIAL | COMMERCIAL | PICKUP_POINT

    @property
    def street(self) -> list[str]:
        return [line for line in (self.line1, self.line2, self.line3) if line]

    def corrected(self, override: dict[str, str | None] | None) -> Address:
        """This address with an operator's corrections (only the editable fields; blanks clear a field)."""
        if not override:
            return self
        changes = {k: (v.strip() or None) if isinstance(v, str) else v
                   for k, v in override.items() if k in EDITABLE_ADDRESS_FIELDS}
        return replace(self, **changes)


# What an operator may correct on Amazon Order Details (ASC: address 1-3, city, region, postal code,
# country), plus the recipient's name and phone, which are as often wrong.
EDITABLE_ADDRESS_FIELDS = ("name", "line1", "line2", "line3", "city", "region", "postal_code", "country_code", "phone")


MARKETPLACE_FACILITATOR = "MARKETPLACE_FACILITATOR"


@dataclass(frozen=True, slots=True)
class TaxCollection:
    """Amazon's `taxCollections` entry of an item: the tax is withheld and remitted by Amazon, not the seller.

    `reporting_scheme` is the item's `taxCalculationBreakdowns[].reportingScheme` (EU `IOSS` or `UOSS`).
    """

    model: str  # MARKETPLACE_FACILITATOR
    responsible_party: str | None = None  # e.g. "Amazon Services, Inc."
    reporting_scheme: str | None = None

    @property
    def by_marketplace(self) -> bool:
        return self.model.upper().replace(" ", "_") in (MARKETPLACE_FACILITATOR, "MARKETPLACEFACILITATOR")

    def scheme_label(self, country_code: str | None) -> str:
        """Who remits it, in the words merchants know: US marketplace facilitator, UK VOEC, EU IOSS."""
        if self.reporting_scheme and self.reporting_scheme.upper() == "IOSS":
            return "EU IOSS"
        if self.reporting_scheme and self.reporting_scheme.upper() == "UOSS":
            return "EU OSS"
        if (country_code or "").upper() == "GB":
            return "UK VOEC"
        return "Marketplace facilitator"


@dataclass(frozen=True, slots=True)
class TaxRegistration:
    """One `tax.taxRegistrations` entry (the buyer's VAT/business number, or the merchant's/marketplace's)."""

    entity_type: str | None  # BUYER | MERCHANT | MARKETPLACE
    number: str | None
    registration_type: str | None = None  # BUSINESS | VAT | CST | CPF | CNPJ
    legal_name: str | None = None
    tax_office: str | None = None


@dataclass(frozen=True, slots=True)
class AmazonOrderItem:
    """One line of an Amazon order. Money fields are row totals in the order currency, never floats.

    `item_price` is unit price x quantity (Amazon's ITEM proceeds); discounts are positive numbers
    that reduce the total.
    """

    order_item_id: str
    seller_sku: str
    asin: str | None
    title: str
    quantity_ordered: int
    quantity_shipped: int = 0
    unit_price: Decimal = ZERO
    item_price: Decimal = ZERO
    item_tax: Decimal = ZERO
    shipping_price: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    promotion_discount: Decimal = ZERO
    shipping_discount: Decimal = ZERO
    gift_wrap_price: Decimal = ZERO
    gift_wrap_tax: Decimal = ZERO
    other_charges: Decimal = ZERO  # COD fee and OTHER proceeds
    condition: str | None = None
    promotion_ids: tuple[str, ...] = ()
    buyer_requested_cancel: bool = False
    cancel_reason: str | None = None
    tax_collection: TaxCollection | None = None  # who remits this line's tax when not the seller
    gift_message: str | None = None
    gift_wrap_level: str | None = None

    @property
    def tax(self) -> Decimal:
        """All tax Amazon charged the buyer on this line (item, shipping, gift wrap)."""
        return self.item_tax + self.shipping_tax + self.gift_wrap_tax

    @property
    def facilitator_tax(self) -> Decimal:
        """The line's tax when Amazon collects and remits it (marketplace facilitator, VOEC, IOSS), else 0."""
        return self.tax if self.tax_collection is not None and self.tax_collection.by_marketplace else ZERO

    @property
    def quantity_unshipped(self) -> int:
        return max(self.quantity_ordered - self.quantity_shipped, 0)

    @property
    def row_total(self) -> Decimal:
        """What the buyer pays for this line, the way Amazon sums its proceeds breakdowns."""
        return (
            self.item_price
            + self.item_tax
            + self.shipping_price
            + self.shipping_tax
            + self.gift_wrap_price
            + self.gift_wrap_tax
            + self.other_charges
            - self.promotion_discount
            - self.shipping_discount
        )


@dataclass(frozen=True, slots=True)
class TrackingPackage:
    """A shipped package as Amazon reports it (MFN: from confirmShipment)."""

    package_reference_id: str
    carrier: str | None = None
    tracking_number: str | None = None
    shipping_service: str | None = None
    ship_time: datetime | None = None
    items: tuple[tuple[str, int], ...] = ()  # (order_item_id, quantity)


@dataclass(frozen=True, slots=True)
class AmazonOrder:
    """An Amazon order as the bridge knows it: the latest snapshot, mapped from whichever API version."""

    amazon_order_id: str
    marketplace_id: str | None
    status: AmazonStatus
    fulfillment_channel: FulfillmentChannel
    purchase_date: datetime
    last_updated: datetime
    currency: str
    order_total: Decimal
    items: tuple[AmazonOrderItem, ...]
    buyer_name: str | None = None
    buyer_email: str | None = None
    buyer_company: str | None = None
    buyer_purchase_order_number: str | None = None
    shipping_address: Address | None = None
    ship_service_level: str | None = None  # e.g. STANDARD, EXPEDITED
    is_prime: bool = False
    is_business: bool = False
    is_premium: bool = False
    earliest_ship_date: datetime | None = None
    latest_ship_date: datetime | None = None
    packages: tuple[TrackingPackage, ...] = ()
    sales_channel: str | None = None  # marketplace name, e.g. Amazon.com
    programs: tuple[str, ...] = field(default=())
    earliest_delivery_date: datetime | None = None
    latest_delivery_date: datetime | None = None
    tax_registrations: tuple[TaxRegistration, ...] = ()
    buyer_invoice_preference: str | None = None  # INDIVIDUAL | BUSINESS (Turkey)
    replaced_order_id: str | None = None  # associatedOrders REPLACEMENT_ORIGINAL_ID (v0 ReplacedOrderId)
    is_replacement: bool = False

    @property
    def buyer_tax_registrations(self) -> tuple[TaxRegistration, ...]:
        return tuple(t for t in self.tax_registrations if (t.entity_type or "BUYER").upper() == "BUYER" and t.number)

    @property
    def buyer_vat_id(self) -> str | None:
        """The buyer's registration number for the billing address `vat_id` (VAT first, else any)."""
        regs = self.buyer_tax_registrations
        vat = next((t for t in regs if (t.registration_type or "").upper() == "VAT"), None)
        chosen = vat or (regs[0] if regs else None)
        return chosen.number if chosen else None

    @property
    def facilitator_tax(self) -> Decimal:
        return sum((item.facilitator_tax for item in self.items), ZERO)

    @property
    def gift_items(self) -> tuple[AmazonOrderItem, ...]:
        return tuple(i for i in self.items if i.gift_message or i.gift_wrap_level)

    @property
    def items_shipped(self) -> int:
        return sum(item.quantity_shipped for item in self.items)

    @property
    def items_unshipped(self) -> int:
        return sum(item.quantity_unshipped for item in self.items)

    @property
    def is_fba(self) -> bool:
        return self.fulfillment_channel is FulfillmentChannel.AFN

    @property
    def items_total(self) -> Decimal:
        return sum((item.row_total for item in self.items), ZERO)
