"""What the merchant did in Commerce, turned into outbox actions for Amazon.

One poll per store and sync reads, for *all* of the store's Amazon orders at once:

* `GET /V1/shipments` created since the last mark (minus an overlap)  -> `confirmShipment` actions;
* `GET /V1/creditmemos` created since the last mark (minus an overlap) -> refund actions
  (`POST_PAYMENT_ADJUSTMENT_DATA`), or cancels of those items while the Amazon order is still Unshipped;
* `GET /V1/orders` canceled and updated since the last mark            -> cancel actions (store's reason);
* one `GET /V1/orders` with the `entity_id`s concerned, to map Magento order items to Amazon's
  (`ext_order_item_id`, written by the importer) - only when a document was found.

Documents of orders the bridge did not create are ignored. Every action is unique per
(order, kind, Commerce document), so reading a document twice (the overlap) queues nothing twice.
Quantities are capped per Amazon order item by what was ordered minus what Amazon or earlier shipments
shipped, and refund amounts by what Amazon charged minus earlier refunds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.carriers import amazon_carrier
from bridge.domain import AmazonStatus
from bridge.lifecycle import FROM_AMAZON_MARK
from bridge.magento.search import SearchCriteria, chunked
from bridge.order_settings import NoTrackingPolicy, OrderSettings
from bridge.outbox import REASON_LABELS
from bridge.storage.db import SessionFactory
from bridge.storage.models import (
    ActionState,
    AmazonOrderItemRecord,
    AmazonOrderRecord,
    CommerceCursor,
    OutboundAction,
    Store,
    utcnow,
)
from bridge.storage.orders import add_event
from bridge.storage.stores import order_settings

if TYPE_CHECKING:
    from bridge.magento.client import MagentoClient

Document = dict[str, Any]  # one shipment, credit memo or order as Magento's REST API returns it

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)
MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"
CENT = Decimal("0.01")
DEAD_STATES = (ActionState.REJECTED.value, ActionState.GIVING_UP.value)
ORDER_ITEM_FIELDS = "items[entity_id,items[item_id,ext_order_item_id,description,parent_item_id]],total_count"


@dataclass
class CommercePollResult:
    shipments: int = 0  # Commerce documents of the store's Amazon orders seen in this poll
    creditmemos: int = 0
    cancels: int = 0
    queued: int = 0  # actions queued for Amazon
    held: int = 0  # shipments held (no tracking number)


def _magento_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime(MAGENTO_TIME)


def _parse_magento_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.strptime(value[:19].replace("T", " "), MAGENTO_TIME)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC)


def _since(criteria_field: str, mark: datetime) -> SearchCriteria:
    return SearchCriteria().where(criteria_field, _magento_time(mark - OVERLAP), "gteq").sort(criteria_field, "ASC")


def _latest(documents: Iterable[Document], key: str, current: datetime | None) -> datetime | None:
    times = [t for t in (_parse_magento_time(d.get(key)) for d in documents) if t is not None]
    if current is not None:
        times.append(current)
    return max(times) if times else current


def poll_commerce(session_factory: SessionFactory, store_id: int, magento: MagentoClient) -> CommercePollResult:
    """Read the store's new Commerce shipments, credit memos and cancels; queue what Amazon must hear."""
    result = CommercePollResult()
    with session_factory() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise ValueError(f"no store with id {store_id}")
        settings = order_settings(store.order_settings)
        cursor = session.get(CommerceCursor, store_id)
        start = store.connected_at or utcnow()
        ships_after = (cursor.shipments_after if cursor else None) or start
        memos_after = (cursor.creditmemos_after if cursor else None) or start
        orders_after = (cursor.orders_after if cursor else None) or start
        held_ids = [int((a.payload or {}).get("shipment_id", 0)) for a in session.scalars(
            select(OutboundAction).join(AmazonOrderRecord, OutboundAction.order_id == AmazonOrderRecord.id)
            .where(AmazonOrderRecord.store_id == store_id, OutboundAction.kind == "shipment",
                   OutboundAction.state == ActionState.HELD.value))]

    shipments = list(magento.search_all("V1/shipments", _since("created_at", ships_after)))
    memos = list(magento.search_all("V1/creditmemos", _since("created_at", memos_after)))
    canceled = list(magento.search_all(
        "V1/orders", _since("updated_at", orders_after).where("state", "canceled"),
        fields="items[entity_id,state,status,updated_at,ext_order_id],total_count",
    ))
    known = {s.get("entity_id") for s in shipments}
    for batch in chunked([i for i in held_ids if i and i not in known], 100):  # a track may have been added
        shipments += list(magento.search_all("V1/shipments", SearchCriteria().where("entity_id", list(batch), "in")))

    with session_factory() as session:
        order_ids = {d.get("order_id") for d in shipments + memos} | {o.get("entity_id") for o in canceled}
        records = _records(session, store_id, order_ids)
        shipments = [s for s in shipments if s.get("order_id") in records]
        memos = [m for m in memos if m.get("order_id") in records]
        canceled = [o for o in canceled if o.get("entity_id") in records]
        item_map = _amazon_item_ids(magento, {d["order_id"] for d in shipments + memos})
        result.shipments, result.creditmemos, result.cancels = len(shipments), len(memos), len(canceled)
        for shipment in sorted(shipments, key=lambda s: s.get("entity_id") or 0):
            _on_shipment(session, records[shipment["order_id"]], shipment, item_map, settings, result)
        for memo in sorted(memos, key=lambda m: m.get("entity_id") or 0):
            _on_creditmemo(session, records[memo["order_id"]], memo, item_map, settings, result)
        for order in canceled:
            _on_commerce_cancel(session, records[order["entity_id"]], settings, result)
        cursor = session.get(CommerceCursor, store_id)
        if cursor is None:
            cursor = CommerceCursor(store_id=store_id)
            session.add(cursor)
        cursor.shipments_after = _latest(shipments, "created_at", cursor.shipments_after)
        cursor.creditmemos_after = _latest(memos, "created_at", cursor.creditmemos_after)
        cursor.orders_after = _latest(canceled, "updated_at", cursor.orders_after)
        session.commit()
    if result.queued or result.held:
        log.info("store %s: %d action(s) queued for Amazon from Commerce, %d shipment(s) held",
                 store_id, result.queued, result.held)
    return result


def _records(session: Session, store_id: int, magento_ids: set[Any]) -> dict[int, AmazonOrderRecord]:
    ids = sorted(i for i in magento_ids if isinstance(i, int))
    records: dict[int, AmazonOrderRecord] = {}
    for batch in chunked(ids, 500):
        for record in session.scalars(select(AmazonOrderRecord).where(
                AmazonOrderRecord.store_id == store_id, AmazonOrderRecord.magento_entity_id.in_(list(batch)))):
            if record.magento_entity_id is not None:  # always, by the query
                records[record.magento_entity_id] = record
    return records


def _amazon_item_ids(magento: MagentoClient, order_ids: set[int]) -> dict[int, str]:
    """Magento order item id -> Amazon OrderItemId, for all the given orders in one search per 100."""
    out: dict[int, str] = {}
    for batch in chunked(sorted(order_ids), 100):
        criteria = SearchCriteria().where("entity_id", list(batch), "in")
        for order in magento.search_all("V1/orders", criteria.page(100), fields=ORDER_ITEM_FIELDS):
            for item in order.get("items") or []:
                amazon_id = item.get("ext_order_item_id") or item.get("description")
                # the importer writes Amazon's id on the ordered line; a child line carries no id of its own
                if item.get("item_id") is not None and amazon_id and not item.get("parent_item_id"):
                    out[int(item["item_id"])] = str(amazon_id)
    return out


def _existing(session: Session, record: AmazonOrderRecord, kind: str | None = None) -> list[OutboundAction]:
    query = select(OutboundAction).where(OutboundAction.order_id == record.id)
    if kind:
        query = query.where(OutboundAction.kind == kind)
    return list(session.scalars(query.order_by(OutboundAction.id)))


def _lines(document: Document, item_map: dict[int, str]) -> dict[str, int]:
    """Amazon OrderItemId -> quantity for a shipment or credit memo."""
    lines: dict[str, int] = {}
    for item in document.get("items") or []:
        try:
            qty = int(Decimal(str(item.get("qty") or 0)))
        except ArithmeticError:
            continue
        amazon_id = item_map.get(int(item.get("order_item_id") or 0))
        if qty > 0 and amazon_id:
            lines[amazon_id] = lines.get(amazon_id, 0) + qty
    return lines


# ------------------------------------------------------------------------------------------ shipments


def _on_shipment(session: Session, record: AmazonOrderRecord, shipment: Document, item_map: dict[int, str],
                 settings: OrderSettings, result: CommercePollResult) -> None:
    key = f"shipment-{shipment['entity_id']}"
    actions = _existing(session, record, "shipment")
    current = next((a for a in actions if a.dedupe_key == key), None)
    if current is not None and current.state != ActionState.HELD.value:
        return  # already queued or sent
    if record.fulfillment_channel == "AFN":
        return  # Amazon ships FBA orders itself
    if any(FROM_AMAZON_MARK in str(c.get("comment") or "") for c in shipment.get("comments") or []):
        return  # made by bridge.lifecycle from Amazon's own packages: Amazon knows them already
    number = shipment.get("increment_id") or shipment["entity_id"]
    track = next((t for t in reversed(shipment.get("tracks") or []) if str(t.get("track_number") or "").strip()),
                 None)
    if track is None and settings.no_tracking_policy is NoTrackingPolicy.HOLD:
        if current is None:
            session.add(OutboundAction(
                order=record, kind="shipment", dedupe_key=key, requested_by="commerce", state=ActionState.HELD.value,
                payload={"shipment_id": shipment["entity_id"]},
                result="Held: the Commerce shipment has no tracking number.",
            ))
            add_event(record, "shipment_held",
                      f"Commerce shipment {number} has no tracking number, so it was not confirmed on Amazon "
                      "(store setting: hold and warn). Add a tracking number in Commerce, or confirm the "
                      "shipment in Seller Central.")
            result.held += 1
        return

    shipped_before: dict[str, int] = {}
    for other in actions:
        if other is current or other.state in DEAD_STATES or other.state == ActionState.HELD.value:
            continue
        for item_id, qty in (other.payload or {}).get("items") or []:
            shipped_before[item_id] = shipped_before.get(item_id, 0) + int(qty)
    lines: list[list[str | int]] = []  # [[Amazon OrderItemId, quantity]], as stored in the JSON payload
    for item_id, qty in _lines(shipment, item_map).items():
        item = _item(record, item_id)
        if item is None:
            continue
        already = max(shipped_before.get(item_id, 0), int(item.qty_shipped or 0))
        qty = min(qty, int(item.qty_ordered) - already)
        if qty > 0:
            lines.append([item_id, qty])
    if not lines:
        message = (f"Commerce shipment {number}: nothing left to confirm on Amazon (every item is shipped there "
                   "already).")
        if current is not None:
            current.state = ActionState.GIVING_UP.value
            current.result = message
        add_event(record, "shipment_skipped", message)
        return
    if track is not None:
        carrier = amazon_carrier(track.get("carrier_code"), track.get("title"))
        tracking = str(track["track_number"]).strip()
    else:
        carrier = amazon_carrier(None, None)
        tracking = str(number)
    ship_date = _parse_magento_time(shipment.get("created_at")) or utcnow()
    payload = {
        "shipment_id": shipment["entity_id"], "package_reference_id": str(shipment["entity_id"]),
        "carrier_code": carrier.code, "carrier_name": carrier.name, "tracking_number": tracking,
        "ship_date": ship_date.isoformat(), "items": lines, "shipping_method": record.ship_service_level,
    }
    if current is None:
        current = OutboundAction(order=record, kind="shipment", dedupe_key=key, requested_by="commerce")
        session.add(current)
    current.state = ActionState.QUEUED.value
    current.payload = payload
    current.result = None
    what = ", ".join(f"{qty} × {item_id}" for item_id, qty in lines)
    add_event(record, "shipment_queued",
              f"Commerce shipment {number} ({carrier.code}{' ' + carrier.name if carrier.name else ''}, tracking "
              f"{tracking}{'' if track else ' - no tracking number, sent with the shipment number'}: {what}) "
              "queued to be confirmed on Amazon.")
    session.flush()
    result.queued += 1


def _item(record: AmazonOrderRecord, order_item_id: str) -> AmazonOrderItemRecord | None:
    return next((i for i in record.items if i.order_item_id == order_item_id), None)


# ---------------------------------------------------------------------------------------- credit memos


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _on_creditmemo(session: Session, record: AmazonOrderRecord, memo: Document, item_map: dict[int, str],
                   settings: OrderSettings, result: CommercePollResult) -> None:
    key = f"creditmemo-{memo['entity_id']}"
    actions = _existing(session, record)
    if any(a.dedupe_key == key for a in actions):
        return
    number = memo.get("increment_id") or memo["entity_id"]
    lines = _lines(memo, item_map)
    status = record.status
    if status == AmazonStatus.UNSHIPPED.value:
        _cancel_items(session, record, memo, key, number, lines, settings, actions, result)
        return
    if status == AmazonStatus.CANCELED.value:
        return  # Amazon canceled it and refunded the buyer itself (this memo mirrors that in Commerce)
    if status not in (AmazonStatus.SHIPPED.value, AmazonStatus.PARTIALLY_SHIPPED.value, "Completed"):
        add_event(record, "refund_skipped", f"Commerce credit memo {number} was not sent to Amazon: the Amazon "
                                            f"order is {status}.")
        return
    refunded: dict[str, dict[str, Decimal]] = {}
    for other in actions:
        if other.kind != "refund" or other.state in DEAD_STATES:
            continue
        for line in (other.payload or {}).get("items") or []:
            done = refunded.setdefault(line["order_item_id"], {})
            for name, value in line["components"].items():
                done[name] = done.get(name, Decimal(0)) + Decimal(str(value))
    shipping_total = Decimal(str(memo.get("shipping_amount") or 0))
    shipping_base = [i for i in record.items if i.order_item_id in lines] or list(record.items)
    shipping_charged = sum((i.shipping_price for i in shipping_base), Decimal(0))
    items_out: list[dict[str, Any]] = []
    for item in record.items:
        qty = lines.get(item.order_item_id, 0)
        share = Decimal(qty) / Decimal(item.qty_ordered) if item.qty_ordered else Decimal(0)
        wanted = {
            "Principal": item.item_price * share,
            "Tax": item.item_tax * share,
            "Shipping": (shipping_total * item.shipping_price / shipping_charged
                         if shipping_charged and item in shipping_base else Decimal(0)),
        }
        charged = {"Principal": item.item_price, "Tax": item.item_tax, "Shipping": item.shipping_price}
        done = refunded.get(item.order_item_id, {})
        components: dict[str, str] = {}
        for name, value in wanted.items():
            left = max(charged[name] - done.get(name, Decimal(0)), Decimal(0))
            amount = _cents(min(value, left))
            if amount > 0:
                components[name] = str(amount)
        if components:
            items_out.append({"order_item_id": item.order_item_id, "quantity": qty, "components": components,
                              "merchant_adjustment_item_id": f"{number}-{item.order_item_id}"[:64]})
    if not items_out:
        add_event(record, "refund_skipped", f"Commerce credit memo {number}: nothing left to refund on Amazon "
                                            "(Amazon's charges for these items are refunded already).")
        return
    session.add(OutboundAction(
        order=record, kind="refund", dedupe_key=key, requested_by="commerce", reason=settings.adjustment_reason,
        payload={"creditmemo_id": memo["entity_id"], "currency": record.currency, "items": items_out},
    ))
    total = sum((Decimal(v) for line in items_out for v in line["components"].values()), Decimal(0))
    add_event(record, "refund_queued", f"Commerce credit memo {number}: refund of {total} {record.currency} "
                                       f"({settings.adjustment_reason}) queued to be sent to Amazon.")
    session.flush()
    result.queued += 1


def _cancel_items(session: Session, record: AmazonOrderRecord, memo: Document, key: str, number: str,
                  lines: dict[str, int], settings: OrderSettings, actions: list[OutboundAction],
                  result: CommercePollResult) -> None:
    """A credit memo on an Unshipped order: cancel those items on Amazon instead of refunding them."""
    if any(a.kind == "cancel" and a.dedupe_key == "cancel" and a.state not in DEAD_STATES for a in actions):
        return  # the whole order is being canceled already
    if not lines:
        add_event(record, "cancel_skipped", f"Commerce credit memo {number} has no items of the Amazon order; "
                                            "nothing was canceled on Amazon.")
        return
    whole = all(lines.get(i.order_item_id, 0) >= i.qty_ordered for i in record.items)
    if not whole:
        # The acknowledgement feed cancels whole orders only, and Amazon refunds only shipped orders: a part
        # of an Unshipped order can't be given back on Amazon. Say so instead of canceling too much.
        add_event(record, "cancel_skipped",
                  f"Commerce credit memo {number} refunds part of an Unshipped order. Amazon cancels whole orders "
                  "only, so nothing was sent: ship the rest and the refund follows, or cancel the whole order.")
        return
    reason = settings.commerce_cancel_reason
    session.add(OutboundAction(
        order=record, kind="cancel", dedupe_key="cancel", requested_by="commerce", reason=reason,
        payload={"creditmemo_id": memo["entity_id"], "order_item_ids": sorted(lines)},
    ))
    add_event(record, "cancel_queued",
              f"Commerce credit memo {number} refunds the whole Unshipped order: cancel on Amazon queued "
              f"(reason {REASON_LABELS.get(reason, reason)}).")
    session.flush()
    result.queued += 1


# ------------------------------------------------------------------------------------ Commerce cancels


def _on_commerce_cancel(session: Session, record: AmazonOrderRecord, settings: OrderSettings,
                        result: CommercePollResult) -> None:
    if any(a.kind == "cancel" and a.dedupe_key == "cancel" for a in _existing(session, record, "cancel")):
        return
    if record.status == AmazonStatus.CANCELED.value:
        return  # canceled on Amazon first (the Commerce cancel followed it)
    if record.status != AmazonStatus.UNSHIPPED.value:
        add_event(record, "cancel_skipped", f"The Commerce order was canceled, but the Amazon order is "
                                            f"{record.status} and cannot be canceled on Amazon; use Seller Central.")
        return
    reason = settings.commerce_cancel_reason
    session.add(OutboundAction(
        order=record, kind="cancel", dedupe_key="cancel", requested_by="commerce", reason=reason,
        payload={"order_item_ids": [i.order_item_id for i in record.items]},
    ))
    add_event(record, "cancel_queued", f"The Commerce order was canceled: cancel on Amazon queued (reason "
                                       f"{REASON_LABELS.get(reason, reason)}).")
    session.flush()
    result.queued += 1
