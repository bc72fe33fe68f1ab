"""Amazon -> Commerce after import: an order Amazon canceled or shipped is followed by its Commerce order.

Read from the snapshots the sync already stores (searchOrders with CANCELLATION, FULFILLMENT, PACKAGES), so
following Amazon costs no Amazon call. What is due is in the database, not in a queue: an order linked to a
Commerce order (`magento_entity_id`) whose Amazon status asks for more than `commerce_synced_status` says
was done. Every sync dispatches those (`dispatch_due`), one job per order, until each is done.

- **Canceled** -> the Commerce order is canceled when Magento allows it (something left to invoice); an
  invoiced one gets an offline credit memo for everything left. Stock the bridge took goes back. A comment
  on the Commerce order says why.
- **Shipped** (every item) -> MFN: a Commerce shipment of what Commerce has not shipped yet, carrying the
  packages' carriers and tracking numbers, then the order is complete. FBA: no shipment (the goods left
  Amazon's warehouse, not a Magento source: under MSI a shipment deducts source stock, see
  docs/architecture.md "Amazon -> Commerce"), the order is complete and a comment carries the tracking
  numbers. Our record then shows ASC's *Completed*.

Each step looks at the Commerce order first (state, shipped and refunded quantities, comments), so a job
run twice, or re-run after a crash mid-way, finishes the work and never makes a second shipment or credit
memo. A per-order lease (the importer's claim columns) keeps the importer and these jobs apart.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, String, and_, cast, literal, or_, select, update
from sqlalchemy.orm import Session

from bridge.amazon.errors import AmazonDataError
from bridge.amazon.mapping import order_from_v2026
from bridge.domain import AmazonOrder, AmazonStatus, ImportState, TrackingPackage
from bridge.errors import BridgeError, RetryLater, is_transient
from bridge.magento.errors import MagentoError, MagentoHTTPError, MagentoInvalidRequest, MagentoNotFound
from bridge.magento.models import Track
from bridge.stock import StockLocks, give_back_order_stock
from bridge.storage.db import SessionFactory, rows_matched
from bridge.storage.models import AmazonOrderRecord, Store, utcnow
from bridge.storage.orders import COMPLETED, add_event
from bridge.storage.stores import order_settings

if TYPE_CHECKING:
    from bridge.magento.client import MagentoClient

MagentoOrder = dict[str, Any]  # an order as Magento's REST API returns it

log = logging.getLogger(__name__)

SYNCED_CANCELED = "canceled"
SYNCED_REFUNDED = "refunded"
SYNCED_COMPLETE = "complete"
PARTIAL_PREFIX = "partial:"  # + Amazon's items shipped: a PartiallyShipped order's shipments are in Commerce
DONE_FOR_CANCELED = (SYNCED_CANCELED, SYNCED_REFUNDED)
REFUSED_RETRY = timedelta(hours=1)  # a change Magento refused is tried again hourly, not every sync
DISPATCH_LIMIT = 1000

CANCEL_MARK = "Canceled on Amazon"
SHIPPED_MARK = "Shipped on Amazon"
# On the shipments the bridge creates from Amazon's packages: the Commerce -> Amazon sync must not send them back.
FROM_AMAZON_MARK = "[amazon-bridge:from-amazon]"

# Amazon's carrier names -> Magento's carrier codes; anything else is a "custom" track titled with the name.
MAGENTO_CARRIERS = {"ups": "ups", "usps": "usps", "fedex": "fedex", "fedex ground": "fedex", "dhl": "dhl",
                    "dhl express": "dhl"}


class LifecycleDeferred(RetryLater):
    """Magento did not answer as expected (down, 5xx, timeout): the job runs again later."""


class CommerceRefusal(MagentoError):
    """Magento's business answer was no (cancel answered false and there is nothing to refund)."""


@dataclass(frozen=True)
class LifecycleOutcome:
    amazon_order_id: str
    action: str  # canceled | refunded | shipped | completed | nothing | busy | refused
    message: str


# -- what is due --------------------------------------------------------------------------------------------


def _due_condition(now: datetime) -> ColumnElement[bool]:
    o = AmazonOrderRecord
    canceled = and_(
        o.status == AmazonStatus.CANCELED.value,
        or_(o.commerce_synced_status.is_(None), o.commerce_synced_status.not_in(DONE_FOR_CANCELED)),
    )
    shipped = and_(
        o.status == AmazonStatus.SHIPPED.value,
        o.import_state == ImportState.IMPORTED.value,  # the import (invoice, stock) finishes first
        or_(o.commerce_synced_status.is_(None), o.commerce_synced_status != SYNCED_COMPLETE),
    )
    partially_shipped = and_(
        o.status == AmazonStatus.PARTIALLY_SHIPPED.value,
        o.import_state == ImportState.IMPORTED.value,
        o.fulfillment_channel == "MFN",
        or_(o.commerce_synced_status.is_(None),
            o.commerce_synced_status != literal(PARTIAL_PREFIX) + cast(o.items_shipped, String)),
    )
    not_refused_lately = or_(o.commerce_error.is_(None), o.commerce_checked_at.is_(None),
                             o.commerce_checked_at <= now - REFUSED_RETRY)
    return and_(o.magento_entity_id.is_not(None), or_(canceled, shipped, partially_shipped), not_refused_lately)


def partial_marker(items_shipped: int) -> str:
    """`commerce_synced_status` once Commerce has shipped what Amazon had shipped of a PartiallyShipped order."""
    return f"{PARTIAL_PREFIX}{items_shipped}"


def due_changes(session: Session, store_id: int, now: datetime, limit: int = DISPATCH_LIMIT) -> list[str]:
    """Amazon order ids of the store whose Commerce order still has to follow Amazon."""
    return list(session.scalars(
        select(AmazonOrderRecord.amazon_order_id)
        .where(AmazonOrderRecord.store_id == store_id, _due_condition(now))
        .order_by(AmazonOrderRecord.id)
        .limit(limit)
    ))


def dispatch_due(session_factory: SessionFactory, store_id: int, dispatch: Callable[[list[str]], None],
                 *, now: Callable[[], datetime] = utcnow) -> list[str]:
    """Called by every sync: show *Completed* again where a newer snapshot said Shipped, then dispatch (as jobs,
    or in-process) every order whose Commerce order has to change. Returns the dispatched ids."""
    with session_factory() as session:
        session.execute(
            update(AmazonOrderRecord)
            .where(AmazonOrderRecord.store_id == store_id,
                   AmazonOrderRecord.status == AmazonStatus.SHIPPED.value,
                   AmazonOrderRecord.commerce_synced_status == SYNCED_COMPLETE)
            .values(status=COMPLETED)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        due = due_changes(session, store_id, now())
    if due:
        dispatch(due)
    return due


# -- doing it -------------------------------------------------------------------------------------------------


class OrderLifecycle:
    """Makes one store's Commerce orders follow their Amazon orders, over Magento's REST API."""

    def __init__(self, session_factory: SessionFactory,
                 magento_factory: Callable[[str | None], MagentoClient], *,
                 lease: timedelta = timedelta(minutes=5), now: Callable[[], datetime] = utcnow,
                 stock_locks: StockLocks | None = None, max_request_seconds: float = 600.0) -> None:
        self.session_factory = session_factory
        self.magento_factory = magento_factory
        self.lease = lease
        self.now = now
        self.stock_locks = stock_locks or StockLocks()
        self.max_request_seconds = max_request_seconds

    def follow(self, store_id: int, amazon_order_id: str, *, actor: str = "worker") -> LifecycleOutcome:
        token = self._claim(store_id, amazon_order_id)
        if token is None:
            return LifecycleOutcome(amazon_order_id, "busy", "being imported or updated by another worker")
        try:
            return self._follow_claimed(store_id, amazon_order_id, actor)
        finally:
            self._release(store_id, amazon_order_id, token)

    # -- lease (the importer's claim columns, whatever the import state) ---------------------------

    def _claim(self, store_id: int, amazon_order_id: str) -> str | None:
        token = secrets.token_hex(16)
        now = self.now()
        with self.session_factory() as session:
            claimed = rows_matched(session,
                update(AmazonOrderRecord)
                .where(AmazonOrderRecord.store_id == store_id, AmazonOrderRecord.amazon_order_id == amazon_order_id,
                       or_(AmazonOrderRecord.claim_token.is_(None), AmazonOrderRecord.claim_expires_at < now))
                .values(claim_token=token, claim_expires_at=now + self.lease)
                .execution_options(synchronize_session=False)
            )
            session.commit()
        return token if claimed == 1 else None

    def _release(self, store_id: int, amazon_order_id: str, token: str) -> None:
        with self.session_factory() as session:
            session.execute(
                update(AmazonOrderRecord)
                .where(AmazonOrderRecord.store_id == store_id, AmazonOrderRecord.amazon_order_id == amazon_order_id,
                       AmazonOrderRecord.claim_token == token)
                .values(claim_token=None, claim_expires_at=None)
                .execution_options(synchronize_session=False)
            )
            session.commit()

    # -- the work ----------------------------------------------------------------------------------

    def _follow_claimed(self, store_id: int, amazon_order_id: str, actor: str) -> LifecycleOutcome:
        with self.session_factory() as session:
            record = session.scalars(select(AmazonOrderRecord).where(
                AmazonOrderRecord.store_id == store_id, AmazonOrderRecord.amazon_order_id == amazon_order_id
            )).one_or_none()
            if record is None or record.magento_entity_id is None:
                return LifecycleOutcome(amazon_order_id, "nothing", "no Commerce order linked")
            try:
                order = order_from_v2026(record.snapshot)
            except AmazonDataError as exc:
                return LifecycleOutcome(amazon_order_id, "nothing", f"snapshot unreadable: {exc}")
            store = session.get_one(Store, store_id)
            settings = order_settings(store.order_settings)
            magento = self.magento_factory(settings.store_view_code)
            record.commerce_checked_at = self.now()
            session.commit()
            try:
                if order.status is AmazonStatus.CANCELED and record.commerce_synced_status not in DONE_FOR_CANCELED:
                    outcome = self._cancel(session, record, order, magento, actor)
                elif (order.status is AmazonStatus.SHIPPED and record.import_state == ImportState.IMPORTED.value
                      and record.commerce_synced_status != SYNCED_COMPLETE):
                    outcome = self._complete(session, record, order, magento, actor)
                elif (order.status is AmazonStatus.PARTIALLY_SHIPPED and not order.is_fba
                      and record.import_state == ImportState.IMPORTED.value
                      and record.commerce_synced_status != partial_marker(order.items_shipped)):
                    outcome = self._partial(session, record, order, magento, actor)
                else:
                    return LifecycleOutcome(amazon_order_id, "nothing", "the Commerce order already follows Amazon")
            except BridgeError as exc:  # the one decision: retry later, or keep Magento's words for a person
                if not is_transient(exc):
                    return self._refused(session, record, exc, actor)
                add_event(record, "retry", f"Magento did not answer as expected ({exc}); will retry.", actor)
                session.commit()
                raise LifecycleDeferred(str(exc)) from exc
            record.commerce_error = None
            session.commit()
            return outcome

    def _refused(self, session: Session, record: AmazonOrderRecord, exc: BridgeError, actor: str) -> LifecycleOutcome:
        """Magento said no: keep its words on the record (one history row per distinct refusal, not per try)."""
        number = record.magento_increment_id or record.magento_entity_id
        refused = "Magento refused: " if isinstance(exc, MagentoHTTPError | CommerceRefusal) else ""
        message = f"Commerce order #{number} could not follow Amazon ({record.status}): {refused}{exc}"
        if record.commerce_error != message:
            add_event(record, "commerce_error", message, actor)
        record.commerce_error = message
        session.commit()
        log.info("order %s: %s", record.amazon_order_id, message)
        return LifecycleOutcome(record.amazon_order_id, "refused", message)

    # canceled on Amazon ------------------------------------------------------------------------

    def _cancel(self, session: Session, record: AmazonOrderRecord, order: AmazonOrder, magento: MagentoClient,
                actor: str) -> LifecycleOutcome:
        entity_id = _entity_id(record)
        first = magento.get_order(entity_id)
        current: MagentoOrder | None = first
        state = first.get("state")
        why = _cancel_reason_text(order)
        action = "nothing"
        if state == "canceled":
            record.commerce_synced_status = SYNCED_CANCELED
        elif state == "closed" or _money(first.get("total_refunded")) >= _money(first.get("total_paid")) > 0:
            record.commerce_synced_status = SYNCED_REFUNDED  # refunded already (by us before a crash, or a person)
        else:
            if _can_cancel(first) and magento.cancel(entity_id):
                action = "canceled"
                add_event(record, "commerce_canceled",
                          f"Commerce order #{record.magento_increment_id} canceled: {why}.", actor)
                session.commit()
                current = magento.get_order(entity_id) if _money(first.get("total_invoiced")) > 0 else None
            refundable = current is not None and _money(current.get("total_paid")) - _money(
                current.get("total_refunded")) > 0
            if action == "nothing" and not refundable:
                raise CommerceRefusal(f"Magento would not cancel it (state {state}) and nothing is left to refund")
            if refundable:
                memo_id = magento.refund_order(entity_id)  # offline, everything left (items and shipping)
                action = "refunded"
                add_event(record, "commerce_refunded",
                          f"Commerce order #{record.magento_increment_id} is invoiced, so Magento cannot cancel it; "
                          f"offline credit memo {memo_id} created for everything: {why}.", actor)
                session.commit()
            record.commerce_synced_status = SYNCED_REFUNDED if action == "refunded" else SYNCED_CANCELED
        session.commit()
        if not order.is_fba:
            give_back_order_stock(session, record, magento, locks=self.stock_locks,
                                  max_request_seconds=self.max_request_seconds,
                                  why="the order was canceled on Amazon after import", actor=actor)
        after = magento.get_order(entity_id) if action != "nothing" else first
        if not _has_comment(after, CANCEL_MARK):
            what = ("everything is refunded with an offline credit memo"
                    if record.commerce_synced_status == SYNCED_REFUNDED else "the Commerce order is canceled")
            magento.add_comment(entity_id, f"{CANCEL_MARK} ({why}); {what}. [amazon-bridge]",
                                status=after.get("status") or "canceled")
        record.notes = f"Canceled on Amazon; Commerce order #{record.magento_increment_id} " + (
            "credit-memoed" if record.commerce_synced_status == SYNCED_REFUNDED else "canceled")
        session.commit()
        return LifecycleOutcome(record.amazon_order_id, action, record.notes)

    # shipped on Amazon ---------------------------------------------------------------------------

    def _complete(self, session: Session, record: AmazonOrderRecord, order: AmazonOrder, magento: MagentoClient,
                  actor: str) -> LifecycleOutcome:
        entity_id = _entity_id(record)
        current = magento.get_order(entity_id)
        state = current.get("state")
        tracks = tracks_from_packages(order.packages)
        action = "completed"
        comment = order.is_fba  # FBA: the tracking numbers go into a comment; MFN: when the bridge shipped it
        if state in ("canceled", "closed"):
            # A person canceled or refunded it in Commerce: nothing to ship; say so once.
            add_event(record, "completed", "Amazon shipped this order, but Commerce order "
                      f"#{record.magento_increment_id} is {state}; left as it is.", actor)
            action = "nothing"
        elif not order.is_fba and record.stock_applied:
            # The bridge decremented the source itself (stock handling decrement_source); under MSI a shipment
            # would deduct it a second time, so the order completes as ASC's MSI handler does: no shipment.
            comment = True
        elif not order.is_fba and state != "complete":
            to_ship = _quantities_to_ship(current, order)
            if to_ship:
                shipped = self._ship(session, record, order, current, to_ship, magento, actor,
                                     refused_then="the order is completed without one and the tracking numbers go "
                                                  "into a comment")
                action = "shipped" if shipped else action
                comment = True
                current = magento.get_order(entity_id)
                state = current.get("state")
        if action != "nothing" and state != "complete":
            magento.update_order(entity_id, {"state": "complete", "status": "complete"})
            current = magento.get_order(entity_id)
        if action != "nothing" and comment and not _has_comment(current, SHIPPED_MARK):
            who = "by Amazon (FBA)" if order.is_fba else "by the merchant outside Commerce (Seller Central)"
            magento.add_comment(entity_id, f"{SHIPPED_MARK} {who}: {_describe(tracks)}. [amazon-bridge]",
                                status=current.get("status") or "complete")
        record.commerce_synced_status = SYNCED_COMPLETE
        record.completed = True
        if action != "nothing":
            record.status = COMPLETED
            record.notes = "Status updated to completed."
            add_event(record, "completed", f"Commerce order #{record.magento_increment_id} is complete "
                      f"(shipped {'by Amazon' if order.is_fba else 'outside Commerce'}).", actor)
        session.commit()
        return LifecycleOutcome(record.amazon_order_id, action, record.notes or "")


    def _partial(self, session: Session, record: AmazonOrderRecord, order: AmazonOrder, magento: MagentoClient,
                 actor: str) -> LifecycleOutcome:
        """PartiallyShipped in Seller Central: Commerce ships what Amazon shipped so far; completion waits for
        Shipped. Orders whose stock the bridge took get no shipment (see `_complete`)."""
        current = magento.get_order(_entity_id(record))
        action = "nothing"
        if current.get("state") not in ("canceled", "closed", "complete") and not record.stock_applied:
            to_ship = _quantities_to_ship(current, order)
            if to_ship and self._ship(session, record, order, current, to_ship, magento, actor,
                                      refused_then="the rest follows when Amazon ships it"):
                action = "shipped"
        record.commerce_synced_status = partial_marker(order.items_shipped)
        session.commit()
        return LifecycleOutcome(record.amazon_order_id, action, f"{order.items_shipped} item(s) shipped on Amazon")

    def _ship(self, session: Session, record: AmazonOrderRecord, order: AmazonOrder, current: MagentoOrder,
              to_ship: dict[int, Decimal], magento: MagentoClient, actor: str, *, refused_then: str) -> bool:
        """One Commerce shipment of what Amazon shipped and Commerce has not, with the packages' tracking
        numbers not on an earlier shipment. False when Magento refused it (its words go into the history)."""
        tracks = tracks_from_packages(order.packages)
        if any(_money(i.get("qty_shipped")) > 0 for i in current.get("items") or []):
            known = {t.get("track_number") for s in magento.list_shipments(_entity_id(record))
                     for t in s.get("tracks") or []}
            tracks = [t for t in tracks if t.track_number not in known]
        try:
            shipment_id = magento.ship(_entity_id(record), to_ship, tracks, comment=(
                "Shipped on Amazon (Seller Central); created by amazon-bridge from Amazon's packages, "
                f"not to be confirmed to Amazon again. {FROM_AMAZON_MARK}"))
        except (MagentoInvalidRequest, MagentoNotFound) as exc:
            # e.g. MSI: "Not all of your products are available in the requested quantity." The goods left anyway.
            add_event(record, "commerce_error", f"Magento refused the shipment ({exc}); {refused_then}.", actor)
            session.commit()
            return False
        add_event(record, "commerce_shipped",
                  f"Shipped outside Commerce: shipment {shipment_id} created with {_describe(tracks)}.", actor)
        session.commit()
        return True


# -- helpers --------------------------------------------------------------------------------------------------


def _entity_id(record: AmazonOrderRecord) -> int:
    """The linked Commerce order; only linked records are followed (`_follow_claimed` checks first)."""
    if record.magento_entity_id is None:
        raise ValueError(f"Amazon order {record.amazon_order_id} has no Commerce order to follow")
    return record.magento_entity_id


def tracks_from_packages(packages: tuple[TrackingPackage, ...]) -> list[Track]:
    """Magento tracks for Amazon's packages (ones without a tracking number left out), one per number."""
    out: list[Track] = []
    seen: set[str] = set()
    for pkg in packages:
        number = (pkg.tracking_number or "").strip()
        if not number or number in seen:
            continue
        seen.add(number)
        carrier = (pkg.carrier or "").strip()
        code = MAGENTO_CARRIERS.get(carrier.casefold(), "custom")
        out.append(Track(track_number=number, carrier_code=code, title=carrier or "Amazon"))
    return out


def _describe(tracks: list[Track]) -> str:
    if not tracks:
        return "no tracking number from Amazon"
    return ", ".join(f"{t.title} {t.track_number}" for t in tracks)


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def _qty_to_invoice(item: dict[str, Any]) -> Decimal:
    return _money(item.get("qty_ordered")) - _money(item.get("qty_invoiced")) - _money(item.get("qty_canceled"))


def _can_cancel(magento_order: MagentoOrder) -> bool:
    """Magento's canCancel as far as the order shows it; Magento still decides (cancel answers false)."""
    if magento_order.get("state") in ("canceled", "complete", "closed", "holded", "payment_review"):
        return False
    return any(_qty_to_invoice(i) > 0 for i in magento_order.get("items") or [] if not i.get("parent_item_id"))


def _quantities_to_ship(magento_order: MagentoOrder, order: AmazonOrder) -> dict[int, Decimal]:
    """Commerce item id -> quantity Amazon shipped that Commerce has not (matched on the Amazon order item id
    the importer writes into each item's `ext_order_item_id`/`description`)."""
    shipped_on_amazon = {item.order_item_id: item.quantity_shipped for item in order.items}
    out: dict[int, Decimal] = {}
    for item in magento_order.get("items") or []:
        if item.get("parent_item_id") or item.get("is_virtual"):
            continue
        amazon_item = item.get("ext_order_item_id") or item.get("description")
        if amazon_item not in shipped_on_amazon:
            continue
        open_qty = (_money(item.get("qty_ordered")) - _money(item.get("qty_shipped"))
                    - _money(item.get("qty_refunded")) - _money(item.get("qty_canceled")))
        target = Decimal(shipped_on_amazon[amazon_item]) - _money(item.get("qty_shipped"))
        qty = min(open_qty, target)
        if qty > 0:
            out[int(item["item_id"])] = qty
    return out


def _has_comment(magento_order: MagentoOrder | None, mark: str) -> bool:
    if not magento_order:
        return False
    return any(mark in (h.get("comment") or "") for h in magento_order.get("status_histories") or [])


def _cancel_reason_text(order: AmazonOrder) -> str:
    reason = next((item.cancel_reason for item in order.items if item.cancel_reason), None)
    return f"reason {reason}" if reason else "no reason given"
