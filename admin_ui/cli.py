"""`amazon-bridge web` and `amazon-bridge users ...`.

Both read the settings file named by the root command (`--config`) and build one `Runtime` from it.
"""

from __future__ import annotations

import os

import click

from bridge.config import ConfigError
from bridge.runtime import Runtime


def _runtime() -> Runtime:
    root = click.get_current_context().find_root()
    config_path = (root.obj or {}).get("config_path")
    try:
        return Runtime.from_config(config_path)
    except ConfigError as exc:  # names the key
        raise click.ClickException(str(exc)) from exc


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int,
              help="gunicorn worker processes (about one per core; each runs --threads threads).")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker (gthread).")
@click.option("--timeout", default=60, show_default=True, type=int,
              help="Seconds a request may take before gunicorn restarts its worker.")
@click.option("--graceful-timeout", default=30, show_default=True, type=int,
              help="Seconds running requests get to finish on SIGTERM or a restart.")
@click.option("--dev", is_flag=True, help="Werkzeug's development server instead of gunicorn (one process).")
def web(host: str, port: int, workers: int, threads: int, timeout: int, graceful_timeout: int, dev: bool) -> None:
    """Serve the admin pages with gunicorn (migrates the database first).

    Run it behind HTTPS (nginx or a load balancer) with `admin.secure_cookies = true`; the secret key
    always comes from AMAZON_BRIDGE_SECRET_KEY. /healthz and /readyz are for the load balancer.
    """
    from admin_ui import SecretKeyMissing, create_app
    from bridge.storage.migrate import upgrade

    runtime = _runtime()
    upgrade(runtime.db.engine)
    runtime.db.dispose()  # no connection crosses gunicorn's fork
    try:
        app = create_app(runtime.settings, runtime=runtime)
    except SecretKeyMissing as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Amazon Bridge admin on http://{host}:{port}/ (links in Commerce orders use "
        f"{runtime.settings.admin.public_base_url})"
    )
    if dev:
        from werkzeug.serving import run_simple

        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
        return
    from .server import serve

    serve(app, bind=f"{host}:{port}", workers=workers, threads=threads, timeout=timeout,
          graceful_timeout=graceful_timeout)


@click.group()
def users() -> None:
    """Admin users: create the first admin, list, reset a password."""


def _password(password_env: str | None) -> str:
    if password_env:
        value = os.environ.get(password_env, "")
        if not value:
            raise click.ClickException(f"environment variable {password_env} is empty or not set")
        return value
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "operator", "viewer"]), default="viewer", show_default=True)
@click.option("--password-env", metavar="VAR", help="Read the password from this environment variable.")
def create(name: str, role: str, password_env: str | None) -> None:
    """Create user NAME; the password is prompted twice unless --password-env names a variable holding it."""
    from bridge.storage.migrate import upgrade

    from .users import UserError, create_user

    runtime = _runtime()
    upgrade(runtime.db.engine)
    password = _password(password_env)
    try:
        with runtime.db.session() as session:
            create_user(session, name, role, password)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {role} {name}")


@users.command("list")
def list_users() -> None:
    """List users with their role and state."""
    from sqlalchemy import select

    from bridge.storage.models import User

    runtime = _runtime()
    with runtime.db.session() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            state = "active" if user.active else "inactive"
            click.echo(f"{user.username}\t{user.role}\t{state}")


@users.command("set-password")
@click.argument("name")
@click.option("--password-env", metavar="VAR", help="Read the password from this environment variable.")
def set_password(name: str, password_env: str | None) -> None:
    """Set a new password for NAME (and unlock it); signs the user out of every session."""
    from sqlalchemy import select

    from bridge.storage.models import User

    from .auth import hash_password
    from .users import UserError, check_password

    runtime = _runtime()
    password = _password(password_env)
    try:
        check_password(password)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    with runtime.db.session() as session:
        user = session.scalar(select(User).where(User.username == name))
        if user is None:
            raise click.ClickException(f"no user {name}")
        user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
    click.echo(f"password of {name} changed")
