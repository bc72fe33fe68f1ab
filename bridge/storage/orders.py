"""Storing Amazon order snapshots and their history.

Upserts are keyed on (store, Amazon order id), so reading the same page twice (overlap window, a retried
job, a resumed pass) changes nothing; an older snapshot never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.amazon.mapping import delivery_window
from bridge.domain import AmazonOrder, AmazonStatus, ImportState
from bridge.import_rules import decide
from bridge.order_settings import OrderSettings
from bridge.storage.models import (
    AmazonOrderItemRecord,
    AmazonOrderRecord,
    OrderEvent,
    utcnow,
)

COMPLETED = "Completed"  # ASC's status for a Shipped order whose Commerce order is complete (bridge.lifecycle)


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    queued: list[str] = field(default_factory=list)


def add_event(record: AmazonOrderRecord, kind: str, message: str, actor: str = "sync") -> OrderEvent:
    """Add to the order's history; the same event again (same kind and message as the latest row) only
    counts up that row and moves its `last_at`, so an order failing the same way every sync keeps one row."""
    now = utcnow()
    latest = record.events[-1] if record.events else None
    if latest is not None and latest.kind == kind and latest.message == message:
        latest.count = (latest.count or 1) + 1
        latest.last_at = now
        latest.actor = actor
        return latest
    event = OrderEvent(kind=kind, message=message, actor=actor, at=now, count=1)
    record.events.append(event)
    return event


def may_exist_in_commerce(record: AmazonOrderRecord) -> bool:
    """A Commerce order may exist for this Amazon order: linked already, or a create's outcome is unknown."""
    return record.magento_entity_id is not None or record.create_in_doubt_until is not None


def _apply_snapshot(record: AmazonOrderRecord, order: AmazonOrder, raw: dict[str, Any]) -> None:
    record.marketplace_id = order.marketplace_id
    if not (record.status == COMPLETED and order.status is AmazonStatus.SHIPPED):
        record.status = order.status.value  # ASC's Completed stays while Amazon still says Shipped
    record.fulfillment_channel = order.fulfillment_channel.value
    record.purchase_date = order.purchase_date
    record.last_updated = order.last_updated
    record.currency = order.currency
    record.order_total = order.order_total
    record.buyer_name = order.buyer_name
    record.ship_service_level = order.ship_service_level
    record.items_shipped = order.items_shipped
    record.items_unshipped = order.items_unshipped
    record.is_prime = order.is_prime
    record.is_business = order.is_business
    record.latest_ship_date = order.latest_ship_date
    record.latest_delivery_date = delivery_window(raw)[1]
    record.is_premium = order.is_premium
    record.snapshot = raw
    existing = {item.order_item_id: item for item in record.items}
    for item in order.items:
        row = existing.get(item.order_item_id)
        if row is None:
            row = AmazonOrderItemRecord(order_item_id=item.order_item_id)
            record.items.append(row)
        row.seller_sku = item.seller_sku
        row.asin = item.asin
        row.title = item.title
        row.condition = item.condition
        row.qty_ordered = item.quantity_ordered
        row.qty_shipped = item.quantity_shipped
        row.item_price = item.item_price
        row.item_tax = item.item_tax
        row.shipping_price = item.shipping_price
        row.shipping_tax = item.shipping_tax
        row.promotion_discount = item.promotion_discount
    _note_cancel_request(record, order)


def _note_cancel_request(record: AmazonOrderRecord, order: AmazonOrder) -> None:
    """Keep the buyer's cancellation request (v2026 CANCELLATION data) on the record, for ASC's notice and badge."""
    requested = [item for item in order.items if item.buyer_requested_cancel]
    asked = bool(requested)
    if asked and not record.buyer_cancel_requested:
        reason = next((item.cancel_reason for item in requested if item.cancel_reason), None)
        record.buyer_cancel_reason = (reason or "")[:255] or None
        add_event(record, "cancel_request",
                  "The buyer asked to cancel this order" + (f": {reason}." if reason else "."))
    record.buyer_cancel_requested = asked


def upsert_orders(
    session: Session,
    store_id: int,
    orders: Sequence[tuple[AmazonOrder, dict[str, Any]]],
    settings: OrderSettings,
) -> UpsertResult:
    """Store a page of Amazon orders and decide each one's import state; one query to load them all."""
    result = UpsertResult()
    ids = [order.amazon_order_id for order, _ in orders]
    existing = {
        record.amazon_order_id: record
        for record in session.scalars(
            select(AmazonOrderRecord).where(
                AmazonOrderRecord.store_id == store_id, AmazonOrderRecord.amazon_order_id.in_(ids)
            )
        )
    }
    for order, raw in orders:
        record = existing.get(order.amazon_order_id)
        if record is None:
            record = AmazonOrderRecord(store_id=store_id, amazon_order_id=order.amazon_order_id, items=[], events=[])
            _apply_snapshot(record, order, raw)
            session.add(record)
            existing[order.amazon_order_id] = record
            add_event(record, "received", f"Received from Amazon with status {order.status.value}.")
            result.new += 1
            previous_state = None
        else:
            if order.last_updated < record.last_updated:
                result.unchanged += 1  # an older copy (overlap window); keep the newer snapshot
                continue
            if order.last_updated == record.last_updated and record.snapshot == raw:
                result.unchanged += 1
                previous_state = ImportState(record.import_state)
                _decide(record, order, settings, previous_state, result)
                continue
            if record.status != order.status.value and not (
                record.status == COMPLETED and order.status is AmazonStatus.SHIPPED
            ):
                add_event(record, "status_changed", f"Status updated from {record.status} to {order.status.value}.")
            _apply_snapshot(record, order, raw)
            result.updated += 1
            previous_state = ImportState(record.import_state)
        _decide(record, order, settings, previous_state, result)
    session.flush()
    return result


def _decide(
    record: AmazonOrderRecord,
    order: AmazonOrder,
    settings: OrderSettings,
    previous: ImportState | None,
    result: UpsertResult,
) -> None:
    decision = decide(order, settings, previous, may_exist=may_exist_in_commerce(record))
    if decision.state is not previous:
        record.import_state = decision.state.value
        if decision.state is ImportState.SKIPPED and previous is ImportState.ERROR:
            add_event(record, "skipped", decision.note)
    if decision.note and decision.state is not ImportState.ERROR:
        record.notes = decision.note
    if decision.state is ImportState.QUEUED:
        result.queued.append(record.amazon_order_id)


def due_for_import(session: Session, store_id: int, now: datetime, limit: int = 1000) -> list[str]:
    """Amazon order ids that should become Commerce orders now, oldest first: queued ones, and errors whose
    back-off has passed. Ids only: the records (with their snapshots) are read by each import, one at a time."""
    return list(
        session.scalars(
            select(AmazonOrderRecord.amazon_order_id)
            .where(
                AmazonOrderRecord.store_id == store_id,
                AmazonOrderRecord.import_state.in_([ImportState.QUEUED.value, ImportState.ERROR.value]),
                (AmazonOrderRecord.next_attempt_at.is_(None)) | (AmazonOrderRecord.next_attempt_at <= now),
            )
            .order_by(AmazonOrderRecord.purchase_date, AmazonOrderRecord.id)
            .limit(limit)
        )
    )


def by_ids(session: Session, store_id: int, amazon_order_ids: Iterable[str]) -> dict[str, AmazonOrderRecord]:
    ids = list(amazon_order_ids)
    if not ids:
        return {}
    return {
        r.amazon_order_id: r
        for r in session.scalars(
            select(AmazonOrderRecord).where(
                AmazonOrderRecord.store_id == store_id, AmazonOrderRecord.amazon_order_id.in_(ids)
            )
        )
    }


def record_unreadable(session: Session, store_id: int, raw: dict[str, Any], problem: str) -> AmazonOrderRecord | None:
    """Keep an Amazon order we could not read in the error state, so it shows and nothing is lost.

    The raw JSON is stored as the snapshot; a later, readable snapshot from Amazon replaces it through the
    normal upsert. Without even an order id there is nothing to key it on: the sync run records it.
    """
    order_id = raw.get("orderId") if isinstance(raw, dict) else None
    if not order_id or not isinstance(order_id, str):
        return None
    message = f"Cannot read this order from Amazon: {problem}"
    record = session.scalar(
        select(AmazonOrderRecord).where(
            AmazonOrderRecord.store_id == store_id, AmazonOrderRecord.amazon_order_id == order_id
        )
    )
    if record is None:
        now = utcnow()
        record = AmazonOrderRecord(
            store_id=store_id, amazon_order_id=order_id, status="Error", fulfillment_channel="MFN",
            purchase_date=now, last_updated=now, currency="", order_total=0, items=[], events=[],
        )
        session.add(record)
    elif record.import_state == ImportState.IMPORTED.value:
        add_event(record, "unreadable", message)
        return record
    record.snapshot = raw
    record.import_state = ImportState.ERROR.value
    record.notes = message
    record.last_error = message
    add_event(record, "unreadable", message)
    session.flush()
    return record
