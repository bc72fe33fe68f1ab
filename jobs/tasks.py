"""RQ job functions. They take ids, never objects, and are safe to run twice."""

from __future__ import annotations

import logging

from redis import RedisError

from bridge.importer.pipeline import ImportDeferred
from bridge.logs import order_context
from bridge.service import AmazonUnavailable, SyncBusy, make_importer
from bridge.service import sync_store as run_store_sync
from jobs import queues
from jobs.context import runtime

log = logging.getLogger(__name__)


def sync_store(store_id: int) -> dict:
    """Pull one store's Amazon changes and enqueue an import job per order that is due."""
    rt = runtime()
    dispatch, dispatch_changes = queues.sync_dispatchers(rt.redis, store_id)
    try:
        result = run_store_sync(rt, store_id, dispatch=dispatch, dispatch_changes=dispatch_changes)
    except SyncBusy as exc:
        log.info("%s; skipping this run", exc)
        return {"skipped": str(exc)}
    except AmazonUnavailable as exc:  # the job ends; the scheduler tries again after the back-off
        return {"amazon_unavailable_until": exc.outage.until.isoformat(), "reason": exc.outage.reason}
    try:  # what the merchant did in Commerce goes out after each sync too (the sweep does it anyway)
        queues.enqueue_commerce_poll(rt.redis, store_id)
    except RedisError as exc:  # the scheduler's next tick enqueues it
        log.warning("store %s: could not enqueue the Commerce poll: %s", store_id, exc)
    return {"orders_seen": result.orders_seen, "new": result.new, "due": len(result.due), "linked": result.linked}


def import_order(store_id: int, amazon_order_id: str) -> dict:
    """Create the Commerce order for one Amazon order, exactly once (see bridge.importer.pipeline)."""
    with order_context(amazon_order_id):  # every log line of this job carries the order id
        try:
            outcome = make_importer(runtime()).import_order(store_id, amazon_order_id)
        except ImportDeferred as exc:
            # Magento is down or slow: end the job (it would only fail again at once); the order stays queued
            # and the scheduler's sweep queues it again after a quiet time (jobs.scheduler), so no failed job
            # is left behind for work that is still going to be done.
            log.warning("order %s: import deferred: %s", amazon_order_id, exc)
            return {"state": "deferred", "message": str(exc), "increment_id": None}
    return {
        "state": outcome.state.value if outcome.state else None,
        "message": outcome.message,
        "increment_id": outcome.increment_id,
    }


def process_outbox(store_id: int) -> dict:
    """Send the store's queued actions and read the reports of feeds Amazon has finished; never waits.

    While a feed is still processing the job ends and schedules its own next run (`enqueue_in`)."""
    from rq import get_current_job

    from bridge.outbox import next_check_in
    from bridge.outbox import process_outbox as run_outbox
    from bridge.storage.models import Store, utcnow

    rt = runtime()
    job = get_current_job()
    if job is not None and job.id.startswith(queues.LATER_PREFIX):
        rt.redis.delete(queues.LATER_KEY.format(store_id=store_id))  # the pending later run is this one
    with rt.db.session() as session:
        store = session.get(Store, store_id)
        if store is None:
            return {"skipped": f"no store {store_id}"}
        amazon = rt.amazon_client(store)
    result = run_outbox(rt.db.sessionmaker, store_id, amazon, rate_scale=rt.amazon_rate_scale, redis=rt.redis)
    with rt.db.session() as session:
        delay = next_check_in(session, store_id, utcnow())
    if delay is not None:
        try:
            queues.enqueue_outbox_later(rt.redis, store_id, max(delay, 1.0))
        except RedisError as exc:  # the scheduler's sweep runs it anyway
            log.warning("store %s: could not schedule the next outbox run: %s", store_id, exc)
    return {"submitted": result.submitted, "confirmed": result.confirmed, "accepted": result.accepted,
            "rejected": result.rejected, "gave_up": result.gave_up, "recovered": result.recovered,
            "pending": result.pending, "next_run_in": delay}
def follow_amazon(store_id: int, amazon_order_id: str) -> dict:
    """Make one Commerce order follow its Amazon order (canceled, shipped); see bridge.lifecycle."""
    from bridge.lifecycle import LifecycleDeferred
    from bridge.service import make_lifecycle

    try:
        outcome = make_lifecycle(runtime()).follow(store_id, amazon_order_id)
    except LifecycleDeferred as exc:  # Magento away: the order is still due, and the next sync dispatches it
        log.warning("order %s: Commerce change deferred: %s", amazon_order_id, exc)
        return {"action": "deferred", "message": str(exc)}
    return {"action": outcome.action, "message": outcome.message}


def send_actions(store_id: int) -> dict:
    """The older name of `process_outbox` (jobs queued before an upgrade still run)."""
    return process_outbox(store_id)


def poll_commerce(store_id: int) -> dict:
    """Read what the merchant did in Commerce (shipments, credit memos, cancels) into the outbox."""
    from bridge.commerce_changes import poll_commerce as run_poll
    from bridge.storage.models import Store
    from bridge.storage.stores import order_settings

    rt = runtime()
    with rt.db.session() as session:
        store = session.get(Store, store_id)
        if store is None:
            return {"skipped": f"no store {store_id}"}
        view = order_settings(store.order_settings).store_view_code
    result = run_poll(rt.db.sessionmaker, store_id, rt.magento_client(view))
    if result.queued:
        queues.enqueue_outbox(rt.redis, store_id)
    return {"shipments": result.shipments, "creditmemos": result.creditmemos, "cancels": result.cancels,
            "queued": result.queued, "held": result.held}
