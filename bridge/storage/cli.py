"""`amazon-bridge db upgrade` and `amazon-bridge stores add|list`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from bridge.config import ConfigError

if TYPE_CHECKING:
    from bridge.runtime import Runtime


def _runtime(ctx: click.Context) -> Runtime:
    from bridge.runtime import Runtime

    try:
        return Runtime.from_config(ctx.find_root().obj.get("config_path"))
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Create or migrate the schema to the latest version (safe to run again)."""
    from bridge.storage.migrate import upgrade

    rt = _runtime(ctx)
    upgrade(rt.db.engine)
    click.echo("database is up to date")


@click.group()
def stores() -> None:
    """Amazon stores (a seller account on one marketplace)."""


@stores.command("add")
@click.option("--code", required=True, help="Short name used in URLs and commands, e.g. us.")
@click.option("--name", required=True)
@click.option("--seller-id", required=True)
@click.option("--marketplace-id", required=True, help="e.g. ATVPDKIKX0DER for Amazon.com")
@click.option("--refresh-token-env", required=True, help="Environment variable holding the LWA refresh token.")
@click.option("--region", default="NA", show_default=True, type=click.Choice(["NA", "EU", "FE"]))
@click.option("--store-view", default="default", show_default=True, help="Magento store view code to import into.")
@click.option("--import-from", default=None, help="ISO date-time (UTC); orders placed before are never created. "
              "Default: now.")
@click.pass_context
def stores_add(ctx: click.Context, code: str, name: str, seller_id: str, marketplace_id: str, refresh_token_env: str,
               region: str, store_view: str, import_from: str | None) -> None:
    """Connect an Amazon store. Its order settings start at ASC's defaults (import Enabled)."""
    from bridge.storage.stores import StoreError, create_store

    when = None
    if import_from:
        try:
            when = datetime.fromisoformat(import_from)
        except ValueError as exc:
            raise click.BadParameter(f"not an ISO date-time: {import_from!r}", param_hint="--import-from") from exc
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    rt = _runtime(ctx)
    with rt.db.session() as session:
        try:
            store = create_store(
                session, code=code, name=name, seller_id=seller_id, marketplace_id=marketplace_id,
                refresh_token_env=refresh_token_env, region=region, store_view_code=store_view, import_from=when,
            )
        except StoreError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"store {store.code} (id {store.id}) added; orders placed before "
                   f"{store.order_settings.import_from:%Y-%m-%d %H:%M} UTC are listed but not imported")


@stores.command("list")
@click.pass_context
def stores_list(ctx: click.Context) -> None:
    from sqlalchemy import select

    from bridge.storage.models import Store

    rt = _runtime(ctx)
    with rt.db.session() as session:
        for store in session.scalars(select(Store).order_by(Store.id)):
            s = store.order_settings
            click.echo(f"{store.id}\t{store.code}\t{store.name}\t{store.marketplace_id}\t"
                       f"import {'Enabled' if s.import_enabled else 'Disabled'}\tstore view {s.store_view_code}")
