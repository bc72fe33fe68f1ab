"""Stores and their order settings: creation, and conversion of the settings row into `OrderSettings`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.errors import BridgeError
from bridge.order_settings import (
    DEFAULT_ADJUSTMENT_REASON,
    DEFAULT_COMMERCE_CANCEL_REASON,
    AmazonCollectedTax,
    CustomerCreation,
    NoTrackingPolicy,
    OrderNumberSource,
    OrderSettings,
    OrderStatusMode,
    StockHandling,
)
from bridge.storage.models import SkuMapping, Store, StoreOrderSettings, SyncCursor, utcnow

E = TypeVar("E", bound=Enum)


class StoreError(BridgeError):
    """A store can't be created or found; the message says why."""


def create_store(
    session: Session,
    *,
    code: str,
    name: str,
    seller_id: str,
    marketplace_id: str,
    refresh_token_env: str,
    region: str = "NA",
    store_view_code: str = "default",
    import_from: datetime | None = None,
) -> Store:
    """A new store with ASC's default order settings; orders placed before `import_from` (default: now)
    are listed but never created, as ASC does for orders that existed before the store was connected."""
    if session.scalar(select(Store).where(Store.code == code)) is not None:
        raise StoreError(f"a store with code {code!r} exists already")
    now = utcnow()
    store = Store(
        code=code,
        name=name,
        seller_id=seller_id,
        marketplace_id=marketplace_id,
        refresh_token_env=refresh_token_env,
        region=region,
        connected_at=now,
    )
    store.order_settings = StoreOrderSettings(
        store_view_code=store_view_code,
        import_from=import_from or now,
        shipping_methods={"*": "flatrate_flatrate"},
    )
    store.cursor = SyncCursor(last_updated_after=None)
    session.add(store)
    session.flush()
    return store


def get_store(session: Session, code_or_id: str | int) -> Store:
    if isinstance(code_or_id, int) or (isinstance(code_or_id, str) and code_or_id.isdigit()):
        store = session.get(Store, int(code_or_id))
    else:
        store = session.scalar(select(Store).where(Store.code == code_or_id))
    if store is None:
        raise StoreError(f"no store {code_or_id!r} (see `amazon-bridge stores list`)")
    return store


def order_settings(row: StoreOrderSettings) -> OrderSettings:
    """The importer's view of a settings row; unknown stored values fall back to ASC's defaults."""

    def enum(cls: type[E], value: str | None, default: E) -> E:
        try:
            return cls(value)
        except ValueError:
            return default

    return OrderSettings(
        import_enabled=bool(row.import_enabled),
        store_view_code=row.store_view_code or "default",
        customer_creation=enum(CustomerCreation, row.customer_creation, CustomerCreation.GUEST),
        predefined_customer_email=row.predefined_customer_email,
        order_number_source=enum(OrderNumberSource, row.order_number_source, OrderNumberSource.MAGENTO),
        order_number_prefix=row.order_number_prefix or "",
        reserve_pending=bool(row.reserve_pending),
        stock_handling=enum(StockHandling, row.stock_handling, StockHandling.NONE),
        order_status_mode=enum(OrderStatusMode, row.order_status_mode, OrderStatusMode.DEFAULT),
        custom_processing_status=row.custom_processing_status,
        payment_method=row.payment_method or "purchaseorder",
        shipping_methods=dict(row.shipping_methods or {"*": "flatrate_flatrate"}),
        import_fba=bool(row.import_fba),
        create_invoice=bool(row.create_invoice),
        import_from=row.import_from,
        amazon_collected_tax=enum(AmazonCollectedTax, row.amazon_collected_tax, AmazonCollectedTax.EXCLUDE),
        no_tracking_policy=enum(NoTrackingPolicy, row.no_tracking_policy, NoTrackingPolicy.HOLD),
        adjustment_reason=row.adjustment_reason or DEFAULT_ADJUSTMENT_REASON,
        commerce_cancel_reason=row.commerce_cancel_reason or DEFAULT_COMMERCE_CANCEL_REASON,
    )


def sku_mapper(session: Session, store_id: int, seller_skus: Iterable[str] | None = None
               ) -> Callable[[str], str]:
    """Seller SKU -> catalog SKU for one store: the mapping when there is one, else the same SKU (ASC).

    Pass the SKUs at hand (an order's) to read only their mappings; a store may have thousands.
    """
    query = select(SkuMapping.seller_sku, SkuMapping.catalog_sku).where(SkuMapping.store_id == store_id)
    if seller_skus is not None:
        query = query.where(SkuMapping.seller_sku.in_(sorted(set(seller_skus))))
    mapping = dict(session.execute(query).all())

    def catalog_sku(seller_sku: str) -> str:
        return mapping.get(seller_sku, seller_sku)

    return catalog_sku
