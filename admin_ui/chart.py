"""The Sync Status chart: orders imported and errors per hour over 7 days, and the sync lag, as inline SVG.

Rendered on the server from the order events and sync runs (no JavaScript, no build step); every number
that reaches the markup is computed here, so nothing from Amazon is interpolated into the SVG.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape
from sqlalchemy import func, select

from bridge.storage.models import AmazonOrderRecord, OrderEvent, SyncRun, utcnow

HOURS = 7 * 24
WIDTH, HEIGHT = 840, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 52, 12, 28


@dataclass(frozen=True)
class ChartData:
    start: datetime
    imported: list[int]
    errors: list[int]
    lag_minutes: list[float | None]  # at the end of each hour: minutes since the last good sync


def _hour_index(start: datetime, at: datetime) -> int:
    if at.tzinfo is None:
        at = at.replace(tzinfo=start.tzinfo)
    return int((at - start).total_seconds() // 3600)


def chart_data(session, store_ids: Collection[int] | None = None, now: datetime | None = None) -> ChartData:
    """The chart of the given stores (None: all of them)."""
    now = now or utcnow()
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=HOURS)
    imported, errors = [0] * HOURS, [0] * HOURS
    query = (select(OrderEvent.kind, OrderEvent.at).join(AmazonOrderRecord, AmazonOrderRecord.id == OrderEvent.order_id)
             .where(OrderEvent.at >= start, OrderEvent.kind.in_(["imported", "error"])))
    if store_ids is not None:
        query = query.where(AmazonOrderRecord.store_id.in_(sorted(store_ids)))
    for kind, at in session.execute(query):
        i = _hour_index(start, at)
        if 0 <= i < HOURS:
            (imported if kind == "imported" else errors)[i] += 1
    runs = select(SyncRun.finished_at).where(SyncRun.result == "ok", SyncRun.finished_at.is_not(None))
    if store_ids is not None:
        runs = runs.where(SyncRun.store_id.in_(sorted(store_ids)))
    before = session.scalar(select(func.max(SyncRun.finished_at)).where(
        SyncRun.result == "ok", SyncRun.finished_at < start,
        *([SyncRun.store_id.in_(sorted(store_ids))] if store_ids is not None else [])))
    finishes = sorted(at for at in session.scalars(runs.where(SyncRun.finished_at >= start)))
    lag: list[float | None] = []
    last = before
    j = 0
    for h in range(HOURS):
        boundary = start + timedelta(hours=h + 1)
        while j < len(finishes) and _aware(finishes[j], start) <= boundary:
            last = finishes[j]
            j += 1
        if boundary > now:
            boundary = now
        lag.append(None if last is None else max((boundary - _aware(last, start)).total_seconds() / 60, 0.0))
    return ChartData(start, imported, errors, lag)


def _aware(value: datetime, like: datetime) -> datetime:
    return value.replace(tzinfo=like.tzinfo) if value.tzinfo is None else value


def render_svg(data: ChartData) -> Markup:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / HOURS
    top_count = max([*data.imported, *data.errors, 1])
    lags = [v for v in data.lag_minutes if v is not None]
    top_lag = max([*lags, 1.0])
    parts = [
        f'<svg class="sync-chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="sync-chart-title">',
        f'<title id="sync-chart-title">Orders imported and errors per hour over 7 days '
        f'({sum(data.imported)} imported, {sum(data.errors)} errors), and the sync lag</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#ccc"/>',
    ]
    for day in range(8):  # day lines and labels
        x = LEFT + day * 24 * bar_w
        label = (data.start + timedelta(days=day)).strftime("%a %d")
        parts.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#eee"/>')
        if day < 7:
            parts.append(f'<text x="{x + 3:.1f}" y="{HEIGHT - 10}" font-size="11" fill="#555">{escape(label)}</text>')
    for h, (ok, bad) in enumerate(zip(data.imported, data.errors, strict=True)):
        x = LEFT + h * bar_w
        if ok:
            hgt = ok / top_count * plot_h
            parts.append(f'<rect class="bar-imported" x="{x:.1f}" y="{TOP + plot_h - hgt:.1f}" width="{bar_w:.2f}" '
                         f'height="{hgt:.1f}" fill="#5b8116"><title>{ok} imported</title></rect>')
        if bad:
            hgt = bad / top_count * plot_h
            parts.append(f'<rect class="bar-error" x="{x:.1f}" y="{TOP + plot_h - hgt:.1f}" width="{bar_w:.2f}" '
                         f'height="{hgt:.1f}" fill="#e22626" opacity="0.8"><title>{bad} errors</title></rect>')
    points = []
    for h, lag in enumerate(data.lag_minutes):
        if lag is None:
            continue
        x = LEFT + (h + 1) * bar_w
        y = TOP + plot_h - min(lag / top_lag, 1.0) * plot_h
        points.append(f"{x:.1f},{y:.1f}")
    if points:
        parts.append(f'<polyline class="line-lag" points="{" ".join(points)}" fill="none" stroke="#1979c3" '
                     'stroke-width="1.5"/>')
    parts += [
        f'<text x="{LEFT - 4}" y="{TOP + 10}" font-size="11" text-anchor="end" fill="#333">{top_count}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" font-size="11" text-anchor="end" fill="#333">0</text>',
        f'<text x="{WIDTH - RIGHT + 4}" y="{TOP + 10}" font-size="11" fill="#1979c3">{top_lag:.0f} min</text>',
        f'<text x="{WIDTH - RIGHT + 4}" y="{TOP + plot_h}" font-size="11" fill="#1979c3">0</text>',
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 - built from numbers and escaped labels only
