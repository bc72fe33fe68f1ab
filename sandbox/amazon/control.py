"""`/_sandbox/*`: seed orders, move them, move the clock, set faults, reset, and look inside.

These endpoints are the twin's own (Amazon has nothing like them); they need no token and are never
throttled or faulted.
"""

from __future__ import annotations

import gzip
from dataclasses import asdict

from flask import Blueprint, Response, request

from . import lifecycle
from .clock import iso
from .faults import FaultSettings
from .feeds import advance_feeds, feed_json
from .spapi import current_state, json_response
from .store import TwinState

bp = Blueprint("amazon_control", __name__, url_prefix="/_sandbox")

REQUIRED_ORDER_FIELDS = ("orderId", "createdTime", "salesChannel", "orderItems")


def bad_request(message: str) -> Response:
    return json_response({"error": message}, 400)


def _seller(state: TwinState, body: dict | None = None) -> str:
    return (request.args.get("sellerId") or (body or {}).get("sellerId")
            or state.config.default_seller_id)


@bp.post("/orders")
def seed_orders() -> Response:
    state = current_state()
    body = request.get_json(silent=True, force=True)
    orders = body.get("orders") if isinstance(body, dict) else body
    if not isinstance(orders, list):
        return bad_request("Send a JSON list of v2026 Order objects (or {\"orders\": [...]}).")
    for index, order in enumerate(orders):
        if not isinstance(order, dict):
            return bad_request(f"orders[{index}] is not an object.")
        missing = [f for f in REQUIRED_ORDER_FIELDS if f not in order]
        if missing:
            return bad_request(f"orders[{index}] lacks required field(s): {', '.join(missing)}.")
        if not isinstance(order["orderItems"], list) or not all(
            isinstance(i, dict) and "orderItemId" in i and "quantityOrdered" in i for i in order["orderItems"]
        ):
            return bad_request(f"orders[{index}].orderItems needs orderItemId and quantityOrdered.")
    keep = request.args.get("keepLastUpdated", "").lower() in ("1", "true", "yes")
    count = state.upsert_orders(_seller(state, body if isinstance(body, dict) else None), orders,
                                keep_last_updated=keep)
    return json_response({"upserted": count, "now": iso(state.clock.now())})


@bp.get("/orders")
def list_orders() -> Response:
    state = current_state()
    advance_feeds(state)
    with state.lock:
        return json_response({"orders": list(state.seller_orders(_seller(state)).values())})


@bp.get("/orders/<order_id>")
def show_order(order_id: str) -> Response:
    state = current_state()
    advance_feeds(state)
    with state.lock:
        order = state.find_order(_seller(state), order_id)
        if order is None:
            return json_response({"error": f"order {order_id} not found"}, 404)
        return json_response(order)


@bp.post("/orders/<order_id>/status")
def move_order(order_id: str) -> Response:
    """Body: {"status": "CANCELLED", "cancelledBy": "BUYER", "reason": "..."} | {"status": "SHIPPED"} |
    {"status": any FulfillmentStatus} | {"buyerCancelRequest": "reason"}."""
    state = current_state()
    body = request.get_json(silent=True, force=True)
    if not isinstance(body, dict):
        return bad_request("Send a JSON object.")
    with state.lock:
        order = state.find_order(_seller(state, body), order_id)
        if order is None:
            return json_response({"error": f"order {order_id} not found"}, 404)
        now = state.clock.now()
        if "buyerCancelRequest" in body:
            lifecycle.request_cancellation(order, str(body["buyerCancelRequest"] or "Buyer requested"), now)
        else:
            status = body.get("status")
            if status not in {"PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED",
                              "CANCELLED", "UNFULFILLABLE"}:
                return bad_request(f"Unknown status {status!r}.")
            if status == "CANCELLED":
                by = body.get("cancelledBy", "BUYER")
                if by not in ("BUYER", "MERCHANT", "AMAZON"):
                    return bad_request("cancelledBy must be BUYER, MERCHANT or AMAZON.")
                lifecycle.cancel(order, by, {}, str(body.get("reason") or "BuyerCanceled"), now)
            elif status == "SHIPPED":
                lifecycle.ship_all(order, now)
            else:
                lifecycle.set_status(order, status, now)
        state.save()
        return json_response(order)


@bp.route("/clock", methods=["GET", "POST"])
def clock() -> Response:
    state = current_state()
    if request.method == "POST":
        body = request.get_json(silent=True, force=True) or {}
        seconds = body.get("advanceSeconds", body.get("seconds")) if isinstance(body, dict) else None
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            return bad_request("Send {\"advanceSeconds\": N} with N >= 0.")
        state.clock.advance(float(seconds))
    advance_feeds(state)
    return json_response({"now": iso(state.clock.now())})


@bp.route("/faults", methods=["GET", "POST"])
def faults() -> Response:
    state = current_state()
    if request.method == "POST":
        body = request.get_json(silent=True, force=True)
        if not isinstance(body, dict):
            return bad_request("Send a JSON object.")
        settings = asdict(state.faults.settings)
        unknown = set(body) - set(settings)
        if unknown:
            return bad_request(f"Unknown fault setting(s): {', '.join(sorted(unknown))}.")
        settings.update(body)
        try:
            state.faults.configure(FaultSettings(**settings))
        except (TypeError, ValueError) as exc:
            return bad_request(str(exc))
    return json_response(state.faults.settings.as_dict())


@bp.post("/reset")
def reset() -> Response:
    state = current_state()
    state.reset()
    return json_response({"reset": True})


@bp.route("/stats", methods=["GET", "DELETE"])
def stats() -> Response:
    """Calls per operation, 429s served per operation, faults served; DELETE zeroes the counters."""
    state = current_state()
    with state.lock:
        if request.method == "DELETE":
            state.calls.clear()
            state.throttled.clear()
            state.faults_served.clear()
        return json_response({
            "calls": dict(state.calls),
            "throttled": dict(state.throttled),
            "throttledTotal": sum(state.throttled.values()),
            "faults": dict(state.faults_served),
        })


@bp.get("/feeds")
def list_feeds() -> Response:
    state = current_state()
    advance_feeds(state)
    now = state.clock.now()
    with state.lock:
        out = []
        for feed in state.feeds.values():
            item = feed_json(feed, now)
            item["sellerId"] = feed.seller_id
            item["inputFeedDocumentId"] = feed.input_document_id
            document = state.documents.get(feed.input_document_id)
            item["inputDocument"] = (document.data or b"").decode("utf-8", "replace") if document else None
            result = state.documents.get(feed.result_document_id or "")
            report = result.data if result and result.data else None
            if report is not None and result.compression == "GZIP":
                report = gzip.decompress(report)
            item["processingReport"] = report.decode("utf-8") if report is not None else None
            out.append(item)
    return json_response({"feeds": out})


@bp.get("/adjustments")
def adjustments() -> Response:
    state = current_state()
    advance_feeds(state)
    with state.lock:
        return json_response({"adjustments": list(state.adjustments),
                              "acknowledgements": list(state.acknowledgements)})
