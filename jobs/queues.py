"""Queue names and enqueue helpers: the one place that decides job ids, retries and time-outs.

Job ids are derived from the work (store, order), and enqueued with `unique=True`, so the same work
queued twice while the first is still pending is one job, not two.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.utils import utcparse

SYNC = "sync"
ORDERS = "orders"
ACTIONS = "actions"
ALL_QUEUES = (SYNC, ORDERS, ACTIONS)

# No job waits in RQ's scheduled registry for a retry: a `Retry` interval with a unique job id blocks every
# new enqueue of that work until it comes due (and a dead worker holding RQ's scheduler lock leaves it
# overdue). Retries are immediate and few; they re-run a job whose work-horse or worker was killed (an
# abandoned job found by the scheduler's sweep). Longer back-off is the scheduler's job: it queues a
# store's sync at the next tick or when the store's Amazon back-off has passed (`bridge.outage`), and
# re-queues every order the database says is due but no job will run (`jobs.scheduler`).
SYNC_RETRY = Retry(max=1)
IMPORT_RETRY = Retry(max=3)
ACTIONS_RETRY = Retry(max=3)
PENDING_STATUSES = frozenset({"queued", "started", "scheduled", "deferred"})
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


def idle_job_ids(connection: Redis, job_ids: list[str], *, now: datetime, quiet_seconds: float) -> set[str]:
    """Of these job ids, those no job will run: never queued (or lost with Redis), lost by a worker killed as it
    took it (see LOST_AFTER_SECONDS), or ended (finished, failed, stopped) more than `quiet_seconds` ago. The
    quiet time is the back-off of work that keeps failing (Magento down), so a sweep does not re-run every order
    at every poll. One round trip, and a second only for jobs queued longer than LOST_AFTER_SECONDS."""
    pipe = connection.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hmget(Job.key_for(job_id), "status", "ended_at", "enqueued_at", "origin")
    idle, long_queued = set(), []
    for job_id, (status, ended_at, enqueued_at, origin) in zip(job_ids, pipe.execute(), strict=True):
        if status is None:
            idle.add(job_id)
        elif status.decode() == "queued":
            if _older_than(enqueued_at, now, LOST_AFTER_SECONDS) and origin:
                long_queued.append((job_id, origin.decode()))
        elif status.decode() not in PENDING_STATUSES:
            ended = _parse(ended_at)
            if ended is None or (now - ended).total_seconds() >= quiet_seconds:
                idle.add(job_id)
    if long_queued:
        pipe = connection.pipeline(transaction=False)
        for job_id, origin in long_queued:
            pipe.lpos(Queue(origin, connection=connection).key, job_id)
        idle.update(job_id for (job_id, _), position in zip(long_queued, pipe.execute(), strict=True)
                    if position is None)
    return idle


# RQ pops a job's id off its queue, then records it as started, within milliseconds. A worker SIGKILLed
# between the two leaves the job `queued` in no queue and no registry: no worker will ever run it, RQ's cleanups
# do not see it, and its unique id would refuse every later enqueue of that work (a store that never syncs
# again, an order that never imports). Queued this long and missing from its queue, a job is lost: it counts as
# idle, and an enqueue replaces it like a finished one.
LOST_AFTER_SECONDS = 60.0


def _parse(raw: bytes | None) -> datetime | None:
    return utcparse(raw.decode()).replace(tzinfo=UTC) if raw else None


def _older_than(raw: bytes | None, now: datetime, seconds: float) -> bool:
    at = _parse(raw)
    return at is not None and (now - at).total_seconds() >= seconds


def _delete(job: Job) -> None:
    """`job.delete()`, also for a job a killed worker left with a dangling execution record: RQ 2.12 raises
    ValueError ("Execution ... not found in Redis") when an execution's hash expired before its registry
    entry did, and that job's id could then never be queued again."""
    try:
        job.delete()
    except ValueError:
        job.connection.delete(job.execution_registry.key)
        job.delete()


def _enqueue_unique(q: Queue, func: str, job_id: str, *args, timeout: int, retry: Retry) -> Job | None:
    """Enqueue unless a job with this id is still queued/running; a finished or failed one is replaced."""
    existing = Job.fetch(job_id, connection=q.connection) if Job.exists(job_id, connection=q.connection) else None
    if existing is not None:
        status = existing.get_status(refresh=True)
        lost = status == "queued" and job_id in idle_job_ids(q.connection, [job_id], now=datetime.now(UTC),
                                                              quiet_seconds=0)
        if status in PENDING_STATUSES and not lost:
            return None
        _delete(existing)
    try:
        return q.enqueue(
            func,
            *args,
            job_id=job_id,
            unique=True,
            retry=retry,
            job_timeout=timeout,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
        )
    except DuplicateJobError:
        return None


def enqueue_sync(connection: Redis, store_id: int) -> Job | None:
    return _enqueue_unique(
        queue(SYNC, connection), "jobs.tasks.sync_store", sync_job_id(store_id), store_id,
        timeout=3600, retry=SYNC_RETRY,
    )


def enqueue_import(connection: Redis, store_id: int, amazon_order_id: str) -> Job | None:
    return _enqueue_unique(
        queue(ORDERS, connection),
        "jobs.tasks.import_order",
        import_job_id(store_id, amazon_order_id),
        store_id,
        amazon_order_id,
        timeout=600,
        retry=IMPORT_RETRY,
    )


def outbox_job_id(store_id: int) -> str:
    return f"outbox-store-{store_id}"


def enqueue_outbox(connection: Redis, store_id: int) -> Job | None:
    """Run the store's outbox now (send queued actions, read finished feeds' reports); never waits."""
    return _enqueue_unique(queue(ACTIONS, connection), "jobs.tasks.process_outbox", outbox_job_id(store_id),
                           store_id, timeout=900, retry=ACTIONS_RETRY)


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
        job_id=f"{LATER_PREFIX}{store_id}-{uuid4().hex[:12]}", retry=ACTIONS_RETRY, job_timeout=900,
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
        retry=IMPORT_RETRY,
    )


def sync_dispatchers(
    connection: Redis, store_id: int
) -> tuple[Callable[[list[str]], None], Callable[[list[str]], None]]:
    """What a sync hands its orders to: (one import job per order due, one follow job per changed order)."""

    def dispatch(amazon_order_ids: list[str]) -> None:
        for amazon_order_id in amazon_order_ids:
            enqueue_import(connection, store_id, amazon_order_id)

    def dispatch_changes(amazon_order_ids: list[str]) -> None:
        for amazon_order_id in amazon_order_ids:
            enqueue_follow(connection, store_id, amazon_order_id)

    return dispatch, dispatch_changes


def enqueue_actions(connection: Redis, store_id: int) -> Job | None:
    """The older name of `enqueue_outbox`."""
    return enqueue_outbox(connection, store_id)


def commerce_poll_job_id(store_id: int) -> str:
    return f"commerce-poll-{store_id}"


def enqueue_commerce_poll(connection: Redis, store_id: int) -> Job | None:
    return _enqueue_unique(
        queue(SYNC, connection), "jobs.tasks.poll_commerce", commerce_poll_job_id(store_id), store_id, timeout=900,
        retry=SYNC_RETRY,
    )
