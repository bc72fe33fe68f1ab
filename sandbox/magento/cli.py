"""`amazon-bridge sandbox magento`: serve a Magento twin in the foreground until Ctrl-C."""

from __future__ import annotations

import dataclasses

import click

from .config import (
    EXAMPLE_EXTRA_VIEWS,
    FaultSettings,
    MagentoTwinConfig,
    StoreView,
    default_store_views,
    load_toml,
)


def parse_store_view(spec: str) -> StoreView:
    """`uk:2:GBP` → a store view `uk` (id 2) in its own website/group `uk` with base currency GBP."""
    parts = spec.split(":")
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[2]) != 3:
        raise click.BadParameter("use CODE:ID:CURRENCY, e.g. uk:2:GBP", param_hint="--store-view")
    code, view_id, currency = parts[0], int(parts[1]), parts[2].upper()
    return StoreView(code, view_id, f"{code.upper()} Store View", currency, view_id, code, f"{code.upper()} Website",
                     view_id, f"{code.upper()} Store")


@click.command("magento")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=int)
@click.option("--data", "data_path", type=click.Path(dir_okay=False), help="SQLite file (default: in memory).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="TOML with credentials, acl, admin_users, store_views, faults.")
@click.option("--consumer-key")
@click.option("--consumer-secret")
@click.option("--access-token")
@click.option("--access-token-secret")
@click.option("--acl", "acl", multiple=True, help="Grant only these ACL resources (repeatable; default: all).")
@click.option("--enable-integration-as-bearer", is_flag=True, default=None,
              help="Accept the integration access token as a Bearer token (off by default since 2.4.4).")
@click.option("--admin-user", "admin_users", multiple=True, help="name:password for the admin token endpoint.")
@click.option("--admin-2fa-configured", is_flag=True, default=None,
              help="Admins have Google Authenticator set up (the token endpoint then names the 2FA provider).")
@click.option("--store-view", "store_views", multiple=True, metavar="CODE:ID:CURRENCY",
              help="Add a store view in its own website (e.g. uk:2:GBP); repeatable.")
@click.option("--multi-currency", is_flag=True, help="Add example store views uk (GBP), de (EUR), jp (JPY).")
@click.option("--fault-seed", type=int)
@click.option("--fault-rate-500", type=float)
@click.option("--fault-rate-timeout", type=float)
@click.option("--fault-timeout-seconds", type=float)
@click.option("--fault-rate-drop", type=float)
def magento(host: str, port: int, data_path: str | None, config_path: str | None, consumer_key: str | None,
            consumer_secret: str | None, access_token: str | None, access_token_secret: str | None,
            acl: tuple[str, ...], enable_integration_as_bearer: bool | None, admin_users: tuple[str, ...],
            admin_2fa_configured: bool | None, store_views: tuple[str, ...], multi_currency: bool,
            fault_seed: int | None,
            fault_rate_500: float | None, fault_rate_timeout: float | None, fault_timeout_seconds: float | None,
            fault_rate_drop: float | None) -> None:
    """A Magento 2.4 REST twin on HOST:PORT (flags override the --config file)."""
    from werkzeug.serving import run_simple

    from .app import create_app

    kwargs = load_toml(config_path) if config_path else {}
    for name, value in (("data_path", data_path), ("consumer_key", consumer_key),
                        ("consumer_secret", consumer_secret), ("access_token", access_token),
                        ("access_token_secret", access_token_secret),
                        ("enable_integration_as_bearer", enable_integration_as_bearer),
                        ("admin_2fa_configured", admin_2fa_configured)):
        if value is not None:
            kwargs[name] = value
    if acl:
        kwargs["acl_resources"] = frozenset(acl)
    if admin_users:
        users = dict(kwargs.get("admin_users", {}))
        for pair in admin_users:
            name, sep, password = pair.partition(":")
            if not sep:
                raise click.BadParameter("use name:password", param_hint="--admin-user")
            users[name] = password
        kwargs["admin_users"] = users
    views = list(kwargs.get("store_views", default_store_views()))
    if multi_currency:
        views += [v for v in EXAMPLE_EXTRA_VIEWS if all(v.code != w.code and v.id != w.id for w in views)]
    for spec in store_views:
        views.append(parse_store_view(spec))
    kwargs["store_views"] = tuple(views)
    faults = kwargs.get("faults", FaultSettings())
    overrides = {k: v for k, v in (("seed", fault_seed), ("rate_500", fault_rate_500),
                                   ("rate_timeout", fault_rate_timeout), ("timeout_seconds", fault_timeout_seconds),
                                   ("rate_drop", fault_rate_drop)) if v is not None}
    kwargs["faults"] = dataclasses.replace(faults, **overrides)
    config = MagentoTwinConfig(**kwargs)
    app = create_app(config)
    url = f"http://{host}:{port}"
    click.echo(f"Magento twin on {url}  (REST base {url}/rest/V1, store views: "
               + ", ".join(f"{v.code}={v.id} {v.currency}" for v in config.store_views) + ")")
    click.echo(f"  data: {config.data_path or 'in memory'}")
    click.echo("  OAuth 1.0a HMAC-SHA256 integration credentials:")
    click.echo(f"    consumer key        {config.consumer_key}")
    click.echo(f"    consumer secret     {config.consumer_secret}")
    click.echo(f"    access token        {config.access_token}")
    click.echo(f"    access token secret {config.access_token_secret}")
    click.echo(f"  bearer integration token: {'accepted' if config.enable_integration_as_bearer else 'refused'}")
    click.echo(f"  ACL: {', '.join(sorted(config.acl_resources)) if config.acl_resources is not None else 'all'}")
    click.echo(f"  control: POST {url}/_sandbox/faults, POST {url}/_sandbox/reset, GET {url}/_sandbox/stats")
    click.echo(f"  admin order view: {url}/admin/sales/order/view/order_id/<entity_id>")
    run_simple(host, port, app, threaded=True, use_reloader=False)
