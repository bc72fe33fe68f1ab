"""`amazon-bridge sync | worker | scheduler`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from redis import RedisError

from bridge.config import ConfigError

if TYPE_CHECKING:
    from bridge.runtime import Runtime


def _runtime(ctx: click.Context) -> Runtime:
    from bridge.runtime import Runtime

    path = ctx.find_root().obj.get("config_path")
    if path:
        os.environ["AMAZON_BRIDGE_CONFIG"] = os.path.abspath(path)  # for the work-horses
    try:
        return Runtime.from_config(path)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


def _logging(level: str) -> None:
    """Text, or JSON lines with AMAZON_BRIDGE_LOG_FORMAT=json (bridge.logs)."""
    from bridge.logs import configure_logging

    configure_logging(level)


@click.command()
@click.option("--store", "store_ref", required=True, help="Store code or id.")
@click.option("--once", is_flag=True, help="One pass in this process: pull, then import due orders here.")
@click.option("--log-level", default="info", show_default=True)
@click.pass_context
def sync(ctx: click.Context, store_ref: str, once: bool, log_level: str) -> None:
    """Sync one store: pull Amazon changes and import due orders (in-process with --once, else as jobs)."""
    from bridge.config import missing_magento_credentials
    from bridge.explain import require_schema
    from bridge.service import AmazonUnavailable, SyncBusy, make_importer, sync_store
    from bridge.storage.stores import StoreError, get_store

    _logging(log_level)
    rt = _runtime(ctx)
    require_schema(rt.db.engine, rt.settings.database.url)
    missing = missing_magento_credentials(rt.settings.magento)
    if missing:  # refused before anything is sent to Amazon or Magento
        raise click.ClickException(f"Magento credentials are missing: set {', '.join(missing)}")
    with rt.db.session() as session:
        try:
            store_id = get_store(session, store_ref).id
        except StoreError as exc:
            raise click.ClickException(str(exc)) from exc
    importer = make_importer(rt)
    counts = {"imported": 0, "error": 0, "other": 0}
    dispatch: Callable[[list[str]], None]
    if once:

        def dispatch(ids: list[str]) -> None:
            for amazon_order_id in ids:
                outcome = importer.import_order(store_id, amazon_order_id, actor="cli")
                key = outcome.state.value if outcome.state and outcome.state.value in counts else "other"
                counts[key] += 1
    else:
        from jobs import queues

        dispatch, dispatch_changes = queues.sync_dispatchers(rt.redis, store_id)

    try:
        result = sync_store(rt, store_id, dispatch=dispatch, importer=importer,
                            dispatch_changes=None if once else dispatch_changes)
    except (AmazonUnavailable, SyncBusy) as exc:
        raise click.ClickException(str(exc)) from exc
    if once:
        click.echo(
            f"store {result.store_code}: {result.orders_seen} orders seen, {len(result.due)} due, "
            f"{counts['imported']} imported, {counts['error']} in error"
        )
        click.echo(_commerce_to_amazon(rt, store_id))
    else:
        click.echo(f"store {result.store_code}: {result.orders_seen} orders seen, {len(result.due)} import jobs queued")


def _commerce_to_amazon(rt: Runtime, store_id: int) -> str:
    """`sync --once`: the Commerce poll and one outbox pass in this process (feeds are read next time)."""
    from bridge.commerce_changes import poll_commerce
    from bridge.outbox import process_outbox
    from bridge.storage.models import Store
    from bridge.storage.stores import order_settings

    with rt.db.session() as session:
        store = session.get_one(Store, store_id)
        view = order_settings(store.order_settings).store_view_code
        amazon = rt.amazon_client(store)
    polled = poll_commerce(rt.db.sessionmaker, store_id, rt.magento_client(view))
    sent = process_outbox(rt.db.sessionmaker, store_id, amazon, rate_scale=rt.amazon_rate_scale, redis=rt.redis)
    return (f"Commerce -> Amazon: {polled.queued} queued ({polled.held} shipments held), {sent.confirmed} shipments "
            f"confirmed, {sent.submitted} sent in feeds, {sent.accepted} accepted, {sent.rejected} rejected, "
            f"{sent.pending} waiting for Amazon")


@click.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--name", default=None)
@click.option("--queue", "queue_names", multiple=True, type=click.Choice(["sync", "orders", "actions"]),
              help="Work only these queues (repeat for several), e.g. a worker kept for syncs; default: all.")
@click.option("--fork", is_flag=True,
              help="Run each job in a forked work-horse (RQ's default): isolation from a job that leaks or "
                   "crashes, at about three times the CPU per imported order. Default: jobs run in the worker.")
@click.option("--log-level", default="info", show_default=True)
@click.pass_context
def worker(ctx: click.Context, burst: bool, name: str | None, queue_names: tuple[str, ...], fork: bool,
           log_level: str) -> None:
    """Run an RQ worker on the sync, orders and actions queues; it reconnects when Redis goes away."""
    from jobs.queues import ALL_QUEUES
    from jobs.worker import run_worker

    _logging(log_level)
    rt = _runtime(ctx)
    # Import the job code once, before any job (with --fork, before RQ forks a work-horse per job, each of
    # which would otherwise pay the imports again: RQ's "Performance notes").
    import bridge.amazon.client  # noqa: F401
    import jobs.tasks  # noqa: F401
    from jobs import context

    context.prepare()  # settings, engine and ORM mappers once, taken over by every work-horse

    run_worker(rt.redis, name=name, burst=burst, logging_level=log_level.upper(), fork=fork,
               queue_names=tuple(q for q in ALL_QUEUES if q in queue_names) if queue_names else ALL_QUEUES)


@click.command()
@click.option("--poll", default=5.0, show_default=True, help="Seconds between checks.")
@click.option("--log-level", default="info", show_default=True)
@click.pass_context
def scheduler(ctx: click.Context, poll: float, log_level: str) -> None:
    """Enqueue each active store's sync on the configured cron schedule (one leader at a time)."""
    from jobs.scheduler import Scheduler

    _logging(log_level)
    Scheduler(_runtime(ctx)).run(poll_seconds=poll)


@click.command()
@click.argument("amazon_order_id")
@click.option("--reason", required=True, help="One of ASC's ten cancel reasons, e.g. NoInventory or \"No Inventory\".")
@click.option("--store", "store_code", default=None, help="Store code (when the order id is in several stores).")
@click.option("--log-level", default="warning", show_default=True)
@click.pass_context
def cancel(ctx: click.Context, amazon_order_id: str, reason: str, store_code: str | None, log_level: str) -> None:
    """Cancel an Unshipped Amazon order, as the admin's cancel page does (sent by the outbox job)."""
    from bridge.amazon.errors import AmazonError
    from bridge.cancellation import CancelRefused, find_order, reason_code, request_cancel
    from bridge.errors import retry_hint

    _logging(log_level)
    try:
        code = reason_code(reason)
    except CancelRefused as exc:
        raise click.ClickException(str(exc)) from exc
    rt = _runtime(ctx)
    with rt.db.session() as session:
        try:
            record = find_order(session, amazon_order_id, store_code)
            status_now = None
            if record.status == "Unshipped":
                try:  # our copy may be minutes old: a shipped order must never be canceled
                    status_now = str(rt.amazon_client(record.store).get_order(record.amazon_order_id).status.value)
                except AmazonError as exc:
                    raise click.ClickException(f"Not canceled: could not check the order's status with Amazon "
                                               f"({exc}). {retry_hint(exc)}") from exc
            action = request_cancel(session, record, code, requested_by="cli", status_now=status_now)
            store_id = record.store_id
            session.commit()
        except CancelRefused as exc:
            raise click.ClickException(f"Not canceled: {exc}") from exc
        action_id = action.id
    try:
        from jobs.queues import enqueue_outbox

        enqueue_outbox(rt.redis, store_id)
        click.echo(f"Cancel request {action_id} for {amazon_order_id} ({code}) is queued; the worker sends it.")
    except RedisError:  # recorded; the scheduler's next tick sends it
        click.echo(f"Cancel request {action_id} for {amazon_order_id} ({code}) is recorded; Redis did not answer, "
                   "so the scheduler's next tick sends it.")
