"""Backfill: import a store's past orders for a date range Amazon allows, under the same rules as the sync.

Two phases, both resumable. Listing asks searchOrders for orders *created* in the range, page by page;
each page is stored before its pagination token is saved (as the sync's cursor does), so a crash resumes
at the saved page. Importing then takes the range's orders that are due, oldest first; an imported order
is no longer due, so a second run continues where the first stopped. The Amazon calls go through the
same Redis throttle as the sync's, so a backfill only takes the tokens the running sync leaves.

Orders placed before the store's *Import Orders Placed From* date are never created (ASC's rule), so a
backfill starting earlier moves that setting back to its start (`widen_import_from`, said on screen);
every other rule (status, FBA, SKU mapping) applies unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, select

from bridge.domain import ImportState
from bridge.errors import BridgeError
from bridge.logs import order_context
from bridge.runtime import Runtime
from bridge.storage.models import AmazonOrderRecord, BackfillRun, Store, utcnow
from bridge.storage.orders import record_unreadable, upsert_orders
from bridge.storage.stores import order_settings

if TYPE_CHECKING:
    from bridge.importer.pipeline import OrderImporter

log = logging.getLogger(__name__)

BEFORE_LAG = timedelta(minutes=2)  # Amazon refuses a *Before less than two minutes before now
MAX_AGE = timedelta(days=730)  # Amazon keeps orders searchable for about two years
IMPORT_BATCH = 500  # due orders read per query while importing


class RangeRefused(BridgeError):
    """A date range Amazon would refuse; the message says which end and why."""


@dataclass
class Progress:
    phase: str  # "listing" | "importing" | "done"
    seen: int
    imported: int
    errors: int
    done: int = 0  # imports attempted in this phase
    total: int = 0  # imports due in this phase


def check_range(since: datetime, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The (createdAfter, createdBefore) to ask for, or RangeRefused for a range Amazon refuses."""
    latest = now - BEFORE_LAG
    until = until or latest
    if since >= latest:
        raise RangeRefused(
            f"--since {since:%Y-%m-%d %H:%M} UTC is not in the past: Amazon lists orders created at least two "
            "minutes ago; choose an earlier date"
        )
    if until > latest:
        raise RangeRefused(
            f"--until {until:%Y-%m-%d %H:%M} UTC is later than two minutes ago, which Amazon refuses; leave it out "
            "to mean now"
        )
    if until <= since:
        raise RangeRefused("--until must be later than --since")
    if since < now - MAX_AGE:
        raise RangeRefused(
            f"--since {since:%Y-%m-%d} is more than two years ago; Amazon no longer lists orders that old"
        )
    return since, until


def widen_import_from(runtime: Runtime, store_id: int, since: datetime) -> datetime | None:
    """Move the store's *import from* back to `since` when it is later; returns the old value if moved."""
    with runtime.db.session() as session:
        settings = session.get_one(Store, store_id).order_settings
        old = settings.import_from
        if old is not None and old.tzinfo is None:
            old = old.replace(tzinfo=since.tzinfo)
        if old is None or old <= since:
            return None
        settings.import_from = since
        return old


def find_or_start(runtime: Runtime, store_id: int, since: datetime, until: datetime,
                  *, until_given: bool = True) -> tuple[int, bool]:
    """The unfinished run for this range (resumed), else a new one. Without an explicit --until, "until
    now" means the unfinished run's own end. Returns (run id, resumed)."""
    with runtime.db.session() as session:
        query = select(BackfillRun).where(
            BackfillRun.store_id == store_id,
            BackfillRun.created_after == since,
            BackfillRun.state == "running",
        )
        if until_given:
            query = query.where(BackfillRun.created_before == until)
        run = session.scalar(query.order_by(BackfillRun.id.desc()).limit(1))
        if run is not None:
            return run.id, True
        run = BackfillRun(store_id=store_id, created_after=since, created_before=until)
        session.add(run)
        session.flush()
        return run.id, False


def _due_batch(runtime: Runtime, due_now: tuple[ColumnElement[bool], ...],
               after: tuple[datetime, int] | None) -> list[tuple[str, datetime, int]]:
    """The next `IMPORT_BATCH` due orders after `after` in (purchase date, id) order, as (id, date, row id):
    a range of 100,000 orders is never held in memory at once."""
    query = select(AmazonOrderRecord.amazon_order_id, AmazonOrderRecord.purchase_date, AmazonOrderRecord.id).where(
        *due_now)
    if after is not None:
        date, row_id = after
        query = query.where((AmazonOrderRecord.purchase_date > date)
                            | ((AmazonOrderRecord.purchase_date == date) & (AmazonOrderRecord.id > row_id)))
    with runtime.db.session() as session:
        return [(order_id, date, row_id) for order_id, date, row_id in session.execute(
            query.order_by(AmazonOrderRecord.purchase_date, AmazonOrderRecord.id).limit(IMPORT_BATCH))]


def _import_one(runtime: Runtime, importer: OrderImporter, run_id: int, store_id: int, amazon_order_id: str,
                progress: Progress) -> None:
    with order_context(amazon_order_id):
        outcome = importer.import_order(store_id, amazon_order_id, actor="backfill")
    state = outcome.state.value if outcome.state else None
    with runtime.db.session() as session:
        run = session.get_one(BackfillRun, run_id)
        if state == ImportState.IMPORTED.value:
            run.imported += 1
        elif state == ImportState.ERROR.value:
            run.errors += 1
        progress.imported, progress.errors = run.imported, run.errors
    progress.done += 1


def run_backfill(
    runtime: Runtime,
    run_id: int,
    *,
    on_progress: Callable[[Progress], None] = lambda progress: None,
    importer: OrderImporter | None = None,
) -> Progress:
    from bridge.service import make_importer

    importer = importer or make_importer(runtime)
    with runtime.db.session() as session:
        run = session.get_one(BackfillRun, run_id)
        store = session.get_one(Store, run.store_id)
        store_id, since, until = store.id, run.created_after, run.created_before
        settings = order_settings(store.order_settings)  # import_from already widened by the caller
        amazon = runtime.amazon_client(store)
        listed, token = run.listed, run.next_token
        progress = Progress("listing", run.seen, run.imported, run.errors)
    on_progress(progress)
    while not listed:
        page = amazon.search_orders(created_after=since, created_before=until, pagination_token=token,
                                    page_size=runtime.settings.sync.page_size)
        with runtime.db.session() as session:
            upsert_orders(session, store_id, list(zip(page.orders, page.raw, strict=True)), settings)
            for raw, error in page.rejected:
                record_unreadable(session, store_id, raw, str(error))
            run = session.get_one(BackfillRun, run_id)
            run.pages += 1
            run.seen += len(page.orders)
            run.next_token = page.next_token
            run.listed = listed = not page.next_token
            token = page.next_token
            progress.seen = run.seen
        on_progress(progress)

    due_now = (
        AmazonOrderRecord.store_id == store_id,
        AmazonOrderRecord.purchase_date >= since,
        AmazonOrderRecord.purchase_date < until,
        AmazonOrderRecord.import_state.in_([ImportState.QUEUED.value, ImportState.ERROR.value]),
    )
    with runtime.db.session() as session:
        total = session.scalar(select(func.count()).select_from(AmazonOrderRecord).where(*due_now)) or 0
    progress.phase, progress.total, progress.done = "importing", total, 0
    on_progress(progress)
    # (purchase_date, id) of the last order taken: each order is tried once per run, oldest first
    after: tuple[datetime, int] | None = None
    while batch := _due_batch(runtime, due_now, after):
        after = batch[-1][1:]
        for amazon_order_id, _, _ in batch:
            _import_one(runtime, importer, run_id, store_id, amazon_order_id, progress)
            on_progress(progress)
    with runtime.db.session() as session:
        run = session.get_one(BackfillRun, run_id)
        run.state = "done"
        run.finished_at = utcnow()
    progress.phase = "done"
    on_progress(progress)
    log.info("store %s: backfill %s..%s done: %d seen, %d imported, %d in error",
             store_id, since.isoformat(), until.isoformat(), progress.seen, progress.imported, progress.errors)
    return progress
