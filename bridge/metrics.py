"""Prometheus metrics that hold across processes.

RQ runs each job in a forked work-horse that exits afterwards, so in-process counters would vanish. Call
counters (Amazon and Magento) are therefore kept in one Redis hash that every process increments, and
everything else is read at scrape time from the database, which already knows it (orders by state,
import latency, seconds since the last good sync). `/metrics` in the admin app serves both, plus RQ's
queue depths and failed jobs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from redis import Redis, RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

COUNTERS_KEY = "amazon-bridge:metrics:counters"
LATENCY_BUCKETS = (60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0, float("inf"))
_redis = None


def configure(url: str) -> None:
    """Counters go to this Redis (set by the Runtime when it opens its connection). Short timeouts: a
    Redis outage must not slow every Amazon or Magento call down."""
    global _redis
    import redis

    _redis = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.2)


def incr(name: str, **labels: str) -> None:
    """Count one event; never fails the caller (metrics are not worth a failed import)."""
    if _redis is None:
        return
    try:
        _redis.hincrby(COUNTERS_KEY, json.dumps([name, labels], sort_keys=True), 1)
    except RedisError:  # Redis down is reported elsewhere
        log.debug("metrics: could not count %s", name)


def amazon_call(operation: str, status: int | str | None) -> None:
    incr("amazon_calls", operation=operation, status=str(status or "error"))


def magento_call(endpoint: str, status: int | str | None) -> None:
    incr("magento_calls", endpoint=endpoint, status=str(status or "error"))


def error_reason(last_error: str | None) -> str:
    """A short, bounded label for why an order waits in error."""
    text = (last_error or "").lower()
    if "does not exist" in text and "product" in text:
        return "unknown_sku"
    if "not salable" in text or "out of stock" in text:
        return "not_salable"
    if "authorized" in text or "credentials" in text or "refused" in text and "magento" in text:
        return "magento_refused"
    if "cannot be reached" in text or "connection" in text or "timed out" in text or "timeout" in text:
        return "magento_unreachable"
    if "cannot read this order" in text or "amazon" in text:
        return "amazon_data"
    if "cannot create sales order" in text:
        return "magento_validation"
    return "other"


def counter_families(redis: Redis) -> Iterator[Metric]:
    amazon = CounterMetricFamily("amazon_bridge_amazon_calls", "SP-API requests sent, by operation and HTTP status "
                                 "(429 = throttled)", labels=["operation", "status"])
    magento = CounterMetricFamily("amazon_bridge_magento_calls", "Magento REST requests, by endpoint and HTTP "
                                  "status (error = no answer)", labels=["endpoint", "status"])
    for field, value in (redis.hgetall(COUNTERS_KEY) or {}).items():
        try:
            name, labels = json.loads(field)
        except ValueError:
            continue
        if name == "amazon_calls":
            amazon.add_metric([labels.get("operation", ""), labels.get("status", "")], int(value))
        elif name == "magento_calls":
            magento.add_metric([labels.get("endpoint", ""), labels.get("status", "")], int(value))
    yield amazon
    yield magento


def database_families(session: Session, *, schedule: str) -> Iterator[Metric]:
    from bridge.domain import ImportState
    from bridge.health import store_health
    from bridge.service import import_counts_by_store
    from bridge.storage.models import AmazonOrderRecord, OrderEvent, Store, utcnow

    codes = dict(session.execute(select(Store.id, Store.code)).all())
    orders = GaugeMetricFamily("amazon_bridge_orders", "Amazon orders by store and import state",
                               labels=["store", "state"])
    for store_id, states in import_counts_by_store(session).items():
        for state, n in states.items():
            orders.add_metric([codes.get(store_id, str(store_id)), state], n)
    yield orders

    failed = GaugeMetricFamily("amazon_bridge_orders_in_error", "Orders that cannot be imported, by store and "
                               "reason", labels=["store", "reason"])
    reasons: dict[tuple[str, str], int] = {}
    for store_id, last_error in session.execute(
        select(AmazonOrderRecord.store_id, AmazonOrderRecord.last_error)
        .where(AmazonOrderRecord.import_state == ImportState.ERROR.value)
    ):
        key = (codes.get(store_id, str(store_id)), error_reason(last_error))
        reasons[key] = reasons.get(key, 0) + 1
    for (store, reason), n in sorted(reasons.items()):
        failed.add_metric([store, reason], n)
    yield failed

    # Import latency: from the first time the bridge saw the order to its Commerce order, last 24 hours.
    since = utcnow() - timedelta(hours=24)
    latency = HistogramMetricFamily("amazon_bridge_import_latency_seconds", "Seconds from an order's arrival in "
                                    "the bridge to its Commerce order (imports of the last 24 hours)",
                                    labels=["store"])
    per_store: dict[str, list[float]] = {}
    for store_id, received, imported in session.execute(
        select(AmazonOrderRecord.store_id, AmazonOrderRecord.created_at, OrderEvent.at)
        .join(OrderEvent, OrderEvent.order_id == AmazonOrderRecord.id)
        .where(OrderEvent.kind == "imported", OrderEvent.at >= since)
    ):
        per_store.setdefault(codes.get(store_id, str(store_id)), []).append(
            max((imported - received).total_seconds(), 0.0))
    for store, values in per_store.items():
        buckets = [(("+Inf" if b == float("inf") else str(b)), sum(v <= b for v in values)) for b in LATENCY_BUCKETS]
        latency.add_metric([store], buckets, sum(values))
    yield latency

    since_sync = GaugeMetricFamily("amazon_bridge_seconds_since_last_good_sync", "Seconds since the store's last "
                                   "successful sync (-1: never)", labels=["store"])
    degraded = GaugeMetricFamily("amazon_bridge_store_degraded", "1 while the store's sync is failing or stale",
                                 labels=["store", "side"])
    now = utcnow()
    for h in store_health(session, schedule=schedule, now=now):
        since_sync.add_metric([h.store_code], (now - h.last_ok_at).total_seconds() if h.last_ok_at else -1)
        degraded.add_metric([h.store_code, h.side or ""], 1 if h.degraded else 0)
    yield since_sync
    yield degraded
