"""Is each store's sync healthy? One answer for `status`, Sync Status, the banner, /readyz and /metrics.

A store is degraded when its latest sync failed (with the side that failed, the first error of the streak
and since when) or when no sync has finished for much longer than the schedule promises (workers or the
scheduler are down, or Redis is). The admin adds what it sees live (Redis not answering).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import overload

from croniter import croniter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bridge.domain import ImportState
from bridge.service import import_counts_by_store
from bridge.storage.models import (
    ActionState,
    AmazonOrderRecord,
    OutboundAction,
    Store,
    SyncCursor,
    SyncRun,
    utcnow,
)

SIDES = ("Amazon", "Magento", "Redis", "database")
RECENT_RUNS = 50


@dataclass(frozen=True)
class StoreHealth:
    store_id: int
    store_code: str
    store_name: str
    last_ok_at: datetime | None
    lag_seconds: float | None  # how far behind Amazon the bridge has read
    queued: int
    in_error: int
    outbox: int
    degraded: bool
    side: str | None  # Amazon | Magento | Redis | database | workers
    last_error: str | None
    failing_since: datetime | None
    last_failed_at: datetime | None = None  # when the latest failed sync ended


def failing_side(error_text: str | None) -> str:
    """Which system an error came from, read from the recorded `<ExceptionType>: <message>`."""
    text = error_text or ""
    name = text.split(":", 1)[0]
    lowered = text.lower()
    if (name.startswith("Amazon") or "lwa" in lowered or "sellingpartnerapi" in lowered
            or "amazon unavailable" in lowered):  # bridge.service.AmazonUnavailable, recorded by its message
        return "Amazon"
    if name.startswith("Magento"):
        return "Magento"
    if "redis" in lowered or name in ("ConnectionError", "TimeoutError", "BusyLoadingError") \
            and "connecting to" in lowered:
        return "Redis"
    if name in ("OperationalError", "ProgrammingError", "DatabaseError", "InterfaceError", "IntegrityError"):
        return "database"
    return "bridge"


def stale_after(schedule: str, now: datetime) -> timedelta:
    """No finished sync for this long means nothing is syncing: three missed ticks, at least 15 minutes."""
    it = croniter(schedule, now)
    first = it.get_next(datetime)
    second = it.get_next(datetime)
    return max(3 * (second - first), timedelta(minutes=15))


def store_health(
    session: Session, *, schedule: str = "*/5 * * * *", now: datetime | None = None, counts: bool = True
) -> list[StoreHealth]:
    """Each store's sync health; `counts=False` leaves queued / in-error / outbox at 0 for callers that need
    only `degraded` (the admin's banner on every page: counting 100,000 orders there costs each page ~10 ms)."""
    now = now or utcnow()
    stale = stale_after(schedule, now)
    by_state: dict[int, dict[str, int]] = {}
    outbox: dict[int, int] = {}
    if counts:
        by_state = import_counts_by_store(session)
        outbox = dict(session.execute(
            select(AmazonOrderRecord.store_id, func.count())
            .join(OutboundAction, OutboundAction.order_id == AmazonOrderRecord.id)
            .where(OutboundAction.state.in_([ActionState.QUEUED.value, ActionState.SENT.value]))
            .group_by(AmazonOrderRecord.store_id)
        ).all())
    cursors = {c.store_id: c for c in session.scalars(select(SyncCursor))}
    out = []
    for store in session.scalars(select(Store).order_by(Store.name, Store.id)):
        runs = list(session.scalars(
            select(SyncRun).where(SyncRun.store_id == store.id)
            .order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(RECENT_RUNS)
        ))
        finished = [r for r in runs if r.result in ("ok", "failed")]
        last_ok = next((r for r in finished if r.result == "ok"), None)
        streak = []
        for r in finished:
            if r.result != "failed":
                break
            streak.append(r)
        cursor = cursors.get(store.id)
        lag = max((now - _aware(cursor.last_updated_after)).total_seconds(), 0.0) \
            if cursor and cursor.last_updated_after else None
        side = error = since = failed_at = None
        degraded = False
        if streak:
            degraded = True
            latest, first = streak[0], streak[-1]
            side, error, since = failing_side(latest.error_text), latest.error_text, _aware(first.started_at)
            failed_at = _aware(latest.finished_at or latest.started_at)
        elif store.active:
            last_finish = _aware(last_ok.finished_at or last_ok.started_at) if last_ok else None
            reference = last_finish or _aware(store.connected_at)
            if reference is not None and now - reference > stale:
                degraded = True
                side = "workers"
                error = (f"no sync finished since {last_finish:%Y-%m-%d %H:%M} UTC" if last_finish
                         else "no sync has finished yet") + "; check that the scheduler and workers run"
                since = reference
        c = by_state.get(store.id, {})
        out.append(StoreHealth(
            store_id=store.id, store_code=store.code, store_name=store.name,
            last_ok_at=_aware(last_ok.finished_at or last_ok.started_at) if last_ok else None,
            lag_seconds=lag, queued=c.get(ImportState.QUEUED.value, 0), in_error=c.get(ImportState.ERROR.value, 0),
            outbox=outbox.get(store.id, 0), degraded=degraded, side=side, last_error=error, failing_since=since,
            last_failed_at=failed_at,
        ))
    return out


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: datetime | None) -> datetime | None: ...
def _aware(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
