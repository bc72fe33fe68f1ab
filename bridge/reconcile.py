"""Reconcile: Amazon's orders of a period against Commerce's, so what the sync missed becomes visible.

Findings (saved in `reconcile_finding`, shown in the admin):
- missing_in_commerce: an importable Amazon order (ASC's rules) with no Commerce order, that the bridge
  never listed or holds in another state than queued (in error, waiting on a status it missed...);
- unknown_to_bridge: a Commerce order whose `ext_order_id` is an Amazon order id this store never listed;
- duplicate: two Commerce orders with one Amazon id;
- status_differs: Amazon cancelled the order but its Commerce order is not canceled;
- total_differs: the Commerce grand total is not Amazon's order total.

`fix=True` re-queues what the bridge can fix itself (orders missing in Commerce: listed again and made due
now); the rest needs a person and says so.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bridge.domain import AmazonOrder, ImportState
from bridge.import_rules import decide
from bridge.magento.search import SearchCriteria
from bridge.order_settings import OrderSettings
from bridge.runtime import Runtime
from bridge.storage.models import (
    AmazonOrderRecord,
    ReconcileFinding,
    ReconcileRun,
    Store,
    utcnow,
)
from bridge.storage.orders import add_event, upsert_orders
from bridge.storage.stores import order_settings

if TYPE_CHECKING:
    from bridge.amazon.client import AmazonClient

log = logging.getLogger(__name__)

AMAZON_ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
COMMERCE_FIELDS = "items[entity_id,increment_id,ext_order_id,state,status,grand_total,created_at],total_count"
DEFAULT_PERIOD = timedelta(days=7)
BEFORE_LAG = timedelta(minutes=2)


@dataclass(frozen=True)
class Finding:
    kind: str
    amazon_order_id: str | None
    magento_entity_id: int | None
    detail: str


def reconcile_store(runtime: Runtime, store_id: int, since: datetime | None = None, *, fix: bool = False,
                    actor: str = "cli") -> int:
    """Compare, save the findings, optionally fix; returns the ReconcileRun id."""
    now = utcnow()
    since = since or now - DEFAULT_PERIOD
    with runtime.db.session() as session:
        store = session.get_one(Store, store_id)
        run = ReconcileRun(store_id=store_id, since=since, actor=actor)
        session.add(run)
        session.flush()
        run_id = run.id
        amazon = runtime.amazon_client(store)
        settings = order_settings(store.order_settings)
    try:
        findings, amazon_count, commerce_count, fixed = _compare(runtime, store_id, settings, amazon, since, now, fix)
    except Exception as exc:
        with runtime.db.session() as session:
            failed = session.get_one(ReconcileRun, run_id)
            failed.result, failed.finished_at, failed.error_text = "failed", utcnow(), f"{type(exc).__name__}: {exc}"
        raise
    with runtime.db.session() as session:
        run = session.get_one(ReconcileRun, run_id)
        run.amazon_orders, run.commerce_orders, run.fixed = amazon_count, commerce_count, len(fixed)
        run.result, run.finished_at = "ok", utcnow()
        for f in findings:
            run.findings.append(ReconcileFinding(kind=f.kind, amazon_order_id=f.amazon_order_id,
                                                 magento_entity_id=f.magento_entity_id, detail=f.detail,
                                                 fixed=f.amazon_order_id in fixed and f.kind == "missing_in_commerce"))
    log.info("store %s: reconcile since %s: %d Amazon orders, %d Commerce orders, %d findings, %d re-queued",
             store_id, since.isoformat(), amazon_count, commerce_count, len(findings), len(fixed))
    return run_id


def _compare(runtime: Runtime, store_id: int, settings: OrderSettings, amazon: AmazonClient, since: datetime,
             now: datetime, fix: bool) -> tuple[list[Finding], int, int, set[str]]:
    """(findings, Amazon orders, Commerce orders, Amazon order ids re-queued)."""
    amazon_orders: dict[str, tuple[AmazonOrder, dict[str, Any]]] = {}
    token: str | None = None
    while True:
        page = amazon.search_orders(created_after=since, created_before=now - BEFORE_LAG, pagination_token=token)
        for order, raw in zip(page.orders, page.raw, strict=True):
            amazon_orders[order.amazon_order_id] = (order, raw)
        token = page.next_token
        if not token:
            break

    magento = runtime.magento_client(settings.store_view_code)
    criteria = (SearchCriteria().where("ext_order_id", None, "notnull")
                .where("created_at", since.strftime("%Y-%m-%d %H:%M:%S"), "gteq").sort("entity_id", "ASC"))
    by_amazon_id: dict[str, list[dict[str, Any]]] = {}
    commerce_count = 0
    for item in magento.search_all("V1/orders", criteria, fields=COMMERCE_FIELDS):
        ext = item.get("ext_order_id")
        if ext and AMAZON_ORDER_ID.match(str(ext)):
            by_amazon_id.setdefault(str(ext), []).append(item)
            commerce_count += 1

    findings: list[Finding] = []
    with runtime.db.session() as session:
        states = dict(session.execute(
            select(AmazonOrderRecord.amazon_order_id, AmazonOrderRecord.import_state)
            .where(AmazonOrderRecord.store_id == store_id)
        ).all())
        known = set(states)
        missing_ids = [i for i in amazon_orders if i not in by_amazon_id]
        # Commerce orders created before `since` for orders placed in the period: ask by id.
        if missing_ids:
            for ext, ref in magento.find_orders_by_ext_order_ids(missing_ids).items():
                by_amazon_id.setdefault(ext, []).append({"entity_id": ref.entity_id, "state": ref.state,
                                                         "status": ref.status, "ext_order_id": ext})
        for amazon_order_id, (order, _raw) in sorted(amazon_orders.items()):
            commerce = by_amazon_id.get(amazon_order_id, [])
            if not commerce:
                decision = decide(order, settings)
                state = states.get(amazon_order_id)
                if decision.state is ImportState.QUEUED and state != ImportState.QUEUED.value:
                    # (A queued order is being imported right now: not a finding.)
                    known_as = "not listed by the bridge" if state is None else f"the bridge has it as {state}"
                    findings.append(Finding("missing_in_commerce", amazon_order_id, None,
                                            f"Amazon status {order.status.value}, placed {order.purchase_date:%Y-%m-%d}"
                                            f"; no Commerce order; {known_as}"))
                continue
            first = commerce[0]
            if order.status.value == "Canceled" and first.get("state") != "canceled":
                findings.append(Finding("status_differs", amazon_order_id, int(first["entity_id"]),
                                        f"Amazon: Canceled; Commerce: {first.get('state')}"))
            total = _decimal(first.get("grand_total"))
            if total is not None and total != order.order_total:
                findings.append(Finding("total_differs", amazon_order_id, int(first["entity_id"]),
                                        f"Amazon {order.order_total} {order.currency}; Commerce {total}"))
        for ext, items in sorted(by_amazon_id.items()):
            if len(items) > 1:
                ids = ", ".join(str(i["entity_id"]) for i in items)
                findings.append(Finding("duplicate", ext, int(items[1]["entity_id"]),
                                        f"{len(items)} Commerce orders for one Amazon order: {ids}"))
            if ext not in known and ext not in amazon_orders:
                findings.append(Finding("unknown_to_bridge", ext, int(items[0]["entity_id"]),
                                        "a Commerce order with an Amazon order id this store never listed "
                                        "(another store, or created by hand)"))

    fixed: set[str] = set()
    if fix:
        missing = [f.amazon_order_id for f in findings if f.kind == "missing_in_commerce" and f.amazon_order_id]
        if missing:
            with runtime.db.session() as session:
                upsert_orders(session, store_id, [amazon_orders[i] for i in missing], settings)
                for record in session.scalars(select(AmazonOrderRecord).where(
                        AmazonOrderRecord.store_id == store_id, AmazonOrderRecord.amazon_order_id.in_(missing))):
                    if record.import_state in (ImportState.QUEUED.value, ImportState.ERROR.value):
                        record.next_attempt_at = None
                        add_event(record, "retry", "Re-queued by reconcile: no Commerce order found.", "reconcile")
                        fixed.add(record.amazon_order_id)
    return findings, len(amazon_orders), commerce_count, fixed


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
