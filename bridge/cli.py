"""The `amazon-bridge` command.

Sub-commands live next to the code they drive (jobs/, admin_ui/, sandbox/) and are imported only when
called, so `bridge` itself never imports Flask or RQ and `amazon-bridge --help` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, cast

import click

if TYPE_CHECKING:
    from bridge.config import Settings

# name -> "module:attribute" of a click command or group
LAZY_COMMANDS: dict[str, str] = {
    "sandbox": "sandbox.cli:sandbox",
    "db": "bridge.storage.cli:db",
    "stores": "bridge.storage.cli:stores",
    "sync": "jobs.cli:sync",
    "worker": "jobs.cli:worker",
    "scheduler": "jobs.cli:scheduler",
    "cancel": "jobs.cli:cancel",
    "demo": "sandbox.demo:demo",
    "doctor": "bridge.doctor_cli:doctor",
    "status": "jobs.ops_cli:status",
    "retry": "jobs.ops_cli:retry",
    "backfill": "jobs.ops_cli:backfill",
    "reconcile": "jobs.ops_cli:reconcile",
    "web": "admin_ui.cli:web",
    "users": "admin_ui.cli:users",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use (click's documented lazy-loading pattern)."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module_name, attr = self.lazy_commands[cmd_name].split(":")
            return cast(click.Command, getattr(importlib.import_module(module_name), attr))
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Expected failures (no database, Redis down, Magento unreachable, refused credentials...) end in
        one sentence and exit code 1; anything else is a bug and keeps its traceback."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            from bridge.explain import explain

            message = explain(exc, _settings_or_none(ctx))
            if message is None:
                raise
            raise click.ClickException(message) from exc


def _settings_or_none(ctx: click.Context) -> Settings | None:
    from bridge.config import ConfigError, load_settings

    try:
        return load_settings((ctx.obj or {}).get("config_path"))
    except ConfigError:
        return None


@click.group(cls=LazyGroup, lazy_commands=LAZY_COMMANDS)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="AMAZON_BRIDGE_CONFIG",
    help="Settings file (TOML). Default: ./config.toml if present, else built-in defaults.",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Amazon orders into Magento 2 / Adobe Commerce, exactly once."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
