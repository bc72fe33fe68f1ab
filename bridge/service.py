"""One store's sync: pull Amazon changes, link orders Magento already has, hand the rest to importers.

Used by the RQ job (imports become jobs) and by `amazon-bridge sync --once` (imports run in-process).
A Redis lease per store keeps two syncs of one store from overlapping, whoever started them; it is short
and renewed while the sync runs (`bridge.lease`), so a killed worker frees it within `SYNC_LEASE_SECONDS`.
An Amazon outage ends the sync at once with `AmazonUnavailable` and a per-store back-off (`bridge.outage`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis import Redis
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bridge.amazon.errors import AmazonError
from bridge.domain import ImportState
from bridge.errors import RetryLater, is_transient
from bridge.importer.pipeline import OrderImporter
from bridge.lease import Lease
from bridge.lifecycle import LifecycleDeferred, OrderLifecycle, dispatch_due
from bridge.order_settings import StockHandling
from bridge.outage import AmazonOutage, clear_outage, record_outage
from bridge.runtime import Runtime
from bridge.stock import StockLocks, reconcile_reservations, return_order_stock
from bridge.storage.db import rows_matched
from bridge.storage.models import AmazonOrderRecord, Store, SyncRun, utcnow
from bridge.storage.orders import due_for_import
from bridge.storage.stores import order_settings
from bridge.sync import pull_changes

log = logging.getLogger(__name__)

LOOKUP_BATCH = 100
SYNC_LEASE_SECONDS = 30
SYNC_LOCK_KEY = "amazon-bridge:sync-lock:{store_id}"
SYNC_WANTED_KEY = "amazon-bridge:sync-wanted:{store_id}"  # a sync found the lease held: run again once free


class SyncBusy(RetryLater):
    """Another sync of this store is running; this one did nothing."""


class AmazonUnavailable(RetryLater):
    """Amazon failed (5xx, time-outs, refused connections, or throttling beyond the budget): the sync ended
    early and the scheduler tries again after `outage.until`."""

    def __init__(self, outage: AmazonOutage) -> None:
        super().__init__(
            f"store {outage.store_id}: Amazon unavailable ({outage.reason}); "
            f"next try after {outage.until:%H:%M:%S} UTC"
        )
        self.outage = outage


@dataclass(frozen=True)
class StoreSyncResult:
    store_code: str
    orders_seen: int
    new: int
    due: list[str]
    linked: int
    run_id: int


def stock_locks(runtime: Runtime) -> StockLocks:
    """Source-item locks shared by every worker through Redis, outliving one Magento request."""
    return StockLocks(runtime.redis, ttl=runtime.settings.magento.timeout_seconds + 10)


def give_back_stock(runtime: Runtime, store_id: int, amazon_order_id: str, *, actor: str = "sync") -> dict[str, int]:
    """Give back what one order took from Magento's source (per the stock ledger), once: for orders Amazon
    cancels, before or after import. {sku: qty given back now}; {} when it took nothing or gave it back already.
    """
    with runtime.db.session() as session:
        view = order_settings(session.get_one(Store, store_id).order_settings).store_view_code
    return return_order_stock(
        runtime.db.sessionmaker, store_id, amazon_order_id, runtime.magento_client(view),
        locks=stock_locks(runtime), max_request_seconds=runtime.settings.magento.max_request_seconds, actor=actor,
    )


class RenewingImporter(OrderImporter):
    """The importer whose per-order claim is renewed by a heartbeat while the import runs.

    The claim is a lease in the database (`claim_expires_at`); a worker SIGKILLed mid-import stops renewing
    it, so the order is free again within `claim_lease_seconds` (and the scheduler's sweep queues it),
    however long a live import takes (Magento stalls, retries)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # OrderImporter's, unchanged
        super().__init__(*args, **kwargs)
        self._heartbeats: dict[str, threading.Event] = {}

    def claim(self, store_id: int, amazon_order_id: str) -> str | None:
        token = super().claim(store_id, amazon_order_id)
        if token is not None and self.lease.total_seconds() > 0:
            stop = threading.Event()
            self._heartbeats[token] = stop
            threading.Thread(target=self._renew, args=(store_id, amazon_order_id, token, stop),
                             name=f"claim:{amazon_order_id}", daemon=True).start()
        return token

    def release(self, store_id: int, amazon_order_id: str, token: str) -> None:
        stop = self._heartbeats.pop(token, None)
        if stop is not None:
            stop.set()
        super().release(store_id, amazon_order_id, token)

    def _renew(self, store_id: int, amazon_order_id: str, token: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease.total_seconds() / 3):
            try:
                with self.session_factory() as session:
                    renewed = rows_matched(session,
                        update(AmazonOrderRecord)
                        .where(
                            AmazonOrderRecord.store_id == store_id,
                            AmazonOrderRecord.amazon_order_id == amazon_order_id,
                            AmazonOrderRecord.claim_token == token,
                        )
                        .values(claim_expires_at=self.now() + self.lease)
                        .execution_options(synchronize_session=False)
                    )
                    session.commit()
                if not renewed:  # released, or taken over after it ran out: nothing left to renew
                    return
            except SQLAlchemyError as exc:  # the database away for a moment: try again at the next beat
                log.warning("order %s: claim renewal failed (%s)", amazon_order_id, type(exc).__name__)


def make_importer(runtime: Runtime) -> OrderImporter:
    return RenewingImporter(
        runtime.db.session,
        runtime.magento_client,
        public_base_url=runtime.settings.admin.public_base_url,
        lease=timedelta(seconds=runtime.settings.sync.claim_lease_seconds),
        max_request=timedelta(seconds=runtime.settings.magento.max_request_seconds),
        stock_locks=stock_locks(runtime),
    )


def make_lifecycle(runtime: Runtime) -> OrderLifecycle:
    return OrderLifecycle(
        runtime.db.session,
        runtime.magento_client,
        lease=timedelta(seconds=runtime.settings.sync.claim_lease_seconds),
        stock_locks=stock_locks(runtime),
        max_request_seconds=runtime.settings.magento.max_request_seconds,
    )


def follow_in_process(runtime: Runtime, store_id: int) -> Callable[[list[str]], None]:
    """Commerce changes run right here (`sync --once`, tests); a failure waits for the next sync."""
    lifecycle = make_lifecycle(runtime)

    def dispatch(amazon_order_ids: list[str]) -> None:
        for amazon_order_id in amazon_order_ids:
            try:
                lifecycle.follow(store_id, amazon_order_id, actor="sync")
            except LifecycleDeferred as exc:
                log.warning("order %s: Commerce change deferred: %s", amazon_order_id, exc)
            except Exception:  # top of the batch: one order's surprise must not stop the others; still due next sync
                log.exception("order %s: Commerce change failed; the next sync tries again", amazon_order_id)

    return dispatch


def sync_store(
    runtime: Runtime,
    store_id: int,
    *,
    dispatch: Callable[[list[str]], None],
    importer: OrderImporter | None = None,
    dispatch_changes: Callable[[list[str]], None] | None = None,
) -> StoreSyncResult:
    """Pull one store's changes, dispatch the orders due for import and the Commerce orders that must follow
    Amazon (canceled, shipped): as jobs, or in-process when `dispatch_changes` is not given."""
    lease = Lease(runtime.redis, SYNC_LOCK_KEY.format(store_id=store_id), ttl=SYNC_LEASE_SECONDS)
    if not lease.acquire():
        # The holder may be a sync that is running, or a killed one whose lease has not run out yet: the
        # scheduler queues this store's sync again as soon as the lease is free (`sync_wanted`).
        runtime.redis.set(SYNC_WANTED_KEY.format(store_id=store_id), 1, ex=24 * 3600)
        raise SyncBusy(f"store {store_id}: another sync is running")
    try:
        return _sync_locked(runtime, store_id, dispatch, importer or make_importer(runtime),
                            dispatch_changes or follow_in_process(runtime, store_id))
    finally:
        lease.release()


def sync_wanted(redis: Redis, store_id: int) -> bool:
    """True when a sync of this store was turned away by a held lease that is free now (claims the want)."""
    key = SYNC_WANTED_KEY.format(store_id=store_id)
    if not redis.exists(key) or redis.exists(SYNC_LOCK_KEY.format(store_id=store_id)):
        return False
    return bool(redis.delete(key))


def _sync_locked(runtime: Runtime, store_id: int, dispatch: Callable[[list[str]], None], importer: OrderImporter,
                 dispatch_changes: Callable[[list[str]], None]) -> StoreSyncResult:
    with runtime.db.session() as session:
        store = session.get(Store, store_id)
        if store is None:
            raise ValueError(f"no store with id {store_id}")
        code = store.code
        run = SyncRun(store_id=store_id, started_at=utcnow())
        session.add(run)
        session.flush()
        run_id = run.id
        amazon = runtime.amazon_client(store)
        settings = order_settings(store.order_settings)
    try:
        try:
            pulled = pull_changes(runtime.db.sessionmaker, store_id, amazon, runtime.settings.sync, run_id=run_id)
        except AmazonError as exc:
            if not is_transient(exc):
                raise  # refused credentials, bad data...: the run fails with Amazon's words
            outage = record_outage(runtime.redis, store_id, str(exc), utcnow())
            log.warning("store %s: %s", code, exc)
            raise AmazonUnavailable(outage) from exc
        clear_outage(runtime.redis, store_id)
        if settings.stock_handling is StockHandling.DECREMENT_SOURCE:
            reconcile_reservations(runtime.db.sessionmaker, store_id, runtime.magento_client(settings.store_view_code),
                                   locks=stock_locks(runtime),
                                   max_request_seconds=runtime.settings.magento.max_request_seconds)
        due: list[str] = []
        linked = 0
        if settings.import_enabled:
            with runtime.db.session() as session:
                due = due_for_import(session, store_id, utcnow())
            for start in range(0, len(due), LOOKUP_BATCH):
                linked += importer.link_existing(store_id, due[start : start + LOOKUP_BATCH])
            dispatch(due)
        dispatch_due(runtime.db.sessionmaker, store_id, dispatch_changes)
    except Exception as exc:
        with runtime.db.session() as session:
            run = session.get_one(SyncRun, run_id)
            run.result = "failed"
            run.finished_at = utcnow()
            run.error_text = str(exc) if isinstance(exc, AmazonUnavailable) else f"{type(exc).__name__}: {exc}"
        raise
    with runtime.db.session() as session:
        run = session.get_one(SyncRun, run_id)
        run.result = "ok"
        run.finished_at = utcnow()
        # Of the orders due in this run: how many are imported now (linked, or imported in-process) and how
        # many wait in error. With RQ the imports finish after the run; the admin counts those live.
        states = import_counts(session, store_id, due)
        run.imported = states.get(ImportState.IMPORTED.value, 0)
        run.errors = states.get(ImportState.ERROR.value, 0)
        if pulled.rejected:
            run.errors += len(pulled.rejected)
            run.error_text = f"{len(pulled.rejected)} Amazon orders could not be read: " + "; ".join(pulled.rejected)
    log.info(
        "store %s: %d orders seen (%d new), %d due for import, %d linked to existing Commerce orders",
        code, pulled.orders_seen, pulled.new, len(due), linked,
    )
    return StoreSyncResult(code, pulled.orders_seen, pulled.new, due, linked, run_id)


def import_counts(session: Session, store_id: int | None = None,
                  amazon_order_ids: list[str] | None = None) -> dict[str, int]:
    """How many orders are in each import state: all, one store's, or the given orders of one store."""
    base = select(AmazonOrderRecord.import_state, func.count()).group_by(AmazonOrderRecord.import_state)
    if store_id is not None:
        base = base.where(AmazonOrderRecord.store_id == store_id)
    if amazon_order_ids is None:
        return {state: n for state, n in session.execute(base).all()}
    counts: dict[str, int] = {}
    for start in range(0, len(amazon_order_ids), 500):  # bounded IN lists
        chunk = amazon_order_ids[start : start + 500]
        for state, n in session.execute(base.where(AmazonOrderRecord.amazon_order_id.in_(chunk))).all():
            counts[state] = counts.get(state, 0) + n
    return counts


def import_counts_by_store(session: Session) -> dict[int, dict[str, int]]:
    """`import_counts` of every store in one query: {store id: {state: count}} (stores without orders absent)."""
    counts: dict[int, dict[str, int]] = {}
    for store_id, state, n in session.execute(
        select(AmazonOrderRecord.store_id, AmazonOrderRecord.import_state, func.count())
        .group_by(AmazonOrderRecord.store_id, AmazonOrderRecord.import_state)
    ):
        counts.setdefault(store_id, {})[state] = n
    return counts
