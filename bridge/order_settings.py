"""A store's Order Settings, with ASC's names, values and defaults (ASC guide §2).

Stored per store in the database (`bridge.storage.models.StoreOrderSettings`); this dataclass is what the
importer reads, so the import rules never depend on the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CustomerCreation(StrEnum):
    GUEST = "guest"  # "No Customer Creation (guest)"
    NEW_ACCOUNT = "new_account"  # "Build New Customer Account"
    PREDEFINED = "predefined"  # every order goes to one existing customer (ours, not ASC's)


class OrderNumberSource(StrEnum):
    MAGENTO = "magento"  # "Build Using Magento Order Number"
    AMAZON = "amazon"  # "Build Using Amazon Order Number"


class StockHandling(StrEnum):
    """What happens to Commerce stock when an MFN order is created over REST (no MSI reservation is made)."""

    NONE = "none"  # leave stock alone (Magento's own behaviour for REST-created orders)
    DECREMENT_SOURCE = "decrement_source"  # subtract the ordered qty from the source item, once per order


class OrderStatusMode(StrEnum):
    DEFAULT = "default"  # "Default Order Status"
    CUSTOM = "custom"  # "Custom Order Status" -> custom_processing_status


class AmazonCollectedTax(StrEnum):
    """*Tax collected by Amazon*: tax Amazon itself withholds and remits (US marketplace facilitator, UK VOEC,
    EU IOSS) is not the merchant's tax, so by default the Commerce order does not carry it."""

    EXCLUDE = "exclude"  # no tax on those lines; grand total = Amazon's total minus that tax
    INCLUDE = "include"  # booked like the merchant's own tax (older behaviour)
class NoTrackingPolicy(StrEnum):
    """A Commerce shipment without a tracking number (confirmShipment requires one)."""

    HOLD = "hold"  # "Hold and warn": not sent; the order's history says why, sent once a track is added
    SEND = "send"  # "Send without tracking": the Commerce shipment number stands in for the tracking number


DEFAULT_SHIPPING_METHOD = "flatrate_flatrate"
DEFAULT_ADJUSTMENT_REASON = "CustomerReturn"
DEFAULT_COMMERCE_CANCEL_REASON = "GeneralAdjustment"


@dataclass(frozen=True)
class OrderSettings:
    import_enabled: bool = True  # "Import Amazon Orders": Enabled
    store_view_code: str = "default"  # "Import Amazon Orders Into Magento Store"
    customer_creation: CustomerCreation = CustomerCreation.GUEST
    predefined_customer_email: str | None = None
    order_number_source: OrderNumberSource = OrderNumberSource.MAGENTO
    order_number_prefix: str = ""  # only with the Amazon order number source, e.g. "AMZ-"
    reserve_pending: bool = True  # "Pending Orders": Reserve Quantity (only meaningful without MSI)
    stock_handling: StockHandling = StockHandling.NONE
    order_status_mode: OrderStatusMode = OrderStatusMode.DEFAULT
    custom_processing_status: str | None = None  # "Processing Order Status"
    payment_method: str = "purchaseorder"  # Magento payment code; the PO number carries the Amazon order id
    # Amazon ship service level (e.g. "Standard", "Expedited", "*") -> Magento carrier_method code
    shipping_methods: dict[str, str] = field(default_factory=lambda: {"*": DEFAULT_SHIPPING_METHOD})
    import_fba: bool = True  # FBA (AFN) orders become Commerce orders once Shipped, completed, no stock
    create_invoice: bool = True  # ASC always invoices offline after creating the order
    import_from: datetime | None = None  # orders purchased before this are listed, never created
    amazon_collected_tax: AmazonCollectedTax = AmazonCollectedTax.EXCLUDE  # "Tax collected by Amazon"
    # Commerce -> Amazon
    no_tracking_policy: NoTrackingPolicy = NoTrackingPolicy.HOLD
    adjustment_reason: str = DEFAULT_ADJUSTMENT_REASON  # AdjustmentReason sent with credit memos
    commerce_cancel_reason: str = DEFAULT_COMMERCE_CANCEL_REASON  # CancelReason for orders canceled in Commerce

    def shipping_method_for(self, service_level: str | None) -> str:
        methods = self.shipping_methods or {}
        if service_level:
            for key, code in methods.items():
                if key.lower() == service_level.lower():
                    return code
        return methods.get("*", DEFAULT_SHIPPING_METHOD)

    @property
    def processing_status(self) -> str:
        if self.order_status_mode is OrderStatusMode.CUSTOM and self.custom_processing_status:
            return self.custom_processing_status
        return "processing"
