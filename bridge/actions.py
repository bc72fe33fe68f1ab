"""Sending merchants' requests to Amazon: cancels of Unshipped orders, through the order acknowledgement feed.

A request is recorded (`OutboundAction`, state queued) before anything is sent, so none is lost. Sending
submits one feed for all queued cancels of a store and marks them `sent` with the feed id in the same
commit; a later run (or the same one, after waiting) reads Amazon's processing report and marks each
`done` or `failed` with Amazon's text. A crash between those steps leaves `sent` actions that the next
run resumes by polling their feed, so nothing is submitted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.amazon.feeds import CancelRequest, FeedBuildError, build_cancel_feed
from bridge.storage.models import ActionState, AmazonOrderRecord, OutboundAction, Store, utcnow
from bridge.storage.orders import add_event

log = logging.getLogger(__name__)

CANCEL_FEED = "POST_ORDER_ACKNOWLEDGEMENT_DATA"


@dataclass
class ActionsResult:
    submitted: int = 0
    done: int = 0
    failed: int = 0
    pending: int = 0


def send_actions(
    session_factory: Callable[[], Session], store_id: int, amazon, *, wait: bool = True, poll_seconds: float = 60.0,
    timeout: float = 1500.0,
) -> ActionsResult:
    """Submit the store's queued cancels, then settle every sent feed (waiting for Amazon when `wait`)."""
    result = ActionsResult()
    result.submitted = _submit_cancels(session_factory, store_id, amazon)
    with session_factory() as session:
        feed_ids = sorted(set(session.scalars(
            select(OutboundAction.feed_id)
            .join(AmazonOrderRecord, OutboundAction.order_id == AmazonOrderRecord.id)
            .where(AmazonOrderRecord.store_id == store_id, OutboundAction.state == ActionState.SENT.value)
        )))
    for feed_id in feed_ids:
        status = amazon.wait_for_feed(feed_id, poll_seconds=poll_seconds, timeout=timeout) if wait \
            else amazon.get_feed(feed_id)
        if not status.done:
            result.pending += 1
            continue
        report = None
        if status.processing_status == "DONE" and status.result_feed_document_id:
            report = amazon.get_processing_report(status.result_feed_document_id)
        done, failed = _settle(session_factory, feed_id, status.processing_status, report)
        result.done += done
        result.failed += failed
    return result


def _submit_cancels(session_factory, store_id: int, amazon) -> int:
    with session_factory() as session:
        store = session.get(Store, store_id)
        actions = list(session.scalars(
            select(OutboundAction)
            .join(AmazonOrderRecord, OutboundAction.order_id == AmazonOrderRecord.id)
            .where(
                AmazonOrderRecord.store_id == store_id,
                OutboundAction.kind == "cancel",
                OutboundAction.state == ActionState.QUEUED.value,
            )
            .order_by(OutboundAction.id)
        ))
        if not actions:
            return 0
        requests, sendable = [], []
        for action in actions:
            order = action.order
            request = CancelRequest(
                amazon_order_id=order.amazon_order_id,
                order_item_ids=[item.order_item_id for item in order.items],
                reason=action.reason or "NoInventory",
            )
            try:
                build_cancel_feed(store.seller_id, [request])  # validate this one alone
            except FeedBuildError as exc:
                _finish(action, ActionState.FAILED, f"Not sent: {exc}")
                continue
            requests.append(request)
            sendable.append(action)
        session.commit()
        if not sendable:
            return 0
        content = build_cancel_feed(store.seller_id, requests)
        feed_id = amazon.submit_feed(CANCEL_FEED, content)
        now = utcnow()
        for message_id, action in enumerate(sendable, start=1):
            action.state = ActionState.SENT.value
            action.feed_id = feed_id
            action.sent_at = now
            action.payload = {**(action.payload or {}), "message_id": message_id}
            add_event(action.order, "cancel_sent",
                      f"Cancellation ({action.reason}) sent to Amazon in feed {feed_id}.", actor="sync")
        session.commit()
        log.info("store %s: %d cancellations sent in feed %s", store.code, len(sendable), feed_id)
        return len(sendable)


def _settle(session_factory, feed_id: str, processing_status: str, report) -> tuple[int, int]:
    done = failed = 0
    with session_factory() as session:
        actions = list(session.scalars(
            select(OutboundAction).where(OutboundAction.feed_id == feed_id,
                                         OutboundAction.state == ActionState.SENT.value)
        ))
        for action in actions:
            if report is None:
                _finish(action, ActionState.FAILED, f"Amazon did not process feed {feed_id} ({processing_status}).")
                failed += 1
                continue
            errors = report.errors_for(int((action.payload or {}).get("message_id", 0)))
            if errors:
                _finish(action, ActionState.FAILED, "Amazon refused the cancellation: "
                        + "; ".join(e.description for e in errors))
                failed += 1
            else:
                _finish(action, ActionState.DONE, "Amazon accepted the cancellation.")
                done += 1
        session.commit()
    return done, failed


def _finish(action: OutboundAction, state: ActionState, message: str) -> None:
    action.state = state.value
    action.result = message
    action.finished_at = utcnow()
    add_event(action.order, "cancel_" + ("done" if state is ActionState.DONE else "failed"), message, actor="sync")
