"""Stock for merchant-fulfilled orders when the store decrements source quantities (ASC's reservation).

Magento makes no reservation for orders created over REST. With *stock handling* = `decrement_source`:
- at creation, the ordered quantities leave the source (in `bridge.importer.pipeline`), once per order line;
- with *Pending Orders* = Reserve Quantity, they leave already while Amazon still says Pending, so the
  storefront can't sell them twice (ASC's "Inventory reserved");
- an order Amazon cancels gives back what it took (`return_order_stock`).

Exactly once per order line, with any number of workers, because Magento has no atomic decrement over REST:
- writes to one source item are serialized by a short Redis lock (`StockLocks`), renewed before each write;
- every change is a row of the ledger (`StockMove`) holding the quantity read and the quantity written;
  it is marked applied only after Magento accepted the write, and a write that failed is retried later;
- a write whose answer was lost stays *pending* and is settled by reading Magento's quantity under the lock
  (equal to what was written: applied; unchanged: not applied, once no request can still be in flight);
- a release gives back only what an applied take took. FBA orders never touch stock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from redis import Redis, RedisError
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from bridge.amazon.errors import AmazonDataError
from bridge.amazon.mapping import order_from_v2026
from bridge.domain import AmazonOrder, AmazonStatus
from bridge.errors import RetryLater
from bridge.magento.errors import MagentoError, MagentoHTTPError, MagentoTransportError
from bridge.order_settings import StockHandling
from bridge.storage.db import SessionFactory
from bridge.storage.models import AmazonOrderRecord, StockKind, StockMove, StockMoveState, Store, utcnow
from bridge.storage.orders import add_event
from bridge.storage.stores import order_settings, sku_mapper

if TYPE_CHECKING:
    from bridge.magento.client import MagentoClient

log = logging.getLogger(__name__)

TAKES = (StockKind.RESERVE.value, StockKind.DECREMENT.value)
RESERVE_BATCH = 100  # Pending orders read per query when reserving their stock (reconcile_reservations)
GATEWAY_STATUSES = frozenset({502, 503, 504})  # a proxy gave up; Magento may still have processed the write


class StockBusy(RetryLater):
    """Another worker holds the source item, or a write to it may still be in flight: try again later."""


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


class StockLocks:
    """One writer per source item at a time: a Redis lock per (source, SKU), or a process-local one without Redis.

    The lock lives `ttl` seconds (longer than one Magento request) and is renewed before each write, so a dead
    worker's lock frees itself quickly; a worker that can't get it within `wait` seconds gives up (StockBusy)
    instead of sitting in a job.
    """

    def __init__(self, redis: Redis | None = None, *, ttl: float = 40.0, wait: float = 10.0) -> None:
        self.redis = redis
        self.ttl = ttl
        self.wait = wait
        self._local: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, source_code: str, sku: str) -> Iterator[Callable[[], None]]:
        """Yields `renew()`; raises StockBusy when the item stays locked."""
        name = f"amazon-bridge:stock-lock:{source_code}:{sku}"
        if self.redis is None:
            with self._guard:
                local = self._local.setdefault(name, threading.Lock())
            if not local.acquire(timeout=self.wait):
                raise StockBusy(f'stock of "{sku}" is being changed by another worker')
            try:
                yield lambda: None
            finally:
                local.release()
            return
        lock = self.redis.lock(name, timeout=self.ttl, blocking=True, blocking_timeout=self.wait)
        if not lock.acquire():
            raise StockBusy(f'stock of "{sku}" is being changed by another worker')
        try:
            yield lock.reacquire
        finally:
            try:
                lock.release()
            except RedisError:  # LockError when expired: someone else may hold it now; nothing of ours to free
                log.warning("stock lock for %s expired before release", sku)


@dataclass
class StockLedger:
    """Takes and gives back one order's source quantities through the ledger (see the module docstring)."""

    magento: MagentoClient
    locks: StockLocks = field(default_factory=StockLocks)
    max_request_seconds: float = 600.0
    source_code: str = "default"
    now: Callable[[], datetime] = utcnow

    # -- taking --------------------------------------------------------------------------------------

    def take(self, session: Session, record: AmazonOrderRecord, wanted: dict[str, int], kind: StockKind) -> None:
        """Take each SKU's quantity once for this order; raises (MagentoError, StockBusy) if any is not applied yet.

        `record.stock_applied` becomes True only when every line is applied in Magento.
        """
        takes = {m.sku: m for m in self._moves(session, record) if m.kind in TAKES}
        for sku, qty in sorted(wanted.items()):
            move = takes.get(sku)
            if move is None:
                move = StockMove(order_id=record.id, sku=sku, source_code=self.source_code, kind=kind.value, qty=qty)
                session.add(move)
                session.commit()
            if move.state != StockMoveState.APPLIED.value:
                self._write(session, move, -move.qty)
        record.stock_applied = True
        session.commit()

    # -- giving back ---------------------------------------------------------------------------------

    def give_back(
        self, session: Session, record: AmazonOrderRecord, legacy: dict[str, int] | None = None
    ) -> dict[str, int]:
        """Return what this order's applied takes took, once; returns {sku: qty given back now}.

        A take that never reached Magento is voided instead (nothing to give back, and never taken later).
        `legacy`: the order's quantities, for an order flagged by a version without the ledger.
        """
        moves = self._moves(session, record)
        if not any(m.kind in TAKES for m in moves) and record.stock_applied and legacy:
            for sku, qty in legacy.items():  # taken before the ledger existed: the flag said it was applied
                session.add(StockMove(order_id=record.id, sku=sku, source_code=self.source_code,
                                      kind=StockKind.DECREMENT.value, qty=qty, state=StockMoveState.APPLIED.value,
                                      applied_at=self.now()))
            session.commit()
            moves = self._moves(session, record)
        released = {m.sku: m for m in moves if m.kind == StockKind.RELEASE.value}
        given: dict[str, int] = {}
        for take in [m for m in moves if m.kind in TAKES]:
            if take.state == StockMoveState.PENDING.value:
                with self.locks.hold(take.source_code, take.sku):
                    self._settle(session, take.source_code, take.sku)
                session.refresh(take)
            if take.state != StockMoveState.APPLIED.value:
                session.delete(take)  # never reached Magento: nothing to give back
                session.commit()
                continue
            move = released.get(take.sku)
            if move is None:
                move = StockMove(order_id=record.id, sku=take.sku, source_code=take.source_code,
                                 kind=StockKind.RELEASE.value, qty=take.qty)
                session.add(move)
                session.commit()
            if move.state != StockMoveState.APPLIED.value:
                self._write(session, move, move.qty)
                given[move.sku] = move.qty
        record.stock_applied = False
        session.commit()
        return given

    # -- one write -----------------------------------------------------------------------------------

    def _moves(self, session: Session, record: AmazonOrderRecord) -> list[StockMove]:
        return list(session.scalars(select(StockMove).where(StockMove.order_id == record.id).order_by(StockMove.id)))

    def _write(self, session: Session, move: StockMove, delta: int) -> None:
        with self.locks.hold(move.source_code, move.sku) as renew:
            self._settle(session, move.source_code, move.sku)
            session.refresh(move)
            if move.state == StockMoveState.APPLIED.value:
                return
            if move.kind in TAKES and session.scalar(select(StockMove.id).where(
                StockMove.order_id == move.order_id, StockMove.sku == move.sku, StockMove.id != move.id,
                StockMove.kind.in_(TAKES), StockMove.state == StockMoveState.APPLIED.value,
            )) is not None:
                session.delete(move)  # the reservation already took it
                session.commit()
                return
            current = self.magento.source_quantity(move.sku, move.source_code)
            move.qty_before = current
            move.qty_after = current + Decimal(delta)
            move.state = StockMoveState.PENDING.value
            move.sent_at = self.now()
            session.commit()  # recorded before the write leaves: a lost answer is settled by reading, later
            renew()
            try:
                self.magento.set_source_quantity(move.sku, move.qty_after, move.source_code)
            except MagentoTransportError as exc:
                if not exc.request_sent:
                    move.state = StockMoveState.NEW.value
                session.commit()
                raise
            except MagentoHTTPError as exc:
                if exc.status not in GATEWAY_STATUSES:
                    move.state = StockMoveState.NEW.value  # Magento refused or failed it: nothing was written
                session.commit()
                raise
            move.state = StockMoveState.APPLIED.value
            move.applied_at = self.now()
            session.commit()

    def _settle(self, session: Session, source_code: str, sku: str) -> None:
        """Decide writes to this item whose answer was lost, by reading Magento (the caller holds the lock)."""
        pending = list(session.scalars(select(StockMove).where(
            StockMove.source_code == source_code, StockMove.sku == sku,
            StockMove.state == StockMoveState.PENDING.value,
        ).order_by(StockMove.id)))
        for move in pending:
            current = self.magento.source_quantity(sku, source_code)
            if current == move.qty_after:
                move.state = StockMoveState.APPLIED.value
                move.applied_at = self.now()
            elif current == move.qty_before:
                in_flight_until = (move.sent_at or self.now()) + timedelta(seconds=self.max_request_seconds)
                if self.now() < in_flight_until:
                    session.commit()
                    raise StockBusy(
                        f'a stock write for "{sku}" may still be in flight until {in_flight_until:%H:%M:%S} UTC'
                    )
                move.state = StockMoveState.NEW.value  # it never landed: it will be written again
            else:
                # Magento's quantity moved some other way (a merchant's edit): count the write as landed rather
                # than risk taking twice, and say so.
                move.state = StockMoveState.APPLIED.value
                move.applied_at = self.now()
                add_event(move.order, "stock", f'Could not confirm the stock change for "{sku}" (Magento shows '
                          f"{current}, expected {move.qty_after}); counted once, please check the quantity.")
            session.commit()


def return_order_stock(
    session_factory: SessionFactory,
    store_id: int,
    amazon_order_id: str,
    magento: MagentoClient,
    *,
    locks: StockLocks | None = None,
    max_request_seconds: float = 600.0,
    actor: str = "sync",
) -> dict[str, int]:
    """Give back what one order took from the source (per the ledger), once; {sku: qty given back now}.

    For orders Amazon cancels, before or after import. Safe to call again: an applied release is not repeated,
    and an order that took nothing gives nothing back.
    """
    with session_factory() as session:
        record = session.scalar(select(AmazonOrderRecord).where(
            AmazonOrderRecord.store_id == store_id, AmazonOrderRecord.amazon_order_id == amazon_order_id))
        if record is None:
            raise ValueError(f"no Amazon order {amazon_order_id} in store {store_id}")
        return give_back_order_stock(session, record, magento, locks=locks, max_request_seconds=max_request_seconds,
                                     actor=actor)


def give_back_order_stock(
    session: Session,
    record: AmazonOrderRecord,
    magento: MagentoClient,
    *,
    locks: StockLocks | None = None,
    max_request_seconds: float = 600.0,
    why: str = "the order was canceled",
    actor: str = "sync",
) -> dict[str, int]:
    """`return_order_stock` for a record already loaded in `session` (the lifecycle's cancel-after-import)."""
    legacy = None
    if record.stock_applied:
        try:
            order = order_from_v2026(record.snapshot)
            legacy = quantities(order, sku_mapper(session, record.store_id, (i.seller_sku for i in order.items)))
        except AmazonDataError:
            legacy = None
    ledger = StockLedger(magento, locks or StockLocks(), max_request_seconds=max_request_seconds)
    given = ledger.give_back(session, record, legacy)
    if given:
        what = ", ".join(f"{qty} x {sku}" for sku, qty in sorted(given.items()))
        add_event(record, "stock", f"Stock given back ({what}): {why}.", actor)
        session.commit()
    return given


def reconcile_reservations(
    session_factory: SessionFactory,
    store_id: int,
    magento: MagentoClient,
    *,
    locks: StockLocks | None = None,
    max_request_seconds: float = 600.0,
    batch_size: int = RESERVE_BATCH,
) -> StockResult:
    """Reserve stock for Pending MFN orders (retrying failed ones); give it back for those Amazon canceled.

    Pending orders are read `batch_size` at a time (by id, each batch in its own session): a store's first
    sync or a backfill can find thousands, and all their records and snapshots at once would not fit a
    worker's memory."""
    result = StockResult()
    locks = locks or StockLocks()
    with session_factory() as session:
        store = session.get_one(Store, store_id)
        settings = order_settings(store.order_settings)
        if settings.stock_handling is not StockHandling.DECREMENT_SOURCE:
            return result
        unlinked_mfn = (
            AmazonOrderRecord.store_id == store_id,
            AmazonOrderRecord.fulfillment_channel == "MFN",
            AmazonOrderRecord.magento_entity_id.is_(None),
        )
        release = aliased(StockMove)
        owed = select(StockMove.order_id).where(
            StockMove.kind.in_(TAKES),
            ~exists().where(release.order_id == StockMove.order_id, release.sku == StockMove.sku,
                            release.kind == StockKind.RELEASE.value, release.state == StockMoveState.APPLIED.value),
        )
        amazon_ids = list(session.scalars(select(AmazonOrderRecord.amazon_order_id).where(
            *unlinked_mfn,
            AmazonOrderRecord.status == AmazonStatus.CANCELED.value,
            AmazonOrderRecord.id.in_(owed) | AmazonOrderRecord.stock_applied.is_(True),
        )))
    ledger = StockLedger(magento, locks, max_request_seconds=max_request_seconds)
    after_id = 0
    while settings.reserve_pending and settings.import_enabled:
        with session_factory() as session:
            batch = list(session.scalars(
                select(AmazonOrderRecord)
                .where(*unlinked_mfn, AmazonOrderRecord.status == AmazonStatus.PENDING.value,
                       AmazonOrderRecord.stock_applied.is_(False), AmazonOrderRecord.id > after_id)
                .order_by(AmazonOrderRecord.id)
                .limit(batch_size)
            ))
            if not batch:
                break
            after_id = batch[-1].id
            for record in batch:
                _reserve(session, store_id, record, ledger, result)
    for amazon_order_id in amazon_ids:
        try:
            given = return_order_stock(session_factory, store_id, amazon_order_id, magento, locks=locks,
                                       max_request_seconds=max_request_seconds)
        except (MagentoError, StockBusy) as exc:
            with session_factory() as session:
                record = session.scalars(select(AmazonOrderRecord).where(
                    AmazonOrderRecord.store_id == store_id, AmazonOrderRecord.amazon_order_id == amazon_order_id)).one()
                add_event(record, "stock", f"Could not give the reserved stock back yet ({exc}); will retry.")
                session.commit()
            result.failed += 1
        else:
            if given:
                result.released += 1
    return result


def _reserve(session: Session, store_id: int, record: AmazonOrderRecord, ledger: StockLedger,
             result: StockResult) -> None:
    try:
        order = order_from_v2026(record.snapshot)
    except AmazonDataError:
        return  # kept in error by the sync; nothing to count
    catalog_sku = sku_mapper(session, store_id, (item.seller_sku for item in order.items))
    try:
        ledger.take(session, record, quantities(order, catalog_sku), StockKind.RESERVE)
    except (MagentoError, StockBusy) as exc:
        add_event(record, "stock", f"Could not reserve stock for this order ({exc}); will retry.")
        session.commit()
        result.failed += 1
    else:
        record.notes = "Inventory reserved"
        add_event(record, "stock", "Inventory reserved: source quantities decremented (Pending order).")
        session.commit()
        result.reserved += 1
