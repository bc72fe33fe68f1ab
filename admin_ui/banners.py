"""Page-wide context: the store switcher and the warnings every page shows (ASC's system messages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, request, session, url_for
from flask_login import current_user
from redis import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from bridge.domain import ImportState
from bridge.storage.models import AmazonOrderRecord, Store, SyncRun

from .extensions import db
from .scope import can_see, store_condition


@dataclass(frozen=True)
class FailingSync:
    store: Store
    run: SyncRun


def all_stores() -> list[Store]:
    """The stores the signed-in user may see (every store for admins and unscoped users)."""
    return list(db.session.scalars(select(Store).where(store_condition(Store.id)).order_by(Store.name, Store.id)))


def selected_store(code: str | None = None) -> Store | None:
    """The store a page is about: `?store=<code>`, else the one chosen last in this session, else the first.

    An unknown code is a 404, not a silent switch to another store's orders.
    """
    code = code or request.args.get("store")
    if code:
        store = db.session.scalar(select(Store).where(Store.code == code, store_condition(Store.id)))
        if store is None:
            abort(404, f"No Amazon store {code!r}.")
        session["store_id"] = store.id
        return store
    store_id = session.get("store_id")
    if isinstance(store_id, int):
        store = db.session.get(Store, store_id)
        if store is not None and can_see(store.id):
            return store
    return db.session.scalar(select(Store).where(store_condition(Store.id)).order_by(Store.name, Store.id).limit(1))


def stores_with_errors() -> list[tuple[Store, int]]:
    """Stores that have orders which cannot be imported, with how many (indexed on store_id, import_state)."""
    rows = db.session.execute(
        select(AmazonOrderRecord.store_id, func.count())
        .where(AmazonOrderRecord.import_state == ImportState.ERROR.value, store_condition(AmazonOrderRecord.store_id))
        .group_by(AmazonOrderRecord.store_id)
    ).all()
    counts = {store_id: count for store_id, count in rows}
    if not counts:
        return []
    stores = db.session.scalars(select(Store).where(Store.id.in_(counts)).order_by(Store.name))
    return [(store, counts[store.id]) for store in stores]


def last_runs() -> dict[int, SyncRun]:
    """The latest sync run of each store: one indexed (store_id, started_at) lookup per store, so the cost
    does not grow with the years of runs the table keeps."""
    runs: dict[int, SyncRun] = {}
    for store_id in db.session.scalars(select(Store.id).where(store_condition(Store.id))):
        run = db.session.scalar(
            select(SyncRun)
            .where(SyncRun.store_id == store_id)
            .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
            .limit(1)
        )
        if run is not None:
            runs[store_id] = run
    return runs


def failing_syncs() -> list[FailingSync]:
    runs = last_runs()
    failing = [run for run in runs.values() if run.result == "failed"]
    if not failing:
        return []
    stores = {s.id: s for s in db.session.scalars(select(Store).where(Store.id.in_([r.store_id for r in failing])))}
    return [FailingSync(stores[run.store_id], run) for run in failing if run.store_id in stores]


def degraded() -> dict[str, Any]:
    """What is failing right now, for the banner on every page: stores whose sync fails or went stale
    (bridge.health decides), and Redis when it does not answer (checked live: no job runs without it)."""
    from bridge.explain import host_of
    from bridge.health import store_health

    from . import get_runtime, get_settings

    settings = get_settings()
    stores = [h for h in store_health(db.session(), schedule=settings.sync.schedule, counts=False)
              if h.degraded and can_see(h.store_id)]
    redis_error = None
    try:
        get_runtime().redis.ping()
    except RedisError as exc:
        redis_error = f"Redis at {host_of(settings.redis.url)} does not answer ({exc})"
    return {"degraded_stores": stores, "redis_down": redis_error}


def error_orders_url(store: Store) -> str:
    """Where the red banner and the *In error* count lead: All Orders filtered on Status *Error*."""
    return url_for("orders.all_orders", store=store.code, status="Error")


def banners() -> dict[str, Any]:
    """Template context for signed-in pages only: the sign-in page must not reveal store names."""
    empty: dict[str, Any] = {"error_stores": [], "failing_syncs": [], "stores": [], "degraded_stores": [],
                             "redis_down": None, "error_orders_url": error_orders_url}
    try:
        if not current_user.is_authenticated:
            return empty
        return {"error_stores": stores_with_errors(), "failing_syncs": failing_syncs(), "stores": all_stores(),
                "error_orders_url": error_orders_url, **degraded()}
    except SQLAlchemyError:  # the page itself reports the database (admin_ui.ops); the menu must not 500
        db.session.rollback()
        return empty
