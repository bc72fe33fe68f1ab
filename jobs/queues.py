"""Queue names and enqueue helpers: the one place that decides job ids, retries and time-outs.

Job ids are derived from the work (store, order), and enqueued with `unique=True`, so the same work
queued twice while the first is still pending is one job, not two.
"""

from __future__ import annotations

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job

SYNC = "sync"
ORDERS = "orders"
ACTIONS = "actions"
ALL_QUEUES = (SYNC, ORDERS, ACTIONS)

# Back-off for transient failures (Amazon/Magento down, throttled beyond the client's own retries).
RETRY = Retry(max=5, interval=[10, 30, 120, 300, 900])
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600  # failed jobs stay visible for a week, then their unique id frees up


def queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection)


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)


def sync_job_id(store_id: int) -> str:
    return f"sync-store-{store_id}"


def import_job_id(store_id: int, amazon_order_id: str) -> str:
    return f"import-{store_id}-{_safe(amazon_order_id)}"


def _enqueue_unique(q: Queue, func: str, job_id: str, *args, timeout: int) -> Job | None:
    """Enqueue unless a job with this id is still queued/running; a finished or failed one is replaced."""
    existing = Job.fetch(job_id, connection=q.connection) if Job.exists(job_id, connection=q.connection) else None
    if existing is not None:
        status = existing.get_status(refresh=True)
        if status in ("queued", "started", "scheduled", "deferred"):
            return None
        existing.delete()
    try:
        return q.enqueue(
            func,
            *args,
            job_id=job_id,
            unique=True,
            retry=RETRY,
            job_timeout=timeout,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
        )
    except DuplicateJobError:
        return None


def enqueue_sync(connection: Redis, store_id: int) -> Job | None:
    return _enqueue_unique(
        queue(SYNC, connection), "jobs.tasks.sync_store", sync_job_id(store_id), store_id, timeout=3600
    )


def enqueue_import(connection: Redis, store_id: int, amazon_order_id: str) -> Job | None:
    return _enqueue_unique(
        queue(ORDERS, connection),
        "jobs.tasks.import_order",
        import_job_id(store_id, amazon_order_id),
        store_id,
        amazon_order_id,
        timeout=600,
    )


def outbox_job_id(store_id: int) -> str:
    return f"outbox-store-{store_id}"


def enqueue_outbox(connection: Redis, store_id: int) -> Job | None:
    """Run the store's outbox now (send queued actions, read finished feeds' reports); never waits."""
    return _enqueue_unique(queue(ACTIONS, connection), "jobs.tasks.process_outbox", outbox_job_id(store_id),
                           store_id, timeout=900)


LATER_KEY = "amazon-bridge:outbox-later:{store_id}"
LATER_PREFIX = "outbox-later-"


def enqueue_outbox_later(connection: Redis, store_id: int, delay_seconds: float) -> Job | None:
    """Run the store's outbox again in `delay_seconds` (RQ's `enqueue_in`), at most one such run pending.

    Called from inside an outbox job, whose own id is busy, so the later run has its own id; a Redis key
    (cleared when that run starts, expiring by itself) keeps a second one from being scheduled."""
    from datetime import timedelta
    from uuid import uuid4

    if not connection.set(LATER_KEY.format(store_id=store_id), "1", nx=True, ex=int(delay_seconds) + 120):
        return None
    return queue(ACTIONS, connection).enqueue_in(
        timedelta(seconds=delay_seconds), "jobs.tasks.process_outbox", store_id,
        job_id=f"{LATER_PREFIX}{store_id}-{uuid4().hex[:12]}", retry=RETRY, job_timeout=900,
        result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
    )


def lifecycle_job_id(store_id: int, amazon_order_id: str) -> str:
    return f"follow-{store_id}-{_safe(amazon_order_id)}"


def enqueue_follow(connection: Redis, store_id: int, amazon_order_id: str) -> Job | None:
    """The Commerce order of one Amazon order follows Amazon (canceled, shipped): bridge.lifecycle."""
    return _enqueue_unique(
        queue(ORDERS, connection),
        "jobs.tasks.follow_amazon",
        lifecycle_job_id(store_id, amazon_order_id),
        store_id,
        amazon_order_id,
        timeout=600,
    )


def enqueue_actions(connection: Redis, store_id: int) -> Job | None:
    """The older name of `enqueue_outbox`."""
    return enqueue_outbox(connection, store_id)


def commerce_poll_job_id(store_id: int) -> str:
    return f"commerce-poll-{store_id}"


def enqueue_commerce_poll(connection: Redis, store_id: int) -> Job | None:
    return _enqueue_unique(
        queue(SYNC, connection), "jobs.tasks.poll_commerce", commerce_poll_job_id(store_id), store_id, timeout=900
    )
