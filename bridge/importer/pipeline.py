"""Turning one Amazon order into exactly one Commerce order.

Exactly once, although jobs run at least once, workers die and responses get lost:
1. The database holds one row per (store, Amazon order id); a worker must *claim* it (a lease in that
   row, taken with one conditional UPDATE) before it may create anything, so two workers never import
   the same order at once, and a dead worker's claim expires.
2. Orders are looked up in Magento by `ext_order_id` before they are created: in batches of 100 by
   the sync, and again one by one whenever a create for the order may have been sent before (a counter
   committed before each create says so), so an order that was saved but whose response was lost is
   found and linked, never created twice.
3. A create whose answer is unknown (timeout, dropped connection, killed worker) leaves the order *in doubt*
   (`create_in_doubt_until`, committed before the request leaves): a slow Magento may still save it, so no
   second create is sent until no request sent then can still be running (`[magento] max_request_seconds`);
   meanwhile each attempt looks it up and links what appears. With Amazon's order number as increment id,
   Magento's unique increment id refuses a second create, so that store creates again at once.
   Duplicates found anyway are settled (`bridge.importer.duplicates`), never left silent.
4. The Commerce order's entity id is committed the moment it is known; the steps after it (comment
   with links, offline invoice, status, stock, FBA completion) each check Magento's or our own record
   first, so re-running an interrupted import finishes it instead of repeating it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from redis import RedisError
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from bridge.amazon.errors import AmazonDataError
from bridge.amazon.mapping import order_from_v2026
from bridge.domain import Address, AmazonOrder, ImportState
from bridge.errors import BridgeError, RetryLater, is_transient
from bridge.import_rules import Decision, decide
from bridge.importer.customers import customer_for_order
from bridge.importer.duplicates import choose_kept, settle_duplicates
from bridge.importer.order_builder import OrderBuildError, build_order_payload
from bridge.importer.order_context import build_context
from bridge.importer.regions import RegionResolver, regions_for
from bridge.importer.salability import batch_quantities, grant_for_batch, unsalable_skus
from bridge.links import order_comment, order_links
from bridge.magento.errors import (
    MagentoError,
    MagentoHTTPError,
    MagentoInvalidRequest,
    MagentoTransportError,
)
from bridge.magento.models import CustomerRef, MagentoOrderRef, StoreView
from bridge.order_settings import OrderNumberSource, OrderSettings, StockHandling
from bridge.stock import StockBusy, StockLedger, StockLocks, quantities
from bridge.storage.db import SessionFactory, rows_matched
from bridge.storage.models import AmazonOrderRecord, StockKind, Store, utcnow
from bridge.storage.orders import add_event, may_exist_in_commerce
from bridge.storage.stores import order_settings, sku_mapper

if TYPE_CHECKING:
    from bridge.magento.client import MagentoClient

log = logging.getLogger(__name__)

ERROR_RETRIES_EVERY_SYNC = 12
ERROR_BACKOFF_MAX = timedelta(hours=1)
LINK_COMMENT_MARK = "View or Cancel Amazon Order"


class ImportDeferred(RetryLater):
    """A transient failure (Magento unreachable, 5xx): the job should run again later."""


class CreateInDoubt(RetryLater):
    """A create for this order may still be running in Magento: look again later, don't create."""

    def __init__(self, until: datetime):
        self.until = until
        super().__init__(f"a create sent earlier may still be saved until {until:%Y-%m-%d %H:%M:%S} UTC")


UNIQUE_VIOLATION = "Unique constraint violation found"
GATEWAY_STATUSES = frozenset({502, 503, 504})  # a proxy gave up waiting; Magento may still save the order


@dataclass(frozen=True)
class ImportOutcome:
    amazon_order_id: str
    state: ImportState | None  # None: nothing done (claimed elsewhere, not due, import disabled)
    message: str
    entity_id: int | None = None
    increment_id: str | None = None
    created: bool = False


def error_backoff(attempts: int) -> timedelta:
    """How long an order in error waits before the syncs retry it.

    As ASC does, every sync retries it at first; an order still failing after a dozen attempts (an hour at
    the default five-minute schedule) is retried hourly, so one broken for days does not cost Magento calls
    every five minutes. *Retry import* and a new SKU mapping retry at once whatever this says.
    """
    return timedelta(0) if attempts <= ERROR_RETRIES_EVERY_SYNC else ERROR_BACKOFF_MAX


class OrderImporter:
    """Creates Commerce orders for one store's Amazon orders, over Magento's REST API."""

    def __init__(
        self,
        session_factory: SessionFactory,
        magento_factory: Callable[[str | None], MagentoClient],
        *,
        public_base_url: str,
        lease: timedelta = timedelta(minutes=5),
        max_request: timedelta = timedelta(minutes=10),
        stock_locks: StockLocks | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session_factory = session_factory
        self.magento_factory = magento_factory
        self.public_base_url = public_base_url
        self.lease = lease
        self.max_request = max_request
        self.stock_locks = stock_locks or StockLocks()
        self.now = now
        self._clients: dict[str | None, MagentoClient] = {}

    # -- Magento helpers -------------------------------------------------------------------------

    def magento(self, store_view_code: str | None) -> MagentoClient:
        if store_view_code not in self._clients:
            self._clients[store_view_code] = self.magento_factory(store_view_code)
        return self._clients[store_view_code]

    # -- claims ----------------------------------------------------------------------------------

    def claim(self, store_id: int, amazon_order_id: str) -> str | None:
        """Take the order's lease; None when another worker holds an unexpired one or it is not due."""
        token = secrets.token_hex(16)
        now = self.now()
        with self.session_factory() as session:
            claimed = rows_matched(session,
                update(AmazonOrderRecord)
                .where(
                    AmazonOrderRecord.store_id == store_id,
                    AmazonOrderRecord.amazon_order_id == amazon_order_id,
                    AmazonOrderRecord.import_state.in_([ImportState.QUEUED.value, ImportState.ERROR.value]),
                    or_(AmazonOrderRecord.claim_token.is_(None), AmazonOrderRecord.claim_expires_at < now),
                )
                .values(claim_token=token, claim_expires_at=now + self.lease)
                .execution_options(synchronize_session=False)
            )
            session.commit()
        return token if claimed == 1 else None

    def release(self, store_id: int, amazon_order_id: str, token: str) -> None:
        with self.session_factory() as session:
            session.execute(
                update(AmazonOrderRecord)
                .where(
                    AmazonOrderRecord.store_id == store_id,
                    AmazonOrderRecord.amazon_order_id == amazon_order_id,
                    AmazonOrderRecord.claim_token == token,
                )
                .values(claim_token=None, claim_expires_at=None)
                .execution_options(synchronize_session=False)
            )
            session.commit()

    # -- batch look-up ---------------------------------------------------------------------------

    def link_existing(self, store_id: int, amazon_order_ids: list[str]) -> int:
        """The sync's batch look-up: link orders that already exist in Magento (saved, response lost) with
        one search per 100 ids, then ask Magento once, for the batch's orders left to create, about their
        products and salable quantities, so their imports need not (`prepare_batch`)."""
        if not amazon_order_ids:
            return 0
        try:
            linked = self._link_existing(store_id, amazon_order_ids)
        except MagentoError as exc:
            if is_transient(exc):
                raise
            # Commerce refuses (missing store view, permissions...): each import parks its order with the reason.
            log.warning("store %s: batch look-up refused: %s", store_id, exc)
            return 0
        self.prepare_batch(store_id, amazon_order_ids)
        return linked

    def prepare_batch(self, store_id: int, amazon_order_ids: list[str]) -> None:
        """Products (shared through the reference cache) and a salable budget for the orders still to create.

        Only an optimization: anything that goes wrong here is left for each import to ask on its own.
        """
        with self.session_factory() as session:
            store = session.get_one(Store, store_id)
            settings = order_settings(store.order_settings)
            if not settings.import_enabled:
                return
            orders: list[AmazonOrder] = []
            for record in session.query(AmazonOrderRecord).filter(
                AmazonOrderRecord.store_id == store_id,
                AmazonOrderRecord.amazon_order_id.in_(amazon_order_ids),
                AmazonOrderRecord.magento_entity_id.is_(None),
            ):
                try:
                    orders.append(order_from_v2026(record.snapshot))
                except (AmazonDataError, ValueError, TypeError, KeyError, AttributeError):
                    continue  # its import parks it with the reason
            if not orders:
                return
            catalog_sku = sku_mapper(session, store_id, (i.seller_sku for o in orders for i in o.items))
        magento = self.magento(settings.store_view_code)
        try:
            magento.products_by_skus(sorted({catalog_sku(i.seller_sku) for o in orders for i in o.items}))
            grant_for_batch(magento, batch_quantities((o, catalog_sku) for o in orders))
        except MagentoError as exc:
            log.info("store %s: batch look-up of products and stock skipped: %s", store_id, exc)

    def _link_existing(self, store_id: int, amazon_order_ids: list[str]) -> int:
        with self.session_factory() as session:
            store = session.get_one(Store, store_id)
            settings = order_settings(store.order_settings)
            records = {
                r.amazon_order_id: r
                for r in session.query(AmazonOrderRecord).filter(
                    AmazonOrderRecord.store_id == store_id,
                    AmazonOrderRecord.amazon_order_id.in_(amazon_order_ids),
                    AmazonOrderRecord.magento_entity_id.is_(None),
                    # an order a worker is importing right now is that worker's to link
                    or_(AmazonOrderRecord.claim_token.is_(None), AmazonOrderRecord.claim_expires_at < self.now()),
                )
            }
            if not records:
                return 0
            magento = self.magento(settings.store_view_code)
            found = magento.find_all_orders_by_ext_order_ids(list(records))
            for amazon_order_id, refs in found.items():
                record = records.get(amazon_order_id)
                if record is None:
                    continue
                kept = choose_kept(refs, None)
                record.magento_entity_id = kept.entity_id
                record.magento_increment_id = kept.increment_id
                record.create_in_doubt_until = None
                add_event(record, "linked", f"Found existing Commerce order #{kept.increment_id}; linked to it.")
                session.commit()
                if len(refs) > 1:
                    settle_duplicates(magento, record, kept, refs, "sync")
                    session.commit()
            return len(found)

    # -- the import ------------------------------------------------------------------------------

    def import_order(self, store_id: int, amazon_order_id: str, *, actor: str = "worker") -> ImportOutcome:
        token = self.claim(store_id, amazon_order_id)
        if token is None:
            return ImportOutcome(amazon_order_id, None, "not due, or being imported by another worker")
        try:
            return self._import_claimed(store_id, amazon_order_id, actor)
        finally:
            self.release(store_id, amazon_order_id, token)

    def _import_claimed(self, store_id: int, amazon_order_id: str, actor: str) -> ImportOutcome:
        with self.session_factory() as session:
            record = (
                session.query(AmazonOrderRecord)
                .filter_by(store_id=store_id, amazon_order_id=amazon_order_id)
                .one()
            )
            store = session.get_one(Store, store_id)
            settings = order_settings(store.order_settings)
            if not settings.import_enabled:
                return ImportOutcome(amazon_order_id, None, "Import Amazon Orders is Disabled for this store")
            try:
                order = order_from_v2026(record.snapshot)
            except AmazonDataError as exc:
                return self._park(session, record, f"Cannot read this order from Amazon: {exc}", actor)
            if record.address_override:
                order = replace(
                    order, shipping_address=(order.shipping_address or Address()).corrected(record.address_override)
                )
            decision = decide(order, settings, ImportState(record.import_state),
                              may_exist=may_exist_in_commerce(record))
            if decision.lookup_only:
                return self._link_before_leaving(session, record, settings, order, decision, actor)
            if decision.state not in (ImportState.QUEUED, ImportState.ERROR):
                record.import_state = decision.state.value
                record.notes = decision.note or record.notes
                session.commit()
                return ImportOutcome(amazon_order_id, decision.state, decision.note)
            magento = self.magento(settings.store_view_code)
            try:
                created = False
                if record.magento_entity_id is None:
                    created = self._find_or_create(session, record, store, settings, order, magento, actor)
                self._finish(session, record, settings, order, magento, fresh=created, actor=actor)
            except CreateInDoubt as exc:
                record.notes = f"Create sent; waiting for Magento: {exc}. Looked up at every sync until then."
                session.commit()
                return ImportOutcome(amazon_order_id, ImportState.QUEUED, record.notes)
            except (BridgeError, RedisError) as exc:
                return self._failed(session, record, exc, actor)
            record.import_state = ImportState.IMPORTED.value
            record.notes = f"Imported as Commerce order #{record.magento_increment_id}"
            record.last_error = None
            record.next_attempt_at = None
            add_event(record, "imported", record.notes, actor)
            session.commit()
            return ImportOutcome(
                amazon_order_id,
                ImportState.IMPORTED,
                record.notes,
                record.magento_entity_id,
                record.magento_increment_id,
                created,
            )

    def _failed(self, session: Session, record: AmazonOrderRecord, exc: Exception, actor: str) -> ImportOutcome:
        """The import's one decision (`bridge.errors.disposition`): retry later (the job ends, the order stays
        due), or park it in the error state with what a person must fix."""
        if is_transient(exc):
            add_event(record, "retry", f"{_not_yet(exc)} ({exc}); will retry.", actor)
            session.commit()
            raise ImportDeferred(str(exc)) from exc
        return self._park(session, record, _refusal(record, exc), actor)

    def _park(self, session: Session, record: AmazonOrderRecord, message: str, actor: str) -> ImportOutcome:
        """Keep the order in the visible error state, to be retried at a later sync or on demand."""
        record.attempts = (record.attempts or 0) + 1
        record.import_state = ImportState.ERROR.value
        record.notes = message
        record.last_error = message
        record.next_attempt_at = self.now() + error_backoff(record.attempts)
        add_event(record, "error", message, actor)
        session.commit()
        log.info("order %s in error: %s", record.amazon_order_id, message)
        return ImportOutcome(record.amazon_order_id, ImportState.ERROR, message)

    def _link_before_leaving(self, session: Session, record: AmazonOrderRecord, settings: OrderSettings,
                             order: AmazonOrder,
                             decision: Decision, actor: str) -> ImportOutcome:
        """An order Amazon says not to import (canceled...) that may exist in Commerce: find and link it first.

        Linked, it counts as imported and follows Amazon's status from there (a canceled one gets canceled);
        never found once no create can still be running, it takes the state the rules give it.
        """
        if record.magento_entity_id is None:
            magento = self.magento(settings.store_view_code)
            try:
                found = self._look_up(session, record, magento, "Found the Commerce order a create had left", actor)
            except MagentoError as exc:
                return self._failed(session, record, exc, actor)
            if not found:
                until = record.create_in_doubt_until
                if until is not None and self.now() < until:
                    record.notes = decision.note
                    session.commit()
                    return ImportOutcome(record.amazon_order_id, ImportState.QUEUED, decision.note)
                record.create_in_doubt_until = None
                plain = decide(order, settings, ImportState(record.import_state), may_exist=False)
                record.import_state = plain.state.value
                record.notes = plain.note
                add_event(record, plain.state.value, f"No Commerce order was saved; {plain.note}", actor)
                session.commit()
                return ImportOutcome(record.amazon_order_id, plain.state, plain.note)
        record.import_state = ImportState.IMPORTED.value
        record.notes = f"Linked to Commerce order #{record.magento_increment_id}; Amazon status {order.status.value}"
        record.last_error = None
        record.next_attempt_at = None
        add_event(record, "imported", record.notes, actor)
        session.commit()
        return ImportOutcome(record.amazon_order_id, ImportState.IMPORTED, record.notes,
                             record.magento_entity_id, record.magento_increment_id)

    def _look_up(self, session: Session, record: AmazonOrderRecord, magento: MagentoClient, message: str,
                 actor: str) -> bool:
        """Find the order's Commerce order(s) by ext_order_id; link the kept one and settle any duplicate."""
        refs = magento.find_all_orders_by_ext_order_ids([record.amazon_order_id]).get(record.amazon_order_id)
        if not refs:
            return False
        kept = choose_kept(refs, record.magento_entity_id)
        self._link(session, record, kept, f"{message} #{kept.increment_id}", actor)
        if len(refs) > 1:
            settle_duplicates(magento, record, kept, refs, actor)
            session.commit()
        return True

    def _find_or_create(self, session: Session, record: AmazonOrderRecord, store: Store, settings: OrderSettings,
                        order: AmazonOrder, magento: MagentoClient, actor: str) -> bool:
        """True: created now; False: found and linked. Raises CreateInDoubt while an earlier create may run."""
        amazon_number = settings.order_number_source is OrderNumberSource.AMAZON
        if record.create_attempts or record.create_in_doubt_until is not None:
            if self._look_up(session, record, magento, "Found existing Commerce order", actor):
                return False
            until = record.create_in_doubt_until
            if until is not None and self.now() < until and not amazon_number:
                raise CreateInDoubt(until)
        payload = self._build(session, store, settings, order, magento)
        record.create_attempts = (record.create_attempts or 0) + 1
        until = self.now() + self.max_request
        record.create_in_doubt_until = until
        session.commit()  # counted (and in doubt) before sending: a crash mid-request makes the next attempt look
        try:
            ref = magento.create_order(payload)
        except MagentoTransportError as exc:
            if not exc.request_sent:
                record.create_in_doubt_until = None
                session.commit()
                raise
            # The request may have been saved already, or be saved later by a slow Magento: look, never resend.
            if self._look_up(session, record, magento, "Create response lost; found the saved Commerce order",
                             actor):
                return False
            add_event(record, "in_doubt", f"Magento did not answer the create ({exc}). It may still save it, so "
                      "the order is looked up instead of created again"
                      + ("." if amazon_number else f" until {until:%Y-%m-%d %H:%M:%S} UTC."), actor)
            session.commit()
            if amazon_number:
                raise  # a second create is refused by Magento's unique increment id: retry soon
            raise CreateInDoubt(until) from exc
        except MagentoHTTPError as exc:
            refused_twice = (amazon_number and isinstance(exc, MagentoInvalidRequest)
                             and exc.raw_message == UNIQUE_VIOLATION)
            # Magento already holds this order number: an earlier create was saved after all.
            if refused_twice and self._look_up(session, record, magento,
                                               "Magento refused a second order number; linked to", actor):
                return False
            if exc.status not in GATEWAY_STATUSES:
                record.create_in_doubt_until = None  # Magento answered: nothing was saved
            session.commit()
            raise
        self._link(session, record, ref, f"Created Commerce order #{ref.increment_id}", actor)
        return True

    def _link(self, session: Session, record: AmazonOrderRecord, ref: MagentoOrderRef, message: str,
              actor: str) -> None:
        record.magento_entity_id = ref.entity_id
        record.magento_increment_id = ref.increment_id
        record.create_in_doubt_until = None
        add_event(record, "linked", message + ".", actor)
        session.commit()  # the link must survive whatever happens next

    def _build(self, session: Session, store: Store, settings: OrderSettings, order: AmazonOrder,
               magento: MagentoClient) -> dict[str, Any]:
        catalog_sku = sku_mapper(session, store.id, (item.seller_sku for item in order.items))
        skus = sorted({catalog_sku(item.seller_sku) for item in order.items})
        products = magento.products_by_skus(skus)
        store_view = magento.store_view(settings.store_view_code)
        country = order.shipping_address.country_code if order.shipping_address else None
        regions = regions_for(magento, country) if country else RegionResolver()
        customer = self._customer(settings, order, store_view, magento)
        payload = build_order_payload(
            order,
            settings,
            store=store_view,
            products=products,
            sku_map=catalog_sku,
            region_ids=regions,
            customer=customer,
            links=order_links(self.public_base_url, order.amazon_order_id),
            **build_context(session, store.id, settings, order, magento),
        )
        if not order.is_fba:
            self._check_salable(order, catalog_sku, magento)
        return payload

    def _customer(self, settings: OrderSettings, order: AmazonOrder, store_view: StoreView,
                  magento: MagentoClient) -> CustomerRef | None:
        """Guest (ASC's default), a predefined customer, or ASC's "Build New Customer Account"."""
        return customer_for_order(magento, settings, order, store_view)

    def _check_salable(self, order: AmazonOrder, catalog_sku: Callable[[str], str], magento: MagentoClient) -> None:
        """ASC refuses an order with a product not salable in its quantity; the sync's batch check usually
        answered already (`bridge.importer.salability`)."""
        refused = unsalable_skus(magento, quantities(order, catalog_sku))
        if refused:
            raise OrderBuildError(f'Cannot create sales order: Product "{refused[0]}" in order is not salable')

    def _finish(self, session: Session, record: AmazonOrderRecord, settings: OrderSettings, order: AmazonOrder,
                magento: MagentoClient, *, fresh: bool, actor: str) -> None:
        """The steps after creation (the record is linked by now), each safe to repeat."""
        entity_id = record.magento_entity_id
        if entity_id is None:
            raise ValueError(f"Amazon order {record.amazon_order_id} has no Commerce order to finish")
        current = None if fresh else magento.get_order(entity_id)
        links = order_links(self.public_base_url, order.amazon_order_id)
        # A fresh order carries the links comment from its create payload; a linked one may lack it.
        if current is not None and not _has_link_comment(current):
            magento.add_comment(entity_id, order_comment(links, order.amazon_order_id),
                                status=current.get("status") or "pending")
            add_event(record, "comment", "Added the Amazon order number and links to the Commerce order.", actor)
            session.commit()
        invoiced_fresh = False  # invoiced now the order this run created: Magento resolved its state then
        if settings.create_invoice and not record.invoiced:
            if current is not None and _is_invoiced(current):
                record.invoiced = True
            else:
                try:
                    invoice_id = magento.invoice(entity_id, capture=False)
                    invoiced_fresh = fresh
                    add_event(record, "invoiced", f"Offline invoice {invoice_id} created.", actor)
                except MagentoInvalidRequest as exc:
                    # Refused because an earlier invoice (whose answer was lost) exists? Magento's state says so.
                    if not _is_invoiced(magento.get_order(entity_id)):
                        raise
                    add_event(record, "invoiced", f"Magento refused a second invoice ({exc}); already invoiced.")
                record.invoiced = True
            session.commit()
        if settings.create_invoice and settings.processing_status != "processing" and not order.is_fba:
            magento.add_comment(
                entity_id, "Amazon order imported; status set from the store's Order Settings.",
                status=settings.processing_status,
            )
        if (
            not order.is_fba
            and settings.stock_handling is StockHandling.DECREMENT_SOURCE
            and not record.stock_applied
        ):
            # Exactly once per line, through the ledger; a reservation already taken counts (see bridge.stock).
            catalog_sku = sku_mapper(session, record.store_id, (item.seller_sku for item in order.items))
            ledger = StockLedger(magento, self.stock_locks, max_request_seconds=self.max_request.total_seconds(),
                                 now=self.now)
            ledger.take(session, record, quantities(order, catalog_sku), StockKind.DECREMENT)
            add_event(record, "stock", "Decremented source quantities for the ordered items.", actor)
            session.commit()
        if order.is_fba and not record.completed:
            if invoiced_fresh or (current is not None and current.get("state") == "complete"):
                # created with everything shipped (see order_builder): the invoice left nothing to do, so
                # Magento's state resolver completed it; no order save needed
                message = "FBA order shipped by Amazon; Commerce order complete once invoiced."
            else:
                magento.update_order(entity_id, {"state": "complete", "status": "complete"})
                message = "FBA order shipped by Amazon; Commerce order completed."
            record.completed = True
            add_event(record, "completed", message, actor)
            session.commit()


def _not_yet(exc: Exception) -> str:
    if isinstance(exc, StockBusy):
        return "Stock not updated yet"
    if isinstance(exc, MagentoError):
        return "Magento did not answer as expected"
    return "Not done yet"


def _refusal(record: AmazonOrderRecord, exc: Exception) -> str:
    """The note of a parked order: ASC's "Cannot create sales order: ..." before the create, else what is left."""
    if isinstance(exc, OrderBuildError):
        return str(exc)  # says "Cannot create sales order: ..." itself
    if record.magento_entity_id is None:
        return f"Cannot create sales order: {exc}"
    refused = "Magento refused" if isinstance(exc, MagentoHTTPError) else "it could not be finished"
    return f"Commerce order #{record.magento_increment_id} was created, but {refused}: {exc}"


def _has_link_comment(magento_order: dict[str, Any]) -> bool:
    return any(LINK_COMMENT_MARK in (h.get("comment") or "") for h in magento_order.get("status_histories") or [])


def _is_invoiced(magento_order: dict[str, Any]) -> bool:
    return Decimal(str(magento_order.get("total_invoiced") or 0)) > 0 or magento_order.get("state") in (
        "processing",
        "complete",
        "closed",
    )
