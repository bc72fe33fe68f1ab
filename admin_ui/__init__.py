"""The merchant-facing admin: Amazon orders, cancels, order settings, SKU mappings and sync status.

Merchants work in Magento's admin and land here from a Commerce order's comment (`/orders/<id>`,
`/orders`), so these pages mirror what Adobe's Amazon Sales Channel adds to Magento.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from bridge.config import Settings
from bridge.storage.db import configure_sqlite, engine_options
from bridge.storage.migrate import MIGRATIONS_DIR

from .extensions import csrf, db, login_manager, migrate


class SecretKeyMissing(RuntimeError):
    """The admin refuses to start without a secret key: sessions signed with a guessable key are forgeable."""


def _ensure_sqlite_dir(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def create_app(
    settings: Settings | None = None, *, runtime: Any = None, test_config: dict[str, Any] | None = None
) -> Flask:
    """Build the admin app for `settings` (or the runtime's); `test_config` overrides Flask config keys."""
    if settings is None:
        if runtime is not None:
            settings = runtime.settings
        else:
            from bridge.config import load_settings

            settings = load_settings()
    if runtime is None:
        from bridge.runtime import Runtime

        runtime = Runtime(settings)

    app = Flask(__name__)
    testing = bool((test_config or {}).get("TESTING"))
    secret_key = settings.admin.secret_key or (test_config or {}).get("SECRET_KEY", "")
    if not secret_key:
        if not testing:
            raise SecretKeyMissing(
                "AMAZON_BRIDGE_SECRET_KEY is not set. The admin signs its session cookies with it; set it to a "
                "long random value (for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        secret_key = secrets.token_urlsafe(32)

    _ensure_sqlite_dir(settings.database.url)
    app.config.from_mapping(
        SECRET_KEY=secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database.url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database),
        SESSION_COOKIE_NAME="amazon_bridge_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.admin.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.admin.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which is already time-limited
        # Sign-in throttling: per user name (stored on the user row) and per client address (Redis).
        LOGIN_MAX_FAILURES=5,
        LOGIN_MAX_FAILURES_PER_IP=20,
        LOGIN_LOCK_SECONDS=15 * 60,
        ORDERS_PER_PAGE=50,
        RECENT_ORDERS=10,
    )
    if test_config:
        app.config.update(test_config)
    app.config["SECRET_KEY"] = secret_key

    app.extensions["bridge_settings"] = settings
    app.extensions["bridge_runtime"] = runtime

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine, settings.database.busy_timeout_ms)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    login_manager.init_app(app)

    from . import address, auth, buyer_cancel, cancel, orders, sku, status, store_settings, users
    from .formatting import register_filters

    app.register_blueprint(auth.bp)
    app.register_blueprint(orders.bp)
    app.register_blueprint(cancel.bp)
    app.register_blueprint(buyer_cancel.bp)
    app.register_blueprint(address.bp)
    app.register_blueprint(store_settings.bp)
    app.register_blueprint(sku.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(users.bp)
    from . import ops

    ops.register(app)  # /healthz, /readyz, /metrics; a 503 page while the database is down
    register_filters(app)

    from .banners import banners

    app.context_processor(banners)

    from .logs import install_access_log_filter

    install_access_log_filter()

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        """A form without a valid token is refused: it may have been posted by another site."""
        return render_template("error.html", title="Form expired", message=error.description), 400

    @app.errorhandler(403)
    def forbidden(error):
        return render_template("error.html", title="Access denied", message=error.description), 403

    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title="Not found", message=error.description), 404

    return app


def get_settings() -> Settings:
    """The bridge settings the running app was built with (links, Magento admin URL)."""
    from flask import current_app

    return current_app.extensions["bridge_settings"]


def get_runtime() -> Any:
    """The app's Runtime: its Redis for queues and throttling, its Amazon clients for live status checks."""
    from flask import current_app

    return current_app.extensions["bridge_runtime"]
