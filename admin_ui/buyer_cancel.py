"""The buyer asked to cancel (v2026 CANCELLATION data): one click confirms, queuing a BuyerCanceled cancel.

The request is queued exactly as the Cancel Order page queues one (an `OutboundAction` of kind "cancel",
recorded before anything is sent); the actions job sends it. Operators and admins only.
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from bridge.domain import AmazonStatus
from bridge.storage.models import OrderEvent, OutboundAction, Role

from . import get_runtime
from .auth import require_role
from .extensions import db
from .orders import cancel_action, find_order

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
    if cancel_action(record) is not None:
        flash("A cancel request for this order exists already.", "warning")
        return redirect(detail)
    if record.status != AmazonStatus.UNSHIPPED.value:
        flash(f"Not cancelled: the order is {record.status}. Only Unshipped orders can be cancelled; "
              "answer the buyer in Seller Central.", "error")
        return redirect(detail)
    db.session.add(OutboundAction(
        order_id=record.id, kind="cancel", dedupe_key="cancel", reason=REASON, requested_by=current_user.username,
        payload={"reason": REASON, "order_item_ids": [item.order_item_id for item in record.items]},
    ))
    db.session.add(OrderEvent(
        order_id=record.id, kind="cancel_requested", actor=current_user.username,
        message=f"The buyer's cancellation request was confirmed (reason {REASON}). Queued to be sent to Amazon.",
    ))
    record.notes = "Cancellation requested: Buyer Canceled"
    try:
        db.session.commit()  # recorded before it is queued: a crash or Redis outage never loses it
    except IntegrityError:
        db.session.rollback()
        flash("A cancel request for this order exists already.", "warning")
        return redirect(detail)
    try:
        from jobs.queues import enqueue_actions

        enqueue_actions(get_runtime().redis, record.store_id)
        flash("The buyer's cancellation is queued and will be sent to Amazon; this page shows its state.", "success")
    except Exception as exc:  # noqa: BLE001 - the action row stays queued and the next sync sends it
        log.warning("buyer cancel %s: could not enqueue the actions job: %s", record.amazon_order_id, exc)
        flash("The buyer's cancellation is recorded and will be sent to Amazon with the next sync.", "warning")
    return redirect(detail)
