"""The scheduler: queues each active store's sync on the cron schedule, and sweeps so nothing stalls.

Exactly one scheduler acts at a time: each holds for a short lease a Redis key naming the leader, and
only the holder acts. A second scheduler started by mistake waits as a standby and takes over within
`LEASE_SECONDS` if the first dies. Each (store, tick) is also claimed once in Redis, and the sync job id is
unique, so even a split-brain moment cannot queue a store's sync twice.

Besides the ticks, the leader runs its `sweeps` every poll (each one cheap; more can be appended):

* `requeue_abandoned_jobs`: jobs of a killed worker (their heartbeat ran out) go back to their queue
  (their immediate `Retry`, see `jobs.queues`) or to the failed registry, within about 30 s of the kill;
* `retry_turned_away_syncs`: a sync that found the store's lease held (a killed worker's, not yet run
  out) is queued again once the lease is free;
* `retry_after_outage`: a store whose sync ended on an Amazon outage is queued again once its back-off
  (`bridge.outage`) has passed, without waiting for the next tick;
* `requeue_orphaned_imports`: every order the database says is queued for import, with no worker holding
  its claim and no RQ job that will run it (lost to a kill or a Redis restart: at once; a job that ended,
  e.g. failed on a Magento outage: `IMPORT_RETRY_AFTER_SECONDS` after it ended), is queued.
  Orders in error whose back-off passed are swept at each tick, as each sync would retry them;
* `sweep_outbox`: a store with requests to Amazon (cancels, shipments, refunds) queued or awaiting their feed's
  report gets its outbox job (not while the store backs off from an Amazon outage), and each store's
  Commerce poll runs once per tick (`jobs.outbox_sweep`);
* `daily_reconcile`: Amazon's orders against Commerce's, once per store and UTC day (`jobs.ops_tasks`).

Redis or the database going away never ends the loop: it logs and tries again with back-off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

from croniter import croniter
from redis import Redis, RedisError
from rq import Queue
from rq.registry import StartedJobRegistry
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from bridge.domain import ImportState
from bridge.outage import backing_off, current_outage, retry_queued
from bridge.runtime import Runtime
from bridge.service import sync_wanted
from bridge.storage.models import AmazonOrderRecord, Store
from bridge.storage.stores import order_settings
from jobs import queues
from jobs.ops_tasks import enqueue_daily_reconcile

log = logging.getLogger(__name__)

LEADER_KEY = "amazon-bridge:scheduler:leader"
TICK_KEY = "amazon-bridge:scheduler:tick:{store_id}:{tick}"
LEASE_SECONDS = 30
ORPHAN_SWEEP_LIMIT = 5000  # orders looked at per sweep; the next sweep takes the rest
IMPORT_RETRY_AFTER_SECONDS = 30  # an order whose import job ended (failed: Magento down) waits this long
RECONNECT_MAX_SECONDS = 30.0

Sweep = Callable[[datetime], object]


class Scheduler:
    def __init__(self, runtime: Runtime, *, clock: Callable[[], float] = time.time, name: str | None = None):
        self.runtime = runtime
        self.redis: Redis = runtime.redis
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.schedule = runtime.settings.sync.schedule
        self._last_tick: datetime | None = None
        # Run by the leader at every poll, in order, each on its own (one failing does not stop the rest).
        self.sweeps: list[Sweep] = [
            self.requeue_abandoned_jobs,
            self.retry_turned_away_syncs,
            self.retry_after_outage,
            self.requeue_orphaned_imports,
            self.sweep_outbox,
            self.daily_reconcile,
        ]

    # -- leadership ---------------------------------------------------------------------------------

    def is_leader(self) -> bool:
        """Take or renew the leader lease; True when this scheduler holds it."""
        if self.redis.set(LEADER_KEY, self.name, nx=True, ex=LEASE_SECONDS):
            log.info("scheduler %s is now the leader", self.name)
            return True
        if self._leader() == self.name:
            self.redis.expire(LEADER_KEY, LEASE_SECONDS)
            return True
        return False

    def resign(self) -> None:
        if self._leader() == self.name:
            self.redis.delete(LEADER_KEY)

    def _leader(self) -> str | None:
        current = self.redis.get(LEADER_KEY)
        return current.decode() if isinstance(current, bytes) else current

    # -- ticks ----------------------------------------------------------------------------------------

    def due_tick(self, now: datetime) -> datetime:
        """The latest cron fire time at or before `now` (UTC)."""
        now = now.replace(second=0, microsecond=0)
        if croniter.match(self.schedule, now):
            return now
        return croniter(self.schedule, now).get_prev(datetime)

    def _active_store_ids(self) -> list[int]:
        with self.runtime.db.session() as session:
            return list(session.scalars(select(Store.id).where(Store.active.is_(True))))

    def enqueue_due(self, now: datetime) -> list[int]:
        """Enqueue the sync of every active store whose current tick has not been handled yet.

        A store backing off from an Amazon outage is left to `retry_after_outage`."""
        tick = self.due_tick(now)
        enqueued = []
        for store_id in self._active_store_ids():
            key = TICK_KEY.format(store_id=store_id, tick=int(tick.timestamp()))
            if not self.redis.set(key, self.name, nx=True, ex=7 * 24 * 3600):
                continue
            if backing_off(self.redis, store_id, now):
                continue
            if queues.enqueue_sync(self.redis, store_id) is not None:
                enqueued.append(store_id)
        if enqueued:
            log.info("tick %s: enqueued sync for stores %s", tick.isoformat(), enqueued)
        return enqueued

    # -- sweeps ---------------------------------------------------------------------------------------

    def requeue_abandoned_jobs(self, now: datetime) -> None:
        """Hand RQ's started-job registries their cleanup: a job whose worker stopped beating is re-queued
        (or failed when it has no retries left). RQ runs this only at a worker's maintenance (10 min)."""
        for q in Queue.all(connection=self.redis):
            StartedJobRegistry(queue=q).cleanup()

    def retry_turned_away_syncs(self, now: datetime) -> list[int]:
        """Queue the sync of each store whose last sync found the lease held (say, by a killed worker whose
        lease has run out since)."""
        enqueued = [
            store_id for store_id in self._active_store_ids()
            if sync_wanted(self.redis, store_id) and queues.enqueue_sync(self.redis, store_id) is not None
        ]
        if enqueued:
            log.info("sync lease free again: sync queued for stores %s", enqueued)
        return enqueued

    def retry_after_outage(self, now: datetime) -> list[int]:
        """Queue the sync of each store whose Amazon back-off has passed."""
        enqueued = []
        for store_id in self._active_store_ids():
            outage = current_outage(self.redis, store_id)
            if outage is None or not outage.retry_pending or not outage.passed(now):
                continue
            queues.enqueue_sync(self.redis, store_id)
            retry_queued(self.redis, store_id)
            enqueued.append(store_id)
        if enqueued:
            log.info("Amazon back-off passed: sync queued again for stores %s", enqueued)
        return enqueued

    def requeue_orphaned_imports(self, now: datetime, *, include_errors: bool = False) -> list[str]:
        """Queue an import job for each order due for import that no job will run (see module docstring)."""
        states = [ImportState.QUEUED.value] + ([ImportState.ERROR.value] if include_errors else [])
        with self.runtime.db.session() as session:
            importing = [
                store.id for store in session.scalars(select(Store).where(Store.active.is_(True)))
                if store.order_settings is None or order_settings(store.order_settings).import_enabled
            ]
            if not importing:
                return []
            rows = session.execute(
                select(AmazonOrderRecord.store_id, AmazonOrderRecord.amazon_order_id)
                .where(
                    AmazonOrderRecord.store_id.in_(importing),
                    AmazonOrderRecord.import_state.in_(states),
                    or_(AmazonOrderRecord.next_attempt_at.is_(None), AmazonOrderRecord.next_attempt_at <= now),
                    or_(AmazonOrderRecord.claim_token.is_(None), AmazonOrderRecord.claim_expires_at < now),
                )
                .order_by(AmazonOrderRecord.id)
                .limit(ORPHAN_SWEEP_LIMIT)
            ).all()
        job_ids = [queues.import_job_id(store_id, order_id) for store_id, order_id in rows]
        idle = queues.idle_job_ids(self.redis, job_ids, now=now, quiet_seconds=IMPORT_RETRY_AFTER_SECONDS)
        requeued = []
        for (store_id, order_id), job_id in zip(rows, job_ids, strict=True):
            if job_id in idle and queues.enqueue_import(self.redis, store_id, order_id) is not None:
                requeued.append(order_id)
        if requeued:
            log.info("%d orders due for import had no job; queued them", len(requeued))
        return requeued

    def sweep_outbox(self, now: datetime) -> dict[str, list[int]]:
        """Commerce -> Amazon: the outbox (anything queued, or submitted and unsettled, gets a job) and the
        Commerce poll once per store and tick (jobs.outbox_sweep)."""
        from jobs.outbox_sweep import sweep_outbox

        return sweep_outbox(self, now)

    def daily_reconcile(self, now: datetime) -> list[int]:
        """Once per store and UTC day: Amazon's orders against Commerce's (jobs.ops_tasks)."""
        return enqueue_daily_reconcile(self.runtime, now.replace(second=0, microsecond=0))

    # -- loop -----------------------------------------------------------------------------------------

    def run_once(self, now: datetime) -> None:
        """One poll of the leader: the tick's syncs, then every sweep."""
        tick = self.due_tick(now)
        new_tick = tick != self._last_tick
        self._last_tick = tick
        self.enqueue_due(now)
        for sweep in self.sweeps:
            try:
                if new_tick and sweep == self.requeue_orphaned_imports:
                    self.requeue_orphaned_imports(now, include_errors=True)
                else:
                    sweep(now)
            except (RedisError, SQLAlchemyError):
                raise
            except Exception:  # one broken sweep must not stop the ticks or the other sweeps
                log.exception("scheduler sweep %s failed", getattr(sweep, "__name__", sweep))

    def run(self, *, poll_seconds: float = 5.0, stop: Callable[[], bool] = lambda: False) -> None:
        log.info("scheduler %s started; schedule %r (UTC)", self.name, self.schedule)
        delay = 1.0
        try:
            while not stop():
                try:
                    if self.is_leader():
                        self.run_once(datetime.fromtimestamp(self.clock(), UTC))
                    delay = 1.0
                    time.sleep(poll_seconds)
                except (RedisError, SQLAlchemyError) as exc:
                    log.warning("scheduler: %s (%s); trying again in %.0f s", type(exc).__name__, exc, delay)
                    time.sleep(delay)
                    delay = min(delay * 2, RECONNECT_MAX_SECONDS)
                except Exception:  # a scheduler that exits stalls every store: log, back off, go on
                    log.exception("scheduler: unexpected error; trying again in %.0f s", delay)
                    time.sleep(delay)
                    delay = min(delay * 2, RECONNECT_MAX_SECONDS)
        finally:
            with contextlib.suppress(RedisError):
                self.resign()
