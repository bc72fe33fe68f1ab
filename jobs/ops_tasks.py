"""Operations jobs: the daily reconcile the scheduler queues (one per store per UTC day)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis import Redis

from jobs import queues
from jobs.context import runtime

log = logging.getLogger(__name__)

RECONCILE_DAY_KEY = "amazon-bridge:reconcile:{store_id}:{day}"
RECONCILE_DONE_KEY = "amazon-bridge:reconcile:done:{day}"
RECONCILE_PERIOD = timedelta(days=2)  # yesterday and today: a daily run overlaps the previous one
RECONCILE_RETRY_SECONDS = 300  # after an outage, the day's reconcile is queued again this much later


def reconcile_job_id(store_id: int) -> str:
    return f"reconcile-store-{store_id}"


def reconcile_store(store_id: int) -> dict:
    """Reconcile the last two days and save the findings (no fixes: those are an operator's call).

    When Amazon or Magento is away (an outage, throttling, a timeout) the job ends instead of failing, and the
    day's claim is shortened to RECONCILE_RETRY_SECONDS, so the scheduler queues the reconcile again after
    that: a failed job would need an operator, and the day would go unreconciled."""
    from bridge.errors import is_transient
    from bridge.reconcile import reconcile_store as run_reconcile
    from bridge.storage.models import utcnow

    now = utcnow()
    try:
        run_id = run_reconcile(runtime(), store_id, now - RECONCILE_PERIOD, actor="scheduler")
    except Exception as exc:  # noqa: BLE001 - sorted by bridge.errors; what needs a person is raised again
        if not is_transient(exc):
            raise
        day = now.strftime("%Y-%m-%d")
        connection: Redis = runtime().redis
        connection.expire(RECONCILE_DAY_KEY.format(store_id=store_id, day=day), RECONCILE_RETRY_SECONDS)
        connection.expire(RECONCILE_DONE_KEY.format(day=day), RECONCILE_RETRY_SECONDS)
        log.warning("store %s: daily reconcile put off for %d s: %s", store_id, RECONCILE_RETRY_SECONDS, exc)
        return {"retry_in_seconds": RECONCILE_RETRY_SECONDS, "reason": str(exc)}
    return {"run_id": run_id}


def enqueue_daily_reconcile(rt, now: datetime) -> list[int]:
    """Queue each active store's reconcile once per UTC day, whichever scheduler gets there first.
    Called by the leading scheduler at every poll; after the day's first call it costs one Redis GET."""
    from sqlalchemy import select

    from bridge.storage.models import Store

    day = now.strftime("%Y-%m-%d")
    connection: Redis = rt.redis
    if connection.get(RECONCILE_DONE_KEY.format(day=day)):
        return []
    with rt.db.session() as session:
        store_ids = list(session.scalars(select(Store.id).where(Store.active.is_(True))))
    queued = []
    for store_id in store_ids:
        key = RECONCILE_DAY_KEY.format(store_id=store_id, day=day)
        if not connection.set(key, "1", nx=True, ex=3 * 24 * 3600):
            continue
        job = queues._enqueue_unique(queues.queue(queues.SYNC, connection), "jobs.ops_tasks.reconcile_store",
                                     reconcile_job_id(store_id), store_id, timeout=3600,
                                     retry=queues.SYNC_RETRY)
        if job is not None:
            queued.append(store_id)
    connection.set(RECONCILE_DONE_KEY.format(day=day), "1", ex=3 * 24 * 3600)
    if queued:
        log.info("daily reconcile queued for stores %s", queued)
    return queued
