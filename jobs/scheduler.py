"""The periodic sync: enqueue `sync_store` for every active store on the configured cron schedule.

Exactly one scheduler acts at a time: each holds for a short lease a Redis key naming the leader, and
only the holder enqueues. A second scheduler started by mistake waits as a standby and takes over if the
first dies. Each (store, tick) is also claimed once in Redis, and the sync job id is unique, so even a
split-brain moment cannot queue a store's sync twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

from croniter import croniter
from redis import Redis
from sqlalchemy import select

from bridge.runtime import Runtime
from bridge.storage.models import Store
from jobs import queues
from jobs.ops_tasks import enqueue_daily_reconcile

log = logging.getLogger(__name__)

LEADER_KEY = "amazon-bridge:scheduler:leader"
TICK_KEY = "amazon-bridge:scheduler:tick:{store_id}:{tick}"
LEASE_SECONDS = 30


class Scheduler:
    def __init__(self, runtime: Runtime, *, clock: Callable[[], float] = time.time, name: str | None = None):
        self.runtime = runtime
        self.redis: Redis = runtime.redis
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.schedule = runtime.settings.sync.schedule

    def is_leader(self) -> bool:
        """Take or renew the leader lease; True when this scheduler holds it."""
        if self.redis.set(LEADER_KEY, self.name, nx=True, ex=LEASE_SECONDS):
            log.info("scheduler %s is now the leader", self.name)
            return True
        current = self.redis.get(LEADER_KEY)
        if current is not None and current.decode() == self.name:
            self.redis.expire(LEADER_KEY, LEASE_SECONDS)
            return True
        return False

    def resign(self) -> None:
        current = self.redis.get(LEADER_KEY)
        if current is not None and current.decode() == self.name:
            self.redis.delete(LEADER_KEY)

    def due_tick(self, now: datetime) -> datetime:
        """The latest cron fire time at or before `now` (UTC)."""
        now = now.replace(second=0, microsecond=0)
        if croniter.match(self.schedule, now):
            return now
        return croniter(self.schedule, now).get_prev(datetime)

    def enqueue_due(self, now: datetime) -> list[int]:
        """Enqueue the sync of every active store whose current tick has not been handled yet."""
        tick = self.due_tick(now)
        with self.runtime.db.session() as session:
            store_ids = list(session.scalars(select(Store.id).where(Store.active.is_(True))))
        enqueued = []
        for store_id in store_ids:
            key = TICK_KEY.format(store_id=store_id, tick=int(tick.timestamp()))
            if not self.redis.set(key, self.name, nx=True, ex=7 * 24 * 3600):
                continue
            if queues.enqueue_sync(self.redis, store_id) is not None:
                enqueued.append(store_id)
        if enqueued:
            log.info("tick %s: enqueued sync for stores %s", tick.isoformat(), enqueued)
        return enqueued

    def sweep_outbox(self, now: datetime) -> dict[str, list[int]]:
        """Commerce -> Amazon: the outbox sweep and the Commerce poll (jobs.outbox_sweep)."""
        from jobs.outbox_sweep import sweep_outbox

        try:
            return sweep_outbox(self, now)
        except Exception as exc:  # noqa: BLE001 - the next tick sweeps again; the sync schedule goes on
            log.warning("outbox sweep failed: %s", exc)
            return {}

    def run(self, *, poll_seconds: float = 5.0, stop: Callable[[], bool] = lambda: False) -> None:
        log.info("scheduler %s started; schedule %r (UTC)", self.name, self.schedule)
        try:
            while not stop():
                if self.is_leader():
                    now = datetime.fromtimestamp(self.clock(), UTC)
                    self.enqueue_due(now.replace(second=0, microsecond=0))
                    self.sweep_outbox(now)
                    enqueue_daily_reconcile(self.runtime, now.replace(second=0, microsecond=0))
                time.sleep(poll_seconds)
        finally:
            self.resign()
