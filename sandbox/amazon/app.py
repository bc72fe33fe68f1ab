"""The Flask application of the Amazon twin: LWA, Orders v2026 and v0, Feeds, and `/_sandbox` control."""

from __future__ import annotations

import uuid

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import control, feeds, lwa, orders, tokens, v0
from .config import AmazonTwinConfig
from .spapi import error
from .store import TwinState


def create_app(config: AmazonTwinConfig | None = None) -> Flask:
    config = config or AmazonTwinConfig()
    if config.rate_scale <= 0:
        raise ValueError("rate_scale must be > 0")
    app = Flask("sandbox.amazon")
    app.extensions["amazon_twin"] = TwinState(config)
    for blueprint in (lwa.bp, orders.bp, v0.bp, feeds.bp, tokens.bp, control.bp):
        app.register_blueprint(blueprint)

    @app.after_request
    def request_id(response: Response) -> Response:
        response.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if exc.code == 404:
            return error(404, "NotFound", f"No resource at {request.path}.")
        if exc.code == 405:
            return error(405, "MethodNotAllowed", f"{request.method} is not allowed on {request.path}.")
        return error(exc.code or 400, "InvalidInput", exc.description or "Invalid input")

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> Response:
        app.logger.exception("amazon twin: unhandled error")
        return error(500, "InternalFailure", "We encountered an internal error. Please try again.")

    return app
