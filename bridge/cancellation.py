"""A merchant's request to cancel an Unshipped Amazon order: checked, then recorded in the outbox.

Shared by the admin's cancel page and `amazon-bridge cancel`. Nothing is sent here: the outbox job sends
it (bridge.outbox), so a request recorded while Redis or Amazon is down is still sent later.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.domain import CANCEL_REASONS, AmazonStatus
from bridge.errors import BridgeError
from bridge.storage.models import AmazonOrderRecord, OutboundAction, Store
from bridge.storage.orders import add_event

REASON_LABELS = dict(CANCEL_REASONS)


class CancelRefused(BridgeError):
    """The request cannot be recorded; the message says why in one sentence."""


def reason_code(value: str) -> str:
    """A reason given as Amazon's code or as its label, in any case -> Amazon's code."""
    wanted = value.strip().lower().replace(" ", "")
    for code, label in CANCEL_REASONS:
        if wanted in (code.lower(), label.lower().replace(" ", "")):
            return code
    raise CancelRefused(f"Unknown cancel reason {value!r}; use one of: {', '.join(c for c, _ in CANCEL_REASONS)}.")


def find_order(session: Session, amazon_order_id: str, store_code: str | None = None) -> AmazonOrderRecord:
    query = select(AmazonOrderRecord).join(Store).where(AmazonOrderRecord.amazon_order_id == amazon_order_id)
    if store_code:
        query = query.where(Store.code == store_code)
    records = list(session.scalars(query))
    if not records:
        where = f" in store {store_code}" if store_code else ""
        raise CancelRefused(f"No Amazon order {amazon_order_id}{where} in the bridge (it may not be synced yet).")
    if len(records) > 1:
        raise CancelRefused(f"Amazon order {amazon_order_id} is in several stores; name one with --store.")
    return records[0]


def existing_cancel(session: Session, record: AmazonOrderRecord) -> OutboundAction | None:
    return session.scalar(select(OutboundAction).where(OutboundAction.order_id == record.id,
                                                       OutboundAction.kind == "cancel",
                                                       OutboundAction.dedupe_key == "cancel"))


def request_cancel(session: Session, record: AmazonOrderRecord, reason: str, *, requested_by: str,
                   status_now: str | None = None) -> OutboundAction:
    """Record the cancel (state queued). `status_now` is Amazon's current status when the caller asked."""
    code = reason_code(reason)
    existing = existing_cancel(session, record)
    if existing is not None:
        raise CancelRefused(f"A cancel request for order {record.amazon_order_id} exists already "
                            f"({existing.state}, asked by {existing.requested_by}).")
    if record.status != AmazonStatus.UNSHIPPED.value:
        raise CancelRefused(f"Order {record.amazon_order_id} is {record.status}; only Unshipped orders can be "
                            "canceled (use Seller Central for the others).")
    if status_now is not None and status_now != AmazonStatus.UNSHIPPED.value:
        old, record.status = record.status, status_now
        add_event(record, "status_changed", f"Status updated to {status_now} (was {old}), seen while checking a "
                                            "cancel request.", actor=requested_by)
        session.commit()
        raise CancelRefused(f"Amazon reports order {record.amazon_order_id} as {status_now} now; only Unshipped "
                            "orders can be canceled.")
    label = REASON_LABELS[code]
    action = OutboundAction(order_id=record.id, kind="cancel", dedupe_key="cancel", reason=code,
                            requested_by=requested_by,
                            payload={"reason": code, "order_item_ids": [i.order_item_id for i in record.items]})
    session.add(action)
    add_event(record, "cancel_requested", f"Cancellation requested, reason: {label}. Queued to be sent to Amazon.",
              actor=requested_by)
    record.notes = f"Cancellation requested: {label}"
    session.flush()
    return action
