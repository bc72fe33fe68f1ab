"""`amazon-bridge doctor`."""

from __future__ import annotations

import sys

import click


@click.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check config, database, Redis, Magento (credentials, every ACL resource, store views) and Amazon (LWA,
    marketplaces): one line per check, exit 1 if anything is wrong."""
    from bridge.doctor import iter_checks

    failed = 0
    for check in iter_checks(ctx.find_root().obj.get("config_path")):
        click.echo(check.line())
        failed += not check.ok
    if failed:
        click.echo(f"{failed} check(s) failed.", err=True)
        sys.exit(1)
    click.echo("Everything the bridge needs is in place.")
