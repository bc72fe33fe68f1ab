"""`amazon-bridge status | retry | backfill | reconcile`: what an operator runs by hand."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, overload

import click
from redis import RedisError

from jobs.cli import _runtime

if TYPE_CHECKING:
    from bridge.runtime import Runtime
    from bridge.storage.models import Store


def _ready_runtime(ctx: click.Context) -> Runtime:
    """The runtime, once the database answers with the current schema (else one sentence and exit 1)."""
    from bridge.explain import require_schema

    rt = _runtime(ctx)
    require_schema(rt.db.engine, rt.settings.database.url)
    return rt


def _store(rt: Runtime, ref: str) -> Store:
    from bridge.storage.stores import StoreError, get_store

    with rt.db.session() as session:
        try:
            store = get_store(session, ref)
        except StoreError as exc:
            raise click.ClickException(f"{exc}; `amazon-bridge stores list` shows the stores") from exc
        session.expunge(store)
        return store


def _refuse_missing_credentials(rt: Runtime) -> None:
    from bridge.config import missing_magento_credentials

    missing = missing_magento_credentials(rt.settings.magento)
    if missing:
        raise click.ClickException(f"Magento credentials are missing: set {', '.join(missing)} "
                                   "(nothing was sent to Magento)")


@overload
def _date(value: str, option: str) -> datetime: ...
@overload
def _date(value: str | None, option: str) -> datetime | None: ...
def _date(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not a date: {value!r} (use YYYY-MM-DD or an ISO date-time)",
                                 param_hint=option) from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@click.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Per store: last sync, lag, queued, in error, outbox; then the queues."""
    from bridge.health import store_health

    rt = _ready_runtime(ctx)
    with rt.db.session() as session:
        rows = store_health(session, schedule=rt.settings.sync.schedule)
    if not rows:
        click.echo("no store yet; add one with `amazon-bridge stores add`")
    for h in rows:
        last = f"{h.last_ok_at:%Y-%m-%d %H:%M} UTC" if h.last_ok_at else "never"
        lag = f"{int(h.lag_seconds // 60)} min" if h.lag_seconds is not None else "-"
        state = "ok" if not h.degraded else f"DEGRADED ({h.side}: {h.last_error}, since {h.failing_since:%H:%M} UTC)"
        click.echo(f"{h.store_code}: last good sync {last}, lag {lag}, queued {h.queued}, in error {h.in_error}, "
                   f"outbox {h.outbox}; {state}")
    try:
        from jobs.queues import ALL_QUEUES, queue

        counts = ", ".join(f"{name} {len(queue(name, rt.redis))} queued/"
                           f"{queue(name, rt.redis).failed_job_registry.count} failed" for name in ALL_QUEUES)
        click.echo(f"queues: {counts}")
    except RedisError as exc:  # the database side above is still worth showing
        from bridge.explain import explain

        click.echo(f"queues: {explain(exc, rt.settings) or exc}", err=True)
        sys.exit(1)


@click.command()
@click.option("--store", "store_ref", required=True, help="Store code or id.")
@click.option("--errors", "errors_only", is_flag=True, help="Only orders in error (default: every due order).")
@click.pass_context
def retry(ctx: click.Context, store_ref: str, errors_only: bool) -> None:
    """Queue the store's orders in error (and, without --errors, the queued ones) for import now."""
    from sqlalchemy import select

    from bridge.domain import ImportState
    from bridge.storage.models import AmazonOrderRecord
    from bridge.storage.orders import add_event
    from jobs import queues

    rt = _ready_runtime(ctx)
    store = _store(rt, store_ref)
    states = [ImportState.ERROR.value] if errors_only else [ImportState.ERROR.value, ImportState.QUEUED.value]
    with rt.db.session() as session:
        records = list(session.scalars(select(AmazonOrderRecord).where(
            AmazonOrderRecord.store_id == store.id, AmazonOrderRecord.import_state.in_(states))))
        for record in records:
            record.next_attempt_at = None
            add_event(record, "retry", "Retry requested from the command line.", "cli")
        ids = [r.amazon_order_id for r in records]
    queued = sum(queues.enqueue_import(rt.redis, store.id, i) is not None for i in ids)
    click.echo(f"store {store.code}: {len(ids)} order(s) due now, {queued} import job(s) queued "
               f"({len(ids) - queued} already queued or running)")


@click.command()
@click.option("--store", "store_ref", required=True, help="Store code or id.")
@click.option("--since", required=True, help="First purchase date (UTC), e.g. 2026-01-01.")
@click.option("--until", default=None, help="End of the range (UTC, exclusive); default: two minutes ago.")
@click.pass_context
def backfill(ctx: click.Context, store_ref: str, since: str, until: str | None) -> None:
    """Import past orders placed in a date range, with progress; run it again to resume after Ctrl-C."""
    from bridge.backfill import RangeRefused, check_range, find_or_start, run_backfill, widen_import_from
    from bridge.service import make_importer
    from bridge.storage.models import utcnow

    since_at, until_at = _date(since, "--since"), _date(until, "--until")
    try:
        since_at, until_at = check_range(since_at, until_at, utcnow())
    except RangeRefused as exc:
        raise click.ClickException(str(exc)) from exc
    rt = _ready_runtime(ctx)
    store = _store(rt, store_ref)
    _refuse_missing_credentials(rt)
    rt.amazon_client(store)  # missing LWA credentials or refresh token: refused before any call
    run_id, resumed = find_or_start(rt, store.id, since_at, until_at, until_given=until is not None)
    with rt.db.session() as session:
        from bridge.storage.models import BackfillRun

        until_at = session.get_one(BackfillRun, run_id).created_before
    click.echo(f"store {store.code}: backfill of orders placed {since_at:%Y-%m-%d %H:%M} to {until_at:%Y-%m-%d %H:%M}"
               f" UTC ({'resuming run' if resumed else 'run'} {run_id})")
    old = widen_import_from(rt, store.id, since_at)
    if old is not None:
        click.echo(f"Import Orders Placed From moves from {old:%Y-%m-%d %H:%M} to {since_at:%Y-%m-%d %H:%M} UTC "
                   "so these orders may be created")
    bar = ProgressLine()
    try:
        result = run_backfill(rt, run_id, on_progress=bar.update, importer=make_importer(rt))
    except KeyboardInterrupt:
        bar.finish()
        click.echo(f"Interrupted; run the same command again to resume run {run_id} where it stopped.", err=True)
        sys.exit(130)
    bar.finish()
    click.echo(f"done: {result.seen} orders seen, {result.imported} imported, {result.errors} in error")


class ProgressLine:
    """One line redrawn in place (on a terminal) or printed every 5 s: seen, imported, in error, rate, ETA."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last_print = 0.0
        self.phase_started = self.started

    def update(self, p) -> None:
        now = time.monotonic()
        if p.phase == "importing" and p.done == 0:
            self.phase_started = now
        elapsed = max(now - self.phase_started, 1e-6)
        rate = p.done / elapsed * 60 if p.phase == "importing" else 0.0
        if p.phase == "importing":
            eta = (p.total - p.done) / (p.done / elapsed) if p.done else None
            eta_text = f"ETA {int(eta // 60)}m{int(eta % 60):02d}s" if eta is not None else "ETA -"
            line = (f"importing {p.done}/{p.total}  seen {p.seen}  imported {p.imported}  in error {p.errors}  "
                    f"{rate:.0f} orders/min  {eta_text}")
        else:
            line = f"{p.phase}: seen {p.seen}  imported {p.imported}  in error {p.errors}"
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
            self.stream.flush()
        elif now - self.last_print >= 5 or p.phase == "done" or (p.phase == "importing" and p.done == p.total):
            self.stream.write(line + "\n")
            self.stream.flush()
            self.last_print = now

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")


@click.command()
@click.option("--store", "store_ref", required=True, help="Store code or id.")
@click.option("--since", default=None, help="Start of the period (UTC); default: seven days ago.")
@click.option("--fix", is_flag=True, help="Re-queue the Amazon orders that have no Commerce order.")
@click.pass_context
def reconcile(ctx: click.Context, store_ref: str, since: str | None, fix: bool) -> None:
    """Compare Amazon's orders of the period with Commerce's; the findings are saved and shown in the admin."""
    from bridge.backfill import RangeRefused, check_range
    from bridge.reconcile import reconcile_store
    from bridge.storage.models import ReconcileRun, utcnow
    from jobs import queues

    since_at = _date(since, "--since")
    if since_at is not None:
        try:
            check_range(since_at, None, utcnow())
        except RangeRefused as exc:
            raise click.ClickException(str(exc)) from exc
    rt = _ready_runtime(ctx)
    store = _store(rt, store_ref)
    _refuse_missing_credentials(rt)
    rt.amazon_client(store)
    run_id = reconcile_store(rt, store.id, since_at, fix=fix)
    with rt.db.session() as session:
        run = session.get_one(ReconcileRun, run_id)
        findings = list(run.findings)
        click.echo(f"store {store.code}: since {run.since:%Y-%m-%d %H:%M} UTC, {run.amazon_orders} Amazon orders, "
                   f"{run.commerce_orders} Commerce orders with an Amazon id, {len(findings)} finding(s) "
                   f"(run {run_id})")
        for f in findings:
            click.echo(f"  {f.kind:20} {f.amazon_order_id or '-':20} {f.detail}{'  [re-queued]' if f.fixed else ''}")
        requeue = [f.amazon_order_id for f in findings if f.fixed and f.amazon_order_id]
    for amazon_order_id in requeue:
        queues.enqueue_import(rt.redis, store.id, amazon_order_id)
    if fix:
        click.echo(f"{len(requeue)} order(s) re-queued for import")
    if findings and not fix:
        sys.exit(2)  # something to look at (like diff): scripts can tell
