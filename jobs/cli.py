"""`amazon-bridge sync | worker | scheduler`."""

from __future__ import annotations

import logging
import os

import click

from bridge.config import ConfigError


def _runtime(ctx: click.Context):
    from bridge.runtime import Runtime

    path = ctx.find_root().obj.get("config_path")
    if path:
        os.environ["AMAZON_BRIDGE_CONFIG"] = os.path.abspath(path)  # for the work-horses
    try:
        return Runtime.from_config(path)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spapi").setLevel(logging.WARNING)


@click.command()
@click.option("--store", "store_ref", required=True, help="Store code or id.")
@click.option("--once", is_flag=True, help="One pass in this process: pull, then import due orders here.")
@click.option("--log-level", default="info", show_default=True)
@click.pass_context
def sync(ctx: click.Context, store_ref: str, once: bool, log_level: str) -> None:
    """Sync one store: pull Amazon changes and import due orders (in-process with --once, else as jobs)."""
    from bridge.service import AmazonUnavailable, SyncBusy, make_importer, sync_store
    from bridge.storage.stores import StoreError, get_store

    _logging(log_level)
    rt = _runtime(ctx)
    with rt.db.session() as session:
        try:
            store_id = get_store(session, store_ref).id
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None
    importer = make_importer(rt)
    counts = {"imported": 0, "error": 0, "other": 0}
    if once:

        def dispatch(ids: list[str]) -> None:
            for amazon_order_id in ids:
                outcome = importer.import_order(store_id, amazon_order_id, actor="cli")
                key = outcome.state.value if outcome.state and outcome.state.value in counts else "other"
                counts[key] += 1
    else:
        from jobs import queues

        def dispatch(ids: list[str]) -> None:
            for amazon_order_id in ids:
                queues.enqueue_import(rt.redis, store_id, amazon_order_id)

    try:
        result = sync_store(rt, store_id, dispatch=dispatch, importer=importer)
    except (AmazonUnavailable, SyncBusy) as exc:
        raise click.ClickException(str(exc)) from None
    if once:
        click.echo(
            f"store {result.store_code}: {result.orders_seen} orders seen, {len(result.due)} due, "
            f"{counts['imported']} imported, {counts['error']} in error"
        )
    else:
        click.echo(f"store {result.store_code}: {result.orders_seen} orders seen, {len(result.due)} import jobs queued")


@click.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--name", default=None)
@click.option("--log-level", default="info", show_default=True)
@click.pass_context
def worker(ctx: click.Context, burst: bool, name: str | None, log_level: str) -> None:
    """Run an RQ worker on the sync, orders and actions queues; it reconnects when Redis goes away."""
    from jobs.worker import run_worker

    _logging(log_level)
    rt = _runtime(ctx)
    # Import the job code once in the parent: RQ forks a work-horse per job, and each would otherwise pay
    # the imports again (RQ's "Performance notes").
    import bridge.amazon.client  # noqa: F401
    import jobs.tasks  # noqa: F401

    run_worker(rt.redis, name=name, burst=burst, logging_level=log_level.upper())


@click.command()
@click.option("--poll", default=5.0, show_default=True, help="Seconds between checks.")
@click.option("--log-level", default="info", show_default=True)
@click.pass_context
def scheduler(ctx: click.Context, poll: float, log_level: str) -> None:
    """Enqueue each active store's sync on the configured cron schedule (one leader at a time)."""
    from jobs.scheduler import Scheduler

    _logging(log_level)
    Scheduler(_runtime(ctx)).run(poll_seconds=poll)
