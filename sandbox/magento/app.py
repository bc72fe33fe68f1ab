"""The Flask app: REST dispatch under /rest[/<store_code>|/all]/V1, the admin order view, control endpoints."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import asdict
from typing import Any
from urllib.parse import unquote

from flask import Flask, Response, request

from . import catalog, documents, orders, partial
from .auth import Credentials, NonceRegistry, require_acl, verify_oauth
from .config import MagentoTwinConfig
from .errors import NO_ROUTE, MagentoError, internal_error, unauthorized
from .faults import Faults
from .html import order_view
from .http import Ctx, Router
from .store import Store

log = logging.getLogger("sandbox.magento")

ADMIN_SIGNIN_FAILED = (
    "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later."
)
TFA_REQUIRED = (
    "You are required to configure personal Two-Factor Authorization in order to login. Please check your email."
)
TFA_USE_PROVIDER = "Please use the 2fa provider-specific endpoints to obtain a token."
MAX_ADMIN_FAILURES = 6  # oauth/authentication_lock/max_failures_count
SAVE_LATE_ROUTE = "/V1/orders/create"  # the create a slow Magento may save after the client gave up


class Twin:
    """Everything one running twin holds: settings, data, routes, fault dice, counters."""

    def __init__(self, config: MagentoTwinConfig):
        self.config = config
        self.store = Store(config.data_path)
        self.router = Router()
        self.faults = Faults(config.faults)
        self.nonces = NonceRegistry()
        self.creds = Credentials(config.consumer_key, config.consumer_secret, config.access_token,
                                 config.access_token_secret)
        self.stats: Counter[str] = Counter()
        self.fault_stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._admin_failures: Counter[str] = Counter()
        orders.register(self.router)
        documents.register(self.router)
        catalog.register(self.router)
        self.router.add("POST", "/V1/integration/admin/token", None)(self._admin_token)

    def base_url(self) -> str:
        return request.host_url

    def count(self, key: str, faults: str | None = None) -> None:
        with self._stats_lock:
            self.stats[key] += 1
            if faults:
                self.fault_stats[faults] += 1

    def _admin_token(self, ctx: Ctx) -> Any:
        body = ctx.body()
        errors = [
            {"message": '"%fieldName" is required. Enter and try again.', "parameters": {"fieldName": f}}
            for f in ("username", "password") if not body.get(f)
        ]
        if errors:
            raise MagentoError("One or more input exceptions have occurred.", 400, errors=errors)
        user, password = str(body["username"]), str(body["password"])
        with self._stats_lock:
            locked = self._admin_failures[user] >= MAX_ADMIN_FAILURES
            ok = not locked and self.config.admin_users.get(user) == password
            if not ok:
                self._admin_failures[user] += 1
            else:
                self._admin_failures[user] = 0
        if not ok:
            raise MagentoError(ADMIN_SIGNIN_FAILED, 401)
        # Magento_TwoFactorAuth re-routes this endpoint and never issues a token here.
        if self.config.admin_2fa_configured:
            raise MagentoError(TFA_USE_PROVIDER, 400, {"active_providers": ["google"]})
        raise MagentoError(TFA_REQUIRED, 400)

    # --- REST dispatch ----------------------------------------------------------------------------------

    def authorize(self, acl: str) -> None:
        header = request.headers.get("Authorization", "")
        if header[:6].lower() == "oauth " or (not header and "oauth_signature" in request.args):
            body = None
            if request.mimetype == "application/x-www-form-urlencoded":
                body = request.get_data(as_text=True)
            raw_uri = request.environ.get("RAW_URI") or request.full_path
            url = request.host_url.rstrip("/") + raw_uri
            verify_oauth(header, request.method, url, body, self.creds, self.nonces)
        elif header[:7].lower() == "bearer ":
            token = header[7:].strip()
            if not (self.config.enable_integration_as_bearer and token == self.config.access_token):
                raise unauthorized(acl)
        else:
            raise unauthorized(acl)
        require_acl(self.config.acl_resources, acl)

    def dispatch(self, path: str) -> Response:
        method = request.method
        if method not in ("GET", "POST", "PUT", "DELETE"):
            self.count(f"{method} (invalid method)")
            return _json({"message": "Request method is invalid."}, 405)
        raw = request.environ.get("RAW_URI") or request.path
        raw_path = raw.split("?", 1)[0]
        parts = [unquote(p) for p in raw_path.split("/")[2:]]  # drop "" and "rest"
        view = self.config.default_view
        if parts and parts[0] != "V1":
            if parts[0] == "all":
                view, parts = None, parts[1:]
            elif (found := self.config.view_by_code(parts[0])) is not None:
                view, parts = found, parts[1:]
        if parts and parts[-1] == "":
            parts = parts[:-1]
        match = self.router.find(method, parts)
        if match is None:
            self.count(f"{method} (no route)")
            return _json({"message": NO_ROUTE}, 404)
        route, params = match
        fault, drop = self.faults.draw(method != "GET")
        self.count(f"{route.method} {route.path}", fault)
        if fault == "500":
            return _json(internal_error().body(), 500)
        if fault == "timeout":
            time.sleep(self.faults.settings.timeout_seconds)
        late = route.method == "PUT" and route.path == SAVE_LATE_ROUTE and self.faults.save_late()
        if late:
            self.count("(create held)", "save_late")
            time.sleep(late)  # the client has given up by now; the order is saved all the same
        try:
            return self._handle(route, params, view, drop, raw_path)
        finally:
            if late:
                self.count("(create held: handled)")

    def _handle(self, route, params: dict[str, str], view, drop: bool, raw_path: str) -> Response:
        method = request.method
        try:
            if route.acl is not None:
                self.authorize(route.acl)
            ctx = Ctx(self, method, view, list(request.args.items(multi=True)), request.get_data(),
                      request.headers.get("Content-Type", ""))
            result = route.handler(ctx, **params)
        except MagentoError as exc:
            return _json(exc.body(), exc.status)
        except Exception:
            log.exception("unexpected error in %s %s", method, raw_path)
            return _json(internal_error().body(), 500)
        if drop:
            self.count("(dropped after commit)", "drop")
            _drop_connection()
        fields = request.args.get("fields")
        if fields:
            result = partial.apply(result, partial.parse(fields))
        return _json(result, 200)


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def _drop_connection() -> None:
    """Close the client's socket now: the write is committed but the caller sees a connection error."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def create_app(config: MagentoTwinConfig | None = None) -> Flask:
    """A Flask app serving one Magento twin; `app.extensions["magento_twin"]` is its Twin."""
    config = config or MagentoTwinConfig()
    twin = Twin(config)
    app = Flask("sandbox.magento")
    app.extensions["magento_twin"] = twin

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]

    @app.route("/rest/<path:path>", methods=methods)
    def rest(path: str) -> Response:
        return twin.dispatch(path)

    @app.route("/graphql", methods=["POST"])
    def graphql() -> Response:
        """Only `storeConfig { allow_order allow_items }` (Magento_GiftMessageGraphQl, anonymous, `Store` header);
        any other query gets GraphQL's error answer."""
        twin.count("POST /graphql")
        body = request.get_json(silent=True) or {}
        query = str(body.get("query") or "")
        code = request.headers.get("Store")
        view = twin.config.view_by_code(code) if code else twin.config.default_view
        if view is None:
            return _json({"errors": [{"message": "Requested store is not found",
                                      "extensions": {"category": "graphql-no-such-entity"}}]}, 200)
        asked = set(re.findall(r"[A-Za-z_]+", query.split("storeConfig", 1)[1])) if "storeConfig" in query else set()
        known = {"allow_order", "allow_items"}
        unknown = sorted(asked - known)
        if "storeConfig" not in query or unknown:
            field = unknown[0] if unknown else "query"
            return _json({"errors": [{"message": f'Cannot query field "{field}" on type "StoreConfig".',
                                      "extensions": {"category": "graphql"}}]}, 200)
        flag = "1" if view.allow_gift_messages else "0"
        return _json({"data": {"storeConfig": {k: flag for k in sorted(asked)}}}, 200)

    @app.route("/admin/sales/order/view/order_id/<order_id>", methods=["GET"])
    @app.route("/admin/sales/order/view/order_id/<order_id>/", methods=["GET"])
    @app.route("/admin/sales/order/view/order_id/<order_id>/<path:_rest>", methods=["GET"])
    def admin_order_view(order_id: str, _rest: str = "") -> Response:
        try:
            order = twin.store.get("order", int(order_id))
        except ValueError:
            order = None
        if order is None:
            return Response("<h1>This order no longer exists.</h1>", 404, mimetype="text/html")
        return Response(order_view(order), 200, mimetype="text/html")

    @app.route("/_sandbox/faults", methods=["GET", "POST"])
    def faults() -> Response:
        if request.method == "POST":
            data = request.get_json(silent=True)
            if not isinstance(data, dict):
                return _json({"message": "Decoding error."}, 400)
            try:
                twin.faults.update(data)
            except MagentoError as exc:
                return _json(exc.body(), exc.status)
        return _json(asdict(twin.faults.settings), 200)

    @app.route("/_sandbox/reset", methods=["POST"])
    def reset() -> Response:
        twin.store.reset()
        return _json({"reset": True}, 200)

    @app.route("/_sandbox/stats", methods=["GET", "DELETE"])
    def stats() -> Response:
        with twin._stats_lock:
            if request.method == "DELETE":
                twin.stats.clear()
                twin.fault_stats.clear()
            body = {"total": sum(twin.stats.values()), "routes": dict(twin.stats), "faults": dict(twin.fault_stats)}
        return _json(body, 200)

    return app
