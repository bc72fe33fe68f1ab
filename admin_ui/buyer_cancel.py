"""The buyer asked to cancel (v2026 CANCELLATION data): one click confirms, queuing a BuyerCanceled cancel.

The request is recorded by the same rule as the Cancel Order page and `amazon-bridge cancel`
(`bridge.cancellation.request_cancel`: an outbox action, recorded before anything is sent); the outbox job
sends it. Operators and admins only.
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from redis import RedisError
from sqlalchemy.exc import IntegrityError

from bridge.cancellation import CancelRefused, request_cancel
from bridge.storage.models import Role

from . import get_runtime
from .auth import require_role
from .extensions import db
from .orders import find_order

log = logging.getLogger(__name__)

bp = Blueprint("buyer_cancel", __name__)

REASON = "BuyerCanceled"


@bp.route("/orders/<amazon_order_id>/confirm-buyer-cancel", methods=["POST"])
@require_role(Role.OPERATOR)
def confirm(amazon_order_id: str):
    record = find_order(amazon_order_id)
    detail = url_for("orders.detail", amazon_order_id=record.amazon_order_id, store=record.store.code)
    if not record.buyer_cancel_requested:
        flash(f"The buyer has not asked to cancel order {record.amazon_order_id}; nothing queued.", "warning")
        return redirect(detail)
    try:
        request_cancel(db.session(), record, REASON, requested_by=current_user.username)
        db.session.commit()  # recorded before it is queued: a crash or Redis outage never loses it
    except CancelRefused as exc:
        db.session.rollback()
        flash(f"Not cancelled: {exc}", "error")
        return redirect(detail)
    except IntegrityError:
        db.session.rollback()
        flash("A cancel request for this order exists already.", "warning")
        return redirect(detail)
    try:
        from jobs.queues import enqueue_outbox

        enqueue_outbox(get_runtime().redis, record.store_id)
        flash("The buyer's cancellation is queued and will be sent to Amazon; this page shows its state.", "success")
    except RedisError as exc:  # the action row stays queued and the scheduler's outbox sweep sends it
        log.warning("buyer cancel %s: could not enqueue the actions job: %s", record.amazon_order_id, exc)
        flash("The buyer's cancellation is recorded and will be sent to Amazon with the next sync.", "warning")
    return redirect(detail)
