"""What every SP-API operation shares: access-token check, usage-plan throttling, faults, static
examples, Amazon's error bodies and the `x-amzn-RateLimit-Limit` header."""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request

from .store import TwinState

GENERIC_INVALID = "The input you have submitted is not valid. Please check your input and try again."


def current_state() -> TwinState:
    return current_app.extensions["amazon_twin"]


def json_response(body: Any, status: int = 200) -> Response:
    """JSON in the given key order (Amazon's examples are returned verbatim) and UTF-8."""
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def error(status: int, code: str, message: str, details: str = "") -> Response:
    return json_response({"errors": [{"code": code, "message": message, "details": details}]}, status)


def invalid_input(message: str = GENERIC_INVALID, details: str = "") -> Response:
    return error(400, "InvalidInput", message, details)


def not_found(message: str) -> Response:
    return error(404, "NotFound", message)


def unauthorized(details: str = "") -> Response:
    return error(403, "Unauthorized", "Access to requested resource is denied.", details)


def quota_exceeded() -> Response:
    return error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")


def _rdt_elements(resources: list[dict]) -> set[str] | None:
    """The data elements of the RDT resource matching this request, or None when none matches."""
    for resource in resources:
        pattern = "^" + re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(resource["path"])) + "$"
        if resource["method"] == request.method and re.match(pattern, request.path):
            return set(resource.get("dataElements") or [])
    return None


def authenticate(state: TwinState) -> str | Response:
    """The seller behind `x-amz-access-token` (an LWA token or an RDT), or Amazon's 403.

    Sets `g.rdt` (the call is made with a Restricted Data Token) and `g.pii` (its data elements).
    """
    token = request.headers.get("x-amz-access-token", "").strip()
    if not token:
        return unauthorized()
    with state.lock:
        found = state.tokens.get(token)
    if found is None or state.clock.now() >= found.expires_at:  # unknown, revoked or expired
        return unauthorized()
    if found.seller_id is None:  # grantless tokens cannot act for a seller
        return unauthorized()
    g.rdt, g.pii = False, set()
    if found.resources is not None:
        elements = _rdt_elements(found.resources)
        if elements is None:  # an RDT only opens the resources it was minted for
            return unauthorized()
        g.rdt, g.pii = True, elements
    return found.seller_id


def query_list(name: str) -> list[str] | None:
    """An array query parameter: comma-separated (the SDKs' csv format) and/or repeated."""
    raw = request.args.getlist(name)
    if not raw:
        return None
    values: list[str] = []
    for item in raw:
        values.extend(v.strip() for v in item.split(",") if v.strip())
    return values


def request_json() -> Any:
    """The JSON body, or None when absent or malformed."""
    return request.get_json(silent=True, force=True)


def sp_operation(name: str, model: str, operation_id: str) -> Callable:
    """Wrap a route as SP-API operation `name` (also its usage-plan key)."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            state = current_state()
            g.operation = name
            with state.lock:
                state.calls[name] += 1
            seller = authenticate(state)
            if isinstance(seller, Response):
                return seller
            g.seller_id = seller
            fault = state.faults.draw()
            if fault == "timeout":
                with state.lock:
                    state.faults_served["timeout"] += 1
                time.sleep(state.faults.settings.timeout_seconds)
            if fault == "429" or not state.throttle.allow(seller, name):
                with state.lock:
                    state.throttled[name] += 1
                    if fault == "429":
                        state.faults_served["429"] += 1
                return quota_exceeded()
            if fault in ("500", "503"):
                with state.lock:
                    state.faults_served[fault] += 1
                if fault == "500":
                    return error(500, "InternalFailure", "We encountered an internal error. Please try again.")
                return error(503, "ServiceUnavailable", "Service temporarily unavailable. Please try again.")
            from .feeds import advance_feeds  # feeds imports this module

            advance_feeds(state)
            example = state.examples.match(model, operation_id, request.view_args or {}, request.args,
                                           request_json() if request.data else None)
            if example is not None:
                if example.status == 204 or example.response is None:
                    response = Response(status=example.status)
                else:
                    response = json_response(example.response, example.status)
            else:
                response = fn(*args, **kwargs)
            if response.status_code < 300 or response.status_code in (400, 404):
                response.headers["x-amzn-RateLimit-Limit"] = state.throttle.rate_header(name)
            hold = state.faults.settings.slow_answer.get(name)
            if hold:
                time.sleep(hold)  # done already; only the answer is late
            return response

        return wrapper

    return decorate
