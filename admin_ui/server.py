"""gunicorn, embedded: `amazon-bridge web` serves the admin the production way with one command.

The app is built once in the master (settings, secret key and migrations are checked before any
worker starts) and inherited by the workers; each worker drops the database pool and Redis connections
it inherited, so no socket is shared across processes.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class AdminServer(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def _post_fork(server, worker) -> None:
    app: Flask = server.app.application
    from .extensions import db

    with app.app_context():
        db.engine.dispose(close=False)
    runtime = app.extensions.get("bridge_runtime")
    if runtime is not None and "redis" in runtime.__dict__:
        runtime.redis.connection_pool.reset()


def serve(app: Flask, *, bind: str, workers: int, threads: int, timeout: int, graceful_timeout: int) -> None:
    AdminServer(app, {
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": timeout,
        "graceful_timeout": graceful_timeout,
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "post_fork": _post_fork,
        # The admin's own filter already redacts query strings from the access log (admin_ui/logs.py).
        "access_log_format": '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus',
    }).run()
