"""RQ job functions. They take ids, never objects, and are safe to run twice."""

from __future__ import annotations

import logging

from bridge.service import AmazonUnavailable, SyncBusy, make_importer
from bridge.service import sync_store as run_store_sync
from jobs import queues
from jobs.context import runtime

log = logging.getLogger(__name__)


def sync_store(store_id: int) -> dict:
    """Pull one store's Amazon changes and enqueue an import job per order that is due."""
    rt = runtime()

    def dispatch(amazon_order_ids: list[str]) -> None:
        for amazon_order_id in amazon_order_ids:
            queues.enqueue_import(rt.redis, store_id, amazon_order_id)

    try:
        result = run_store_sync(rt, store_id, dispatch=dispatch)
    except SyncBusy as exc:
        log.info("%s; skipping this run", exc)
        return {"skipped": str(exc)}
    except AmazonUnavailable as exc:  # the job ends; the scheduler tries again after the back-off
        return {"amazon_unavailable_until": exc.outage.until.isoformat(), "reason": exc.outage.reason}
    return {"orders_seen": result.orders_seen, "new": result.new, "due": len(result.due), "linked": result.linked}


def import_order(store_id: int, amazon_order_id: str) -> dict:
    """Create the Commerce order for one Amazon order, exactly once (see bridge.importer.pipeline)."""
    outcome = make_importer(runtime()).import_order(store_id, amazon_order_id)
    return {
        "state": outcome.state.value if outcome.state else None,
        "message": outcome.message,
        "increment_id": outcome.increment_id,
    }


def send_actions(store_id: int) -> dict:
    """Send the store's queued requests (cancels) to Amazon and record Amazon's answers."""
    from bridge.actions import send_actions as run_send_actions
    from bridge.storage.models import Store

    rt = runtime()
    with rt.db.session() as session:
        store = session.get(Store, store_id)
        amazon = rt.amazon_client(store)
    result = run_send_actions(rt.db.sessionmaker, store_id, amazon)
    return {"submitted": result.submitted, "done": result.done, "failed": result.failed, "pending": result.pending}
