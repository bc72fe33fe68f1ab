"""The outbox: everything the bridge tells Amazon (cancels, shipment confirmations, refunds), never lost,
never sent twice.

Every request is an `OutboundAction` row first (state `queued`), written by the admin, the CLI or the
Commerce poll. `process_outbox` then does what can be done *now* and returns; it never waits for Amazon:

* shipments go through `confirmShipment` (synchronous, 204). Re-sending the same `packageReferenceId`
  (the Commerce shipment id) edits that package instead of shipping twice, so a crash after Amazon's
  answer is harmless.
* cancels and refunds go as feeds. The *intent* is saved before the feed exists: the feed document id and
  each action's MessageID are committed right after `createFeedDocument`; only then are the bytes uploaded
  and `createFeed` called, and the feed id is committed after. A run that finds an intent without a feed id
  (the previous worker died in between) asks Amazon (`getFeeds`) for a feed of that type created since the
  intent that no action knows yet: that feed is adopted, otherwise nothing was created and the actions are
  sent afresh. Amazon's processing report is read by a *later* run (`next_attempt_at`), and each action
  becomes `accepted` or `rejected` with Amazon's words.

A per-store Redis lock with a lease keeps two runs of one store from interleaving; the scheduler's sweep
(`due_stores`) re-runs any store whose rows say work is pending, so nothing depends on one enqueue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from redis import Redis, RedisError
from redis.lock import Lock
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from bridge.amazon.errors import AmazonAuthError, AmazonError, AmazonInvalidInput, AmazonNotFound
from bridge.amazon.feeds import (
    ORDER_ACKNOWLEDGEMENT,
    PAYMENT_ADJUSTMENT,
    CancelRequest,
    FeedBuildError,
    FeedReportError,
    ItemAdjustment,
    ProcessingReport,
    RefundRequest,
    build_cancel_feed,
    build_refund_feed,
)
from bridge.domain import CANCEL_REASONS
from bridge.errors import is_transient
from bridge.storage.db import SessionFactory
from bridge.storage.models import (
    ActionState,
    AmazonOrderRecord,
    OutboundAction,
    Store,
    utcnow,
)
from bridge.storage.orders import add_event

if TYPE_CHECKING:
    from bridge.amazon.client import AmazonClient

log = logging.getLogger(__name__)

FEED_KINDS = {"cancel": ORDER_ACKNOWLEDGEMENT, "refund": PAYMENT_ADJUSTMENT}
KIND_WORDS = {"cancel": "Cancellation", "refund": "Refund", "shipment": "Shipment confirmation"}
REASON_LABELS = dict(CANCEL_REASONS)
MAX_ATTEMPTS = 8
# Back-off between failed sends (Amazon or the network down), in seconds of real time.
RETRY_DELAYS = (60, 120, 300, 600, 1800, 3600, 3600, 3600)
CHECK_DELAY = 60.0  # a feed's processing report is looked at this long after submitting (real seconds)
LOOKUP_MARGIN = timedelta(minutes=10)  # getFeeds window before the intent: clocks differ a little
LOCK_SECONDS = 300


@dataclass
class OutboxResult:
    submitted: int = 0  # feeds' actions handed to Amazon in this run
    confirmed: int = 0  # shipments confirmed in this run
    accepted: int = 0
    rejected: int = 0
    gave_up: int = 0
    recovered: int = 0  # actions whose feed was found at Amazon after a crash
    pending: int = 0  # actions whose feed Amazon is still processing
    feeds: list[str] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        return self.pending > 0


def _delay(seconds: float, rate_scale: float) -> timedelta:
    return timedelta(seconds=seconds / max(rate_scale, 1e-9))


def _set(action: OutboundAction, state: ActionState, message: str, kind_suffix: str, actor: str = "sync") -> None:
    action.state = state.value
    action.result = message
    if state.value in (ActionState.ACCEPTED.value, ActionState.REJECTED.value, ActionState.GIVING_UP.value):
        action.finished_at = utcnow()
    add_event(action.order, f"{action.kind}_{kind_suffix}", message, actor=actor)


def _failed_attempt(action: OutboundAction, error: Exception, rate_scale: float, what: str) -> bool:
    """Count a failed send; True when the action gave up: at once when a person must act
    (`bridge.errors.disposition`), else after MAX_ATTEMPTS retries spread over hours."""
    action.attempts = (action.attempts or 0) + 1
    if not is_transient(error):
        _set(action, ActionState.GIVING_UP, f"{KIND_WORDS[action.kind]} not {what}: {error}", "giving_up")
        return True
    if action.attempts >= MAX_ATTEMPTS:
        _set(action, ActionState.GIVING_UP,
             f"{KIND_WORDS[action.kind]} not sent after {action.attempts} attempts: {error}", "giving_up")
        return True
    delay = RETRY_DELAYS[min(action.attempts - 1, len(RETRY_DELAYS) - 1)]
    action.next_attempt_at = utcnow() + _delay(delay, rate_scale)
    add_event(action.order, f"{action.kind}_retry", f"{KIND_WORDS[action.kind]} could not be {what} yet: {error}. "
              "It is tried again automatically.")
    return False


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(OutboundAction.next_attempt_at.is_(None), OutboundAction.next_attempt_at <= now)


def _store_actions(session: Session, store_id: int, *conditions: ColumnElement[bool]) -> list[OutboundAction]:
    return list(session.scalars(
        select(OutboundAction)
        .join(AmazonOrderRecord, OutboundAction.order_id == AmazonOrderRecord.id)
        .where(AmazonOrderRecord.store_id == store_id, *conditions)
        .order_by(OutboundAction.id)
    ))


def process_outbox(
    session_factory: SessionFactory, store_id: int, amazon: AmazonClient, *, rate_scale: float = 1.0,
    redis: Redis | None = None,
) -> OutboxResult:
    """One non-blocking pass over a store's outbox: check submitted feeds, recover, submit, confirm."""
    lock: Lock | None = None
    if redis is not None:
        lock = redis.lock(f"amazon-bridge:outbox-lock:{store_id}", timeout=LOCK_SECONDS, blocking=False)
        if not lock.acquire(blocking=False):
            log.info("store %s: another outbox run holds the lock; this one does nothing", store_id)
            return OutboxResult()
    try:
        result = OutboxResult()
        check_feeds(session_factory, store_id, amazon, result, rate_scale=rate_scale)
        for kind, feed_type in FEED_KINDS.items():
            recover_intents(session_factory, store_id, amazon, kind, feed_type, result)
            submit_feed(session_factory, store_id, amazon, kind, feed_type, result, rate_scale=rate_scale)
        confirm_shipments(session_factory, store_id, amazon, result, rate_scale=rate_scale)
        return result
    finally:
        if lock is not None:
            try:
                lock.release()
            except RedisError:  # an expired lease (LockError) is not worth failing a finished run
                log.warning("store %s: outbox lock expired before release", store_id)


# -------------------------------------------------------------------------------------- feeds: submit


def _cancel_request(action: OutboundAction) -> CancelRequest:
    payload = action.payload or {}
    item_ids = payload.get("order_item_ids") or [item.order_item_id for item in action.order.items]
    return CancelRequest(amazon_order_id=action.order.amazon_order_id, order_item_ids=list(item_ids),
                         reason=action.reason or "NoInventory")


def _refund_request(action: OutboundAction) -> RefundRequest:
    payload = action.payload or {}
    items = [
        ItemAdjustment(
            order_item_id=line["order_item_id"],
            reason=action.reason or "CustomerReturn",
            components={name: Decimal(str(value)) for name, value in line["components"].items()},
            merchant_adjustment_item_id=line.get("merchant_adjustment_item_id"),
        )
        for line in payload.get("items") or []
    ]
    return RefundRequest(amazon_order_id=action.order.amazon_order_id,
                         currency=payload.get("currency") or action.order.currency, items=items)


def _build(kind: str, seller_id: str, actions: list[OutboundAction]) -> bytes:
    if kind == "cancel":
        return build_cancel_feed(seller_id, [_cancel_request(a) for a in actions])
    return build_refund_feed(seller_id, [_refund_request(a) for a in actions])


def submit_feed(session_factory: SessionFactory, store_id: int, amazon: AmazonClient, kind: str, feed_type: str,
                result: OutboxResult, *, rate_scale: float = 1.0) -> None:
    """Queued actions of one kind -> one feed; the intent is committed before the feed is created."""
    now = utcnow()
    with session_factory() as session:
        store = session.get_one(Store, store_id)
        actions = _store_actions(
            session, store_id, OutboundAction.kind == kind, OutboundAction.state == ActionState.QUEUED.value,
            OutboundAction.feed_document_id.is_(None), _due(now),
        )
        sendable = []
        for action in actions:
            if (action.attempts or 0) >= MAX_ATTEMPTS:  # every earlier send failed (and none reached Amazon)
                _set(action, ActionState.GIVING_UP, f"{KIND_WORDS[kind]} not sent after {action.attempts} attempts; "
                     "see the retries above.", "giving_up")
                result.gave_up += 1
                continue
            try:
                _build(kind, store.seller_id, [action])  # each alone: one bad request never blocks the rest
            except FeedBuildError as exc:
                _set(action, ActionState.GIVING_UP, f"{KIND_WORDS[kind]} not sent: {exc}", "giving_up")
                result.gave_up += 1
                continue
            sendable.append(action)
        session.commit()
        if not sendable:
            return
        content = _build(kind, store.seller_id, sendable)
        try:
            document_id, url = amazon.create_feed_document()
        except AmazonAuthError:
            raise
        except AmazonError as exc:
            for action in sendable:
                result.gave_up += _failed_attempt(action, exc, rate_scale, "sent")
            session.commit()
            return
        intent_at = utcnow()
        for message_id, action in enumerate(sendable, start=1):
            action.feed_type = feed_type
            action.feed_document_id = document_id
            action.message_id = message_id
            action.intent_at = intent_at
        session.commit()  # the intent: from here on a re-run looks for this feed before sending again
        try:
            amazon.upload_feed_document(url, content)
            feed_id = amazon.create_feed(feed_type, document_id, size=len(content))
        except AmazonAuthError:
            raise
        except AmazonError as exc:
            # Not created (createFeed is never retried blindly). The next run looks the feed up first.
            for action in sendable:
                action.attempts = (action.attempts or 0) + 1
                action.next_attempt_at = utcnow() + _delay(RETRY_DELAYS[0], rate_scale)
                add_event(action.order, f"{kind}_retry", f"{KIND_WORDS[kind]} could not be sent yet: {exc}. "
                          "It is tried again automatically.")
            session.commit()
            return
        _mark_submitted(sendable, feed_id, rate_scale)
        session.commit()
        result.submitted += len(sendable)
        result.feeds.append(feed_id)
        log.info("store %s: %d %s action(s) submitted in feed %s", store.code, len(sendable), kind, feed_id)


def _mark_submitted(actions: list[OutboundAction], feed_id: str, rate_scale: float, recovered: bool = False) -> None:
    now = utcnow()
    for action in actions:
        action.state = ActionState.SUBMITTED.value
        action.feed_id = feed_id
        action.sent_at = action.sent_at or now
        action.next_attempt_at = now + _delay(CHECK_DELAY, rate_scale)
        detail = f" (reason {_reason_text(action)})" if action.kind == "cancel" else ""
        found = " (found at Amazon after an interrupted send)" if recovered else ""
        add_event(action.order, f"{action.kind}_submitted",
                  f"{KIND_WORDS[action.kind]}{detail} submitted to Amazon in feed {feed_id}{found}; "
                  "waiting for Amazon's processing report.")


def _reason_text(action: OutboundAction) -> str:
    code = action.reason or ""
    label = REASON_LABELS.get(code)
    return f"{label} ({code})" if label else code


# ------------------------------------------------------------------------------------ feeds: recovery


def recover_intents(session_factory: SessionFactory, store_id: int, amazon: AmazonClient, kind: str, feed_type: str,
                    result: OutboxResult) -> None:
    """Actions with a saved intent but no feed id: adopt the feed Amazon has, or send afresh."""
    with session_factory() as session:
        pending = _store_actions(
            session, store_id, OutboundAction.kind == kind, OutboundAction.state == ActionState.QUEUED.value,
            OutboundAction.feed_document_id.is_not(None), OutboundAction.feed_id.is_(None),
        )
        if not pending:
            return
        by_document: dict[str, list[OutboundAction]] = {}
        for action in pending:
            if action.feed_document_id is not None:  # always, by the query
                by_document.setdefault(action.feed_document_id, []).append(action)
        since = min(a.intent_at or a.requested_at for a in pending) - LOOKUP_MARGIN
        feeds = amazon.list_feeds([feed_type], created_since=since)
        known = set(session.scalars(select(OutboundAction.feed_id).where(OutboundAction.feed_id.is_not(None))))
        unknown = sorted((f for f in feeds if f.feed_id not in known),
                         key=lambda f: (f.created_time or since, f.feed_id))
        for document_id, actions in sorted(by_document.items(), key=lambda kv: kv[1][0].intent_at or since):
            intent_at = actions[0].intent_at or since
            match = next((f for f in unknown if f.created_time is None or f.created_time >= intent_at - LOOKUP_MARGIN),
                         None)
            if match is not None:
                unknown.remove(match)
                _mark_submitted(actions, match.feed_id, 1.0, recovered=True)
                for action in actions:
                    action.next_attempt_at = None  # check it in this same pass or the next
                result.recovered += len(actions)
                log.warning("store %s: feed %s adopted for document %s after an interrupted send",
                            store_id, match.feed_id, document_id)
            else:
                for action in actions:  # nothing reached Amazon: send again from the start
                    action.feed_document_id = None
                    action.message_id = None
                    action.feed_type = None
        session.commit()


# --------------------------------------------------------------------------------------- feeds: check


def check_feeds(session_factory: SessionFactory, store_id: int, amazon: AmazonClient, result: OutboxResult, *,
                rate_scale: float = 1.0) -> None:
    """Read the processing report of every submitted feed that is due for a look; never waits."""
    now = utcnow()
    with session_factory() as session:
        actions = _store_actions(session, store_id, OutboundAction.state == ActionState.SUBMITTED.value, _due(now))
        feed_ids = sorted({a.feed_id for a in actions if a.feed_id})
    for feed_id in feed_ids:
        try:
            status = amazon.get_feed(feed_id)
            report = None
            if status.done and status.result_feed_document_id:
                report = amazon.get_processing_report(status.result_feed_document_id)
        except AmazonAuthError:
            raise
        except (AmazonNotFound, AmazonError) as exc:
            log.warning("store %s: feed %s could not be checked: %s", store_id, feed_id, exc)
            _later(session_factory, feed_id, rate_scale)
            result.pending += 1
            continue
        except FeedReportError as exc:  # the actions stay submitted: nothing is settled on a report not read
            log.warning("store %s: feed %s: %s", store_id, feed_id, exc)
            _later(session_factory, feed_id, rate_scale, note=f"Amazon's processing report of feed {feed_id} "
                   f"could not be read: {exc}. It is read again later; the request stays submitted.")
            result.pending += 1
            continue
        if not status.done:
            _later(session_factory, feed_id, rate_scale)
            result.pending += 1
            continue
        accepted, rejected = _settle(session_factory, feed_id, status.processing_status, report)
        result.accepted += accepted
        result.rejected += rejected


def _later(session_factory: SessionFactory, feed_id: str, rate_scale: float, *, note: str | None = None) -> None:
    """Look at the feed again after CHECK_DELAY; `note` goes into each order's history."""
    with session_factory() as session:
        for action in session.scalars(select(OutboundAction).where(
                OutboundAction.feed_id == feed_id, OutboundAction.state == ActionState.SUBMITTED.value)):
            action.next_attempt_at = utcnow() + _delay(CHECK_DELAY, rate_scale)
            if note:
                add_event(action.order, f"{action.kind}_retry", note)
        session.commit()


def _settle(session_factory: SessionFactory, feed_id: str, processing_status: str,
            report: ProcessingReport | None) -> tuple[int, int]:
    accepted = rejected = 0
    with session_factory() as session:
        actions = list(session.scalars(select(OutboundAction).where(
            OutboundAction.feed_id == feed_id, OutboundAction.state == ActionState.SUBMITTED.value)))
        whole_feed_errors = [r for r in (report.results if report else ()) if r.message_id in (None, 0)
                             and r.result_code == "Error"]
        for action in actions:
            words = KIND_WORDS[action.kind]
            errors = report.errors_for(int(action.message_id or 0)) if report else []
            if processing_status != "DONE" or report is None or whole_feed_errors:
                why = "; ".join(e.description for e in (errors or whole_feed_errors)) or f"feed {processing_status}"
                _set(action, ActionState.REJECTED, f"{words} rejected by Amazon (feed {feed_id}): {why}", "rejected")
                rejected += 1
            elif errors:
                _set(action, ActionState.REJECTED, f"{words} rejected by Amazon (feed {feed_id}): "
                     + "; ".join(e.description for e in errors), "rejected")
                rejected += 1
            else:
                done = {"cancel": "Amazon cancelled the order", "refund": "Amazon accepted the refund"}[action.kind]
                _set(action, ActionState.ACCEPTED, f"{done} (feed {feed_id}).", "accepted")
                accepted += 1
        session.commit()
    return accepted, rejected


# ------------------------------------------------------------------------------------------- shipments


def confirm_shipments(session_factory: SessionFactory, store_id: int, amazon: AmazonClient, result: OutboxResult, *,
                      rate_scale: float = 1.0) -> None:
    """confirmShipment for each queued shipment; Amazon answers at once (204 or an error)."""
    now = utcnow()
    with session_factory() as session:
        store = session.get_one(Store, store_id)
        for action in _store_actions(session, store_id, OutboundAction.kind == "shipment",
                                     OutboundAction.state == ActionState.QUEUED.value, _due(now)):
            p = action.payload or {}
            action.intent_at = utcnow()
            try:
                amazon.confirm_shipment(
                    action.order.amazon_order_id,
                    marketplace_id=action.order.marketplace_id or store.marketplace_id,
                    package_reference_id=str(p["package_reference_id"]),
                    carrier_code=p["carrier_code"],
                    carrier_name=p.get("carrier_name"),
                    tracking_number=p["tracking_number"],
                    ship_date=datetime.fromisoformat(p["ship_date"]),
                    items=[(item_id, int(qty)) for item_id, qty in p["items"]],
                    shipping_method=p.get("shipping_method"),
                )
            except AmazonAuthError:
                raise
            except AmazonInvalidInput as exc:
                _set(action, ActionState.REJECTED, f"Shipment confirmation rejected by Amazon: {_amazon_words(exc)}",
                     "rejected")
                result.rejected += 1
            except AmazonError as exc:
                result.gave_up += _failed_attempt(action, exc, rate_scale, "sent")
            else:
                carrier = p["carrier_code"] + (f" ({p['carrier_name']})" if p.get("carrier_name") else "")
                quantities = ", ".join(f"{qty} × {item_id}" for item_id, qty in p["items"])
                _set(action, ActionState.ACCEPTED,
                     f"Shipment confirmed on Amazon: {carrier}, tracking {p['tracking_number']}, {quantities}.",
                     "accepted")
                result.confirmed += 1
                result.accepted += 1
            session.commit()


def _amazon_words(exc: AmazonError) -> str:
    messages = [e.get("message") for e in (getattr(exc, "errors", None) or []) if isinstance(e, dict)]
    return "; ".join(m for m in messages if m) or str(exc)


# ----------------------------------------------------------------------------------------- the sweep


def due_stores(session: Session, now: datetime) -> list[int]:
    """Stores with outbox work a run would do now (queued and due, or a feed due for a look)."""
    return sorted(set(session.scalars(
        select(AmazonOrderRecord.store_id)
        .join(OutboundAction, OutboundAction.order_id == AmazonOrderRecord.id)
        .where(OutboundAction.state.in_([ActionState.QUEUED.value, ActionState.SUBMITTED.value]), _due(now))
        .distinct()
    )))


def next_check_in(session: Session, store_id: int, now: datetime) -> float | None:
    """Seconds until the store's earliest pending action is due (for the job to re-enqueue itself)."""
    times = [a.next_attempt_at for a in _store_actions(
        session, store_id, OutboundAction.state.in_([ActionState.QUEUED.value, ActionState.SUBMITTED.value]))]
    if not times:
        return None
    due = [t for t in times if t is not None]
    if len(due) < len(times):
        return 0.0
    return max((min(due) - now).total_seconds(), 0.0)
