"""The merchant-facing admin: Amazon orders, cancels, order settings, SKU mappings and sync status.

Merchants work in Magento's admin and land here from a Commerce order's comment (`/orders/<id>`,
`/orders`), so these pages mirror what Adobe's Amazon Sales Channel adds to Magento.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError

from bridge.config import Settings
from bridge.errors import BridgeError
from bridge.storage.db import configure_sqlite, engine_options
from bridge.storage.migrate import MIGRATIONS_DIR

from .extensions import csrf, db, login_manager, migrate

if TYPE_CHECKING:
    from bridge.runtime import Runtime


class SecretKeyMissing(BridgeError):
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
        # Sign-in throttling: a progressive delay per user name and per client address (Redis), no lock-out.
        LOGIN_FREE_FAILURES=3,
        LOGIN_FREE_FAILURES_PER_ADDRESS=10,
        LOGIN_MAX_DELAY_SECONDS=60,
        LOGIN_FAILURE_WINDOW_SECONDS=15 * 60,
        ORDERS_PER_PAGE=50,
        ORDERS_COUNT_CAP=10_000,  # All Orders counts matches up to this, then says "more than" (order_pages)
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

    from . import address, auth, buyer_cancel, cancel, export, orders, sku, status, store_actions, store_settings, users
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
    app.register_blueprint(store_actions.bp)
    app.register_blueprint(export.bp)
    register_filters(app)

    from .banners import banners

    app.context_processor(banners)

    from .logs import install_access_log_filter

    install_access_log_filter()

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        """A form without a valid token is refused (another site may have posted it); the merchant's input is
        kept on the page, with a fresh token, to check and submit again."""
        return form_expired(error)

    @app.before_request
    def refuse_nul():
        """No field accepts a NUL character, and PostgreSQL refuses them in text: say so instead of failing."""
        values = [request.path, *(v for _, vs in request.args.lists() for v in vs)]
        values += [v for _, vs in request.form.lists() for v in vs]
        if any("\x00" in value for value in values):
            return render_template(
                "error.html", title="Bad request", message="A value in the request contains a NUL character."
            ), 400
        return None

    @app.errorhandler(400)
    def bad_request(error):
        return render_template("error.html", title="Bad request", message=error.description), 400

    @app.errorhandler(405)
    def not_allowed(error):
        return render_template("error.html", title="Not allowed", message=error.description), 405

    @app.errorhandler(403)
    def forbidden(error):
        return render_template("error.html", title="Access denied", message=error.description), 403

    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title="Not found", message=error.description), 404

    return app


EXPIRED = (
    "This page was open too long, so its form expired and nothing was saved. Your input is kept below: check "
    "it and submit it again."
)
EXPIRED_SIGNED_OUT = (
    "This page was open too long and your session ended, so nothing was saved. Sign in again, then submit "
    "the form again; your input is kept below."
)


HIDDEN_KEYS = frozenset({"store", "next", "order", "origin", "before", "then"})


def form_expired(error: Any):
    """The page behind an expired (or missing) CSRF token: what was typed, as a form to send again."""
    from flask import flash
    from flask_login import current_user

    from .auth import LoginForm, safe_next

    if request.endpoint == "auth.login":
        form = LoginForm(formdata=None, data={"username": (request.form.get("username") or "")[:64]})
        flash("The sign-in page was open too long; enter your password again.", "error")
        next_url = safe_next(request.form.get("next"))
        return render_template("auth/login.html", form=form, next_url=next_url), 400
    kept = [
        (key, value)
        for key, values in request.form.lists()
        for value in values
        if key != "csrf_token" and "password" not in key and key != "confirm"
    ]
    from .address_form import FIELDS

    labels = {name: label for name, (label, _, _) in FIELDS.items()}
    labels.update(seller_sku="Amazon Seller SKU", catalog_sku="Magento Catalog SKU", reason="Reason",
                  username="User Name", role="Role", active="Active", stores="Stores")
    shown = [(labels.get(key, key), value) for key, value in kept if key not in HIDDEN_KEYS]
    signed_in = current_user.is_authenticated
    back = safe_next(request.referrer.removeprefix(request.host_url.rstrip("/")) if request.referrer else None)
    return render_template(
        "form_expired.html",
        title="Form expired",
        message=EXPIRED if signed_in else EXPIRED_SIGNED_OUT,
        action=request.full_path if request.query_string else request.path,
        kept=kept,
        shown=shown,
        signed_in=signed_in,
        back=back,
    ), 400


def get_settings() -> Settings:
    """The bridge settings the running app was built with (links, Magento admin URL)."""
    from flask import current_app

    settings: Settings = current_app.extensions["bridge_settings"]
    return settings


def get_runtime() -> Runtime:
    """The app's Runtime: its Redis for queues and throttling, its Amazon clients for live status checks."""
    from flask import current_app

    runtime: Runtime = current_app.extensions["bridge_runtime"]
    return runtime
