"""Pulling Amazon changes for one store: the cursor, pagination and crash safety.

A pass asks searchOrders for everything updated after (cursor - overlap), page by page. Each page is
stored and committed before the pass remembers its pagination token, and the cursor itself moves only
when the last page is stored, to the `lastUpdatedBefore` Amazon echoed for the pass. So a crash between
pages resumes with the saved token (Amazon keeps them 24 h), and a crash anywhere else re-reads an
overlapping window, which the idempotent upsert absorbs. No order is missed because of clock edges,
pagination or a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bridge.config import SyncSettings
from bridge.storage.db import SessionFactory
from bridge.storage.models import Store, SyncCursor, SyncRun, utcnow
from bridge.storage.orders import record_unreadable, upsert_orders
from bridge.storage.stores import order_settings

if TYPE_CHECKING:
    from bridge.amazon.client import AmazonClient

log = logging.getLogger(__name__)

TOKEN_LIFETIME = timedelta(hours=23)  # Amazon's pagination tokens expire after 24 h; keep a margin
BEFORE_LAG = timedelta(minutes=2)  # Amazon's two-minute rule for *Before


@dataclass
class PullResult:
    pages: int = 0
    orders_seen: int = 0
    new: int = 0
    updated: int = 0
    queued: int = 0  # a count, not the ids: a first pass over 100,000 orders would hold every one of them
    cursor: datetime | None = None
    rejected: list[str] = field(default_factory=list)  # "<order id>: <what is wrong>", for the sync status


def initial_cursor(store: Store, settings: SyncSettings) -> datetime:
    """Where a new store's first pass starts: a look-back before it was connected, so recent orders are
    listed (and shown) even though ASC's rule keeps them from being created; earlier still when the
    merchant set an *import from* date further back, since those orders are meant to be created."""
    start = store.connected_at - timedelta(days=settings.initial_lookback_days)
    import_from = store.order_settings.import_from if store.order_settings else None
    if import_from is not None and import_from < start:
        start = import_from
    return start


def pull_changes(
    session_factory: SessionFactory,
    store_id: int,
    amazon: AmazonClient,
    settings: SyncSettings,
    *,
    now: Callable[[], datetime] = utcnow,
    run_id: int | None = None,
) -> PullResult:
    """One pass over Amazon's changes for a store."""
    result = PullResult()
    with session_factory() as session:
        store = session.get_one(Store, store_id)
        cursor = store.cursor or SyncCursor(store_id=store_id)
        if store.cursor is None:
            session.add(cursor)
        started = now()
        resuming = bool(
            cursor.next_token
            and cursor.pass_after is not None
            and cursor.pass_started_at is not None
            and started - cursor.pass_started_at < TOKEN_LIFETIME
        )
        if not resuming:
            base = cursor.last_updated_after or initial_cursor(store, settings)
            cursor.pass_after = base - timedelta(minutes=settings.overlap_minutes)
            cursor.pass_before = None
            cursor.next_token = None
            cursor.pass_started_at = started
        else:
            log.info("store %s: resuming a sync pass from its saved pagination token", store.code)
        pass_after = cursor.pass_after
        token = cursor.next_token
        session.commit()

    while True:
        page = amazon.search_orders(
            last_updated_after=pass_after, pagination_token=token, page_size=settings.page_size
        )
        with session_factory() as session:
            store = session.get_one(Store, store_id)
            upsert = upsert_orders(session, store_id, list(zip(page.orders, page.raw, strict=True)),
                                   order_settings(store.order_settings))
            for raw, error in page.rejected:
                record_unreadable(session, store_id, raw, str(error))
            cursor = session.get_one(SyncCursor, store_id)
            if cursor.pass_before is None:
                cursor.pass_before = page.last_updated_before or (now() - BEFORE_LAG)
            cursor.next_token = page.next_token
            if run_id is not None:
                run = session.get_one(SyncRun, run_id)
                run.pages += 1
                run.orders_seen += len(page.orders)
            session.commit()
        result.pages += 1
        result.orders_seen += len(page.orders)
        result.new += upsert.new
        result.updated += upsert.updated
        result.queued += len(upsert.queued)
        for raw, error in page.rejected:
            order_id = raw.get("orderId") if isinstance(raw, dict) else None  # Amazon may send a non-object
            log.warning("store %s: Amazon order %s could not be read: %s", store_id, order_id, error)
            result.rejected.append(f"{order_id or '?'}: {error}")
        token = page.next_token
        if not token:
            break

    with session_factory() as session:
        cursor = session.get_one(SyncCursor, store_id)
        cursor.last_updated_after = _aware(cursor.pass_before)
        cursor.next_token = None
        cursor.pass_after = None
        cursor.pass_started_at = None
        result.cursor = cursor.last_updated_after
        session.commit()
    return result


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
