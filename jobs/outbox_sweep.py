"""The scheduler's outbox sweep: called once per scheduler tick by the leader (jobs.scheduler).

The database is the truth: every store with an action queued and due, or a feed due for a look at its
processing report, gets its outbox job enqueued (the job id is unique, so a queued one is not doubled).
A request recorded while Redis was down is therefore sent by the next tick. The Commerce poll (shipments,
credit memos, cancels) is enqueued once per store and cron tick, like the Amazon sync.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from bridge.outage import backing_off
from bridge.outbox import due_stores
from bridge.storage.models import Store
from jobs import queues

log = logging.getLogger(__name__)

COMMERCE_TICK_KEY = "amazon-bridge:scheduler:commerce:{store_id}:{tick}"
SWEPT_KEY = "amazon-bridge:scheduler:outbox-swept:{store_id}"
SWEEP_SECONDS = 30  # a store whose outbox keeps failing (e.g. revoked credentials) is re-run twice a minute


def sweep_outbox(scheduler, now: datetime) -> dict[str, list[int]]:
    """Enqueue outbox jobs for stores with due work, and this tick's Commerce poll per active store."""
    runtime, redis = scheduler.runtime, scheduler.redis
    with runtime.db.session() as session:
        outbox = due_stores(session, now)
        active = list(session.scalars(select(Store.id).where(Store.active.is_(True))))
    sent = [
        store_id for store_id in outbox
        if not backing_off(redis, store_id, now)  # Amazon is away for this store: a job would only fail
        and redis.set(SWEPT_KEY.format(store_id=store_id), scheduler.name, nx=True, ex=SWEEP_SECONDS)
        and queues.enqueue_outbox(redis, store_id) is not None
    ]
    tick = int(scheduler.due_tick(now).timestamp())
    polled = []
    for store_id in active:
        key = COMMERCE_TICK_KEY.format(store_id=store_id, tick=tick)
        claimed = redis.set(key, scheduler.name, nx=True, ex=7 * 24 * 3600)
        if claimed and queues.enqueue_commerce_poll(redis, store_id) is not None:
            polled.append(store_id)
    if sent:
        log.info("outbox sweep: enqueued the outbox of stores %s", sent)
    return {"outbox": sent, "commerce_poll": polled}
