"""Stock for merchant-fulfilled orders when the store decrements source quantities (ASC's reservation).

Magento makes no reservation for orders created over REST. With *stock handling* = `decrement_source`:
- at creation, the ordered quantities leave the source (in `bridge.importer.pipeline`), once per order;
- with *Pending Orders* = Reserve Quantity, they leave already while Amazon still says Pending, so the
  storefront can't sell them twice (ASC's "Inventory reserved");
- a reserved order that Amazon cancels before it became a Commerce order gives its quantities back.

Each change is at most once: the order's `stock_applied` flag is committed before Magento is told, so a crash
can leave a reservation undone, never doubled. FBA orders never touch stock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.amazon.errors import AmazonDataError
from bridge.amazon.mapping import order_from_v2026
from bridge.domain import AmazonOrder, AmazonStatus
from bridge.magento.errors import MagentoError
from bridge.order_settings import StockHandling
from bridge.storage.models import AmazonOrderRecord, Store
from bridge.storage.orders import add_event
from bridge.storage.stores import order_settings, sku_mapper

log = logging.getLogger(__name__)


@dataclass
class StockResult:
    reserved: int = 0
    released: int = 0
    failed: int = 0


def quantities(order: AmazonOrder, catalog_sku: Callable[[str], str]) -> dict[str, int]:
    """Ordered quantity per catalog SKU."""
    out: dict[str, int] = {}
    for item in order.items:
        sku = catalog_sku(item.seller_sku)
        out[sku] = out.get(sku, 0) + item.quantity_ordered
    return out


def reconcile_reservations(session_factory: Callable[[], Session], store_id: int, magento) -> StockResult:
    """Reserve stock for Pending MFN orders and release it for reserved orders Amazon canceled."""
    result = StockResult()
    with session_factory() as session:
        store = session.get(Store, store_id)
        settings = order_settings(store.order_settings)
        if settings.stock_handling is not StockHandling.DECREMENT_SOURCE:
            return result
        base = select(AmazonOrderRecord).where(
            AmazonOrderRecord.store_id == store_id,
            AmazonOrderRecord.fulfillment_channel == "MFN",
            AmazonOrderRecord.magento_entity_id.is_(None),
        )
        to_reserve = []
        if settings.reserve_pending and settings.import_enabled:
            to_reserve = list(session.scalars(base.where(
                AmazonOrderRecord.status == AmazonStatus.PENDING.value,
                AmazonOrderRecord.stock_applied.is_(False),
            )))
        to_release = list(session.scalars(base.where(
            AmazonOrderRecord.status == AmazonStatus.CANCELED.value,
            AmazonOrderRecord.stock_applied.is_(True),
        )))
        for record, sign, kind in [(r, 1, "reserved") for r in to_reserve] + [(r, -1, "released") for r in to_release]:
            try:
                order = order_from_v2026(record.snapshot)
            except AmazonDataError:
                continue  # kept in error by the sync; nothing to count
            record.stock_applied = sign > 0
            session.commit()  # the flag first: at most once
            catalog_sku = sku_mapper(session, store_id, (item.seller_sku for item in order.items))
            try:
                for sku, qty in quantities(order, catalog_sku).items():
                    magento.decrement_source_quantity(sku, Decimal(sign * qty))
            except MagentoError as exc:
                add_event(record, "stock", f"Could not update stock for this order ({exc}); please check it.")
                result.failed += 1
            else:
                if kind == "reserved":
                    record.notes = "Inventory reserved"
                    add_event(record, "stock", "Inventory reserved: source quantities decremented (Pending order).")
                    result.reserved += 1
                else:
                    add_event(record, "stock", "Reservation released: the order was canceled before import.")
                    result.released += 1
            session.commit()
    return result


def return_stock(session: Session, record: AmazonOrderRecord, magento, *, why: str, actor: str = "worker") -> bool:
    """Give back the source quantities the bridge took for this order (an order Amazon canceled after import).

    Only when the bridge took them (`stock_applied`); the flag is cleared and committed before Magento is
    told, so a crash can leave stock not returned (said in the history), never returned twice. True when
    quantities went back.
    """
    if not record.stock_applied:
        return False
    try:
        order = order_from_v2026(record.snapshot)
    except AmazonDataError:
        return False
    record.stock_applied = False
    session.commit()  # the flag first: at most once
    catalog_sku = sku_mapper(session, record.store_id, (item.seller_sku for item in order.items))
    try:
        for sku, qty in quantities(order, catalog_sku).items():
            magento.decrement_source_quantity(sku, Decimal(-qty))
    except MagentoError as exc:
        add_event(record, "stock", f"Could not return stock for this order ({exc}); please check it.", actor)
        session.commit()
        return False
    add_event(record, "stock", f"Stock returned: source quantities incremented ({why}).", actor)
    session.commit()
    return True
