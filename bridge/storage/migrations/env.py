"""Alembic environment shared by `amazon-bridge db upgrade` and Flask-Migrate's `flask db`.

The URL comes from the Alembic config (set by bridge.storage.migrate) or, under `flask db`, from the
Flask-SQLAlchemy engine of the current app.
"""

from alembic import context
from sqlalchemy import engine_from_config, pool

from bridge.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _connectable():
    connection = config.attributes.get("connection")
    if connection is not None:
        return connection
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    from flask import current_app  # only under `flask db`

    return current_app.extensions["migrate"].db.engine


def run_migrations_online() -> None:
    connectable = _connectable()
    if hasattr(connectable, "connect") and not hasattr(connectable, "execute"):
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
