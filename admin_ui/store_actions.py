"""A store's buttons on its dashboard (Recent Orders): *Sync now* and *Retry all in error* (operators).

Both only queue jobs, through jobs.queues' helpers, like the scheduler does: the page answers at once and a
worker does the work. The database is written first, so when Redis does not answer the next scheduled sync
still picks the orders up, and the merchant is told so.
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from redis import RedisError
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from bridge.domain import ImportState
from bridge.storage.models import AmazonOrderRecord, Role
from bridge.storage.orders import add_event

from . import get_runtime
from .auth import require_role
from .banners import selected_store
from .extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("store_actions", __name__)

BATCH = 500


@bp.route("/stores/<store_code>/sync", methods=["POST"])
@require_role(Role.OPERATOR)
def sync_now(store_code: str):
    """Queue a sync of this store now (the same job the scheduler queues; one at a time per store)."""
    from jobs.queues import enqueue_sync

    store = selected_store(store_code)
    assert store is not None
    try:
        job = enqueue_sync(get_runtime().redis, store.id)
    except RedisError as exc:  # Redis down: say so; the scheduler syncs when it is back
        log.warning("could not enqueue a sync of %s: %s", store.code, exc)
        flash(f"The sync of {store.name} could not be queued: the job queue (Redis) did not answer.", "error")
    else:
        if job is None:
            flash(f"A sync of {store.name} is queued or running already.", "notice")
        else:
            flash(f"A sync of {store.name} is queued.", "success")
        log.info("sync of %s requested by %s", store.code, current_user.username)
    return redirect(url_for("orders.recent", store=store.code))


@bp.route("/stores/<store_code>/retry-errors", methods=["POST"])
@require_role(Role.OPERATOR)
def retry_errors(store_code: str):
    """Queue the import of every order of the store in error, in batches (each one a job, as *Retry import*)."""
    from jobs.queues import enqueue_import

    store = selected_store(store_code)
    assert store is not None
    marked: list[str] = []
    while True:
        records = db.session.scalars(
            select(AmazonOrderRecord)
            .options(selectinload(AmazonOrderRecord.events))
            .where(AmazonOrderRecord.store_id == store.id, AmazonOrderRecord.import_state == ImportState.ERROR.value)
            .order_by(AmazonOrderRecord.id)
            .limit(BATCH)
        ).all()
        if not records:
            break
        db.session.execute(
            update(AmazonOrderRecord)
            .where(AmazonOrderRecord.id.in_([r.id for r in records]),
                   AmazonOrderRecord.import_state == ImportState.ERROR.value)
            .values(import_state=ImportState.QUEUED.value, next_attempt_at=None)
        )
        for record in records:
            add_event(record, "retry", "Import retry requested (all in error).", current_user.username)
        db.session.commit()  # rows first: a fast worker must find the orders queued
        marked += [record.amazon_order_id for record in records]
    if not marked:
        flash(f"{store.name} has no orders in error; nothing to retry.", "notice")
        return redirect(url_for("orders.recent", store=store.code))
    try:
        redis = get_runtime().redis
        for amazon_order_id in marked:
            enqueue_import(redis, store.id, amazon_order_id)
    except RedisError as exc:  # the orders are queued in the database; the next sync imports them
        log.warning("could not enqueue the retry of %s orders of %s: %s", len(marked), store.code, exc)
        flash(
            f"{len(marked)} order(s) of {store.name} are marked for import, but the job queue did not answer; "
            "the next sync will import them.",
            "warning",
        )
    else:
        flash(f"Import retry queued for {len(marked)} order(s) of {store.name}.", "success")
    log.info("retry of %s orders in error of %s requested by %s", len(marked), store.code, current_user.username)
    return redirect(url_for("orders.recent", store=store.code))
