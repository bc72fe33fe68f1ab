"""Amazon Order Cancellation: cancel an Unshipped order with one of ASC's ten reasons.

The page only records the request and queues it; the actions job sends it to Amazon. Before recording,
the order's status is checked again with Amazon, because our copy may be minutes old and a shipped
order must never be cancelled.
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from redis import RedisError
from sqlalchemy.exc import IntegrityError
from wtforms import SelectField
from wtforms.validators import DataRequired

from bridge.domain import CANCEL_REASONS, AmazonStatus
from bridge.errors import BridgeError, retry_hint
from bridge.storage.models import AmazonOrderRecord, OutboundAction, Role
from bridge.storage.orders import add_event

from . import get_runtime
from .auth import require_role
from .extensions import db
from .forms import choices
from .orders import cancel_action, find_order, seller_central_url

log = logging.getLogger(__name__)

bp = Blueprint("cancel", __name__)

REASON_LABELS = dict(CANCEL_REASONS)
NOTE = "The selected reason will be sent to Amazon and the buyer."


class CancelForm(FlaskForm):
    reason = SelectField(
        "Reason For Cancellation",
        choices=choices([("", "Please select"), *CANCEL_REASONS]),
        validators=[DataRequired(message="Choose a reason for cancellation.")],
    )

    def validate_reason(self, field: SelectField) -> None:
        if field.data not in REASON_LABELS:
            from wtforms.validators import ValidationError

            raise ValidationError("Choose one of the listed reasons.")


def _detail_url(record: AmazonOrderRecord) -> str:
    return url_for("orders.detail", amazon_order_id=record.amazon_order_id, store=record.store.code)


def _page(record: AmazonOrderRecord, form: CancelForm, blocked: str | None = None):
    return render_template("cancel/cancel.html", record=record, form=form, note=NOTE, blocked=blocked,
                           seller_central=seller_central_url(record.store, record.amazon_order_id))


def _why_not(record: AmazonOrderRecord) -> str | None:
    """Why this order can't be canceled here (shown instead of the form), or None when it can."""
    if record.status == AmazonStatus.UNSHIPPED.value:
        return None
    if record.status in (AmazonStatus.SHIPPED.value, AmazonStatus.PARTIALLY_SHIPPED.value, "Completed"):
        why = "Amazon has it as shipped, and a shipped order can no longer be canceled; refund it instead"
    elif record.status == AmazonStatus.CANCELED.value:
        why = "it is canceled already"
    else:
        why = "Amazon accepts cancellations only once the order is Unshipped (payment confirmed)"
    return (f"This order is {record.status}: {why}. Only Unshipped orders can be cancelled here; "
            "use Seller Central for the others.")


def _refuse(record: AmazonOrderRecord, form: CancelForm, message: str):
    flash(message, "error")
    return _page(record, form, _why_not(record)), 409


def _status_now(record: AmazonOrderRecord) -> str:
    """Amazon's current status of the order; raises whatever the client raises when Amazon can't say."""
    client = get_runtime().amazon_client(record.store)
    order = client.get_order(record.amazon_order_id)
    return str(order.status.value if isinstance(order.status, AmazonStatus) else order.status)


@bp.route("/orders/<amazon_order_id>/cancel", methods=["GET", "POST"])
@require_role(Role.OPERATOR)
def cancel(amazon_order_id: str):
    record = find_order(amazon_order_id)
    form = CancelForm()
    existing = cancel_action(record)
    if existing is not None:
        outcome = f": {existing.result}" if existing.result else ""
        flash(
            f"A cancel request for this order exists already ({existing.state}, asked by {existing.requested_by})"
            f"{outcome}",
            "warning",
        )
        return redirect(_detail_url(record))
    if request.method == "GET":
        return _page(record, form, _why_not(record))

    if not form.validate_on_submit():
        return _page(record, form), 400
    if record.status != AmazonStatus.UNSHIPPED.value:
        return _refuse(
            record, form, f"Not cancelled: the order is {record.status}. Only Unshipped orders can be cancelled."
        )
    try:
        status_now = _status_now(record)
    except (BridgeError, RedisError) as exc:  # refuse rather than cancel on a stale copy
        log.warning("cancel %s: could not check the status with Amazon: %s", record.amazon_order_id, exc)
        return _refuse(
            record, form, f"Not cancelled: could not check the order's status with Amazon ({exc}). {retry_hint(exc)}"
        )
    if status_now != AmazonStatus.UNSHIPPED.value:
        old = record.status
        record.status = status_now
        add_event(record, "status_changed",
                  f"Status updated to {status_now} (was {old}), seen while checking a cancel request.",
                  current_user.username)
        db.session.commit()
        return _refuse(
            record,
            form,
            f"Not cancelled: Amazon reports the order as {status_now} now. Only Unshipped orders can be cancelled.",
        )

    reason = form.reason.data
    label = REASON_LABELS[reason]
    db.session.add(
        OutboundAction(
            order_id=record.id,
            kind="cancel",
            dedupe_key="cancel",
            reason=reason,
            requested_by=current_user.username,
            payload={"reason": reason, "order_item_ids": [item.order_item_id for item in record.items]},
        )
    )
    add_event(record, "cancel_requested",
              f"Cancellation requested, reason: {label} ({reason}). Queued to be sent to Amazon.",
              current_user.username)
    record.notes = f"Cancellation requested: {label}"
    try:
        db.session.commit()  # recorded before it is queued, so a crash never loses the request
    except IntegrityError:
        db.session.rollback()
        flash("A cancel request for this order exists already.", "warning")
        return redirect(_detail_url(record))
    try:
        from jobs.queues import enqueue_outbox

        enqueue_outbox(get_runtime().redis, record.store_id)
        flash(
            "The cancel request is queued. It is sent to Amazon in a moment; the order's page shows Amazon's answer "
            "once its processing report is in.",
            "success",
        )
    except RedisError as exc:  # the action row stays queued and the next sync sends it
        log.warning("cancel %s: could not enqueue the actions job: %s", record.amazon_order_id, exc)
        flash("The cancel request is recorded and will be sent to Amazon with the next sync.", "warning")
    return redirect(_detail_url(record))
