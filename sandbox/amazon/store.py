"""The twin's state: orders per seller, tokens, feed documents, feeds, refunds and call statistics.

One re-entrant lock guards it all; the werkzeug server is threaded and the bridge calls concurrently.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .clock import TwinClock, iso, parse_iso
from .config import AmazonTwinConfig
from .faults import FaultInjector, FaultSettings
from .order_index import SortedOrders
from .static_examples import StaticExamples
from .throttle import Throttle


@dataclass
class AccessToken:
    token: str
    client_id: str
    seller_id: str | None  # None for grantless (client_credentials) tokens
    expires_at: datetime
    scope: str | None = None
    # Restricted Data Token: the resources ({method, path, dataElements}) it unlocks; None for LWA tokens
    resources: list[dict] | None = None


@dataclass
class Document:
    document_id: str
    seller_id: str
    content_type: str
    created_at: datetime
    url_expires_at: datetime
    kind: str = "input"  # "input" (uploaded by the caller) or "result" (processing report)
    data: bytes | None = None
    compression: str | None = None  # "GZIP" when `data` is gzip-compressed


@dataclass
class Feed:
    feed_id: str
    seller_id: str
    feed_type: str
    marketplace_ids: list[str]
    input_document_id: str
    created_at: datetime
    start_at: datetime
    end_at: datetime
    feed_options: dict[str, str] = field(default_factory=dict)
    cancelled_at: datetime | None = None
    outcome: str | None = None  # "DONE" or "FATAL" once processed
    result_document_id: str | None = None

    def status(self, now: datetime) -> str:
        if self.cancelled_at is not None:
            return "CANCELLED"
        if self.outcome is not None:
            return self.outcome
        if now < self.start_at:
            return "IN_QUEUE"
        return "IN_PROGRESS"


class TwinState:
    """Everything one running twin knows. Flask routes reach it through `current_state()`."""

    def __init__(self, config: AmazonTwinConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clock = TwinClock()
        self.throttle = Throttle(self.clock.monotonic, config.rate_scale)
        self.faults = FaultInjector(self.initial_faults())
        self.examples = StaticExamples()
        self.secret = secrets.token_bytes(32)  # signs pagination tokens and document URLs
        self.orders: dict[str, dict[str, dict]] = {}
        self._sorted: dict[tuple[str, str], SortedOrders] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.documents: dict[str, Document] = {}
        self.feeds: dict[str, Feed] = {}
        self.adjustments: list[dict] = []
        self.acknowledgements: list[dict] = []
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()
        self._feed_seq = 50001000000 + secrets.randbelow(1000000) * 1000
        if config.data_path:
            self._load(Path(config.data_path))

    def initial_faults(self) -> FaultSettings:
        c = self.config
        return FaultSettings(seed=c.seed, rate_429=c.rate_429, rate_500=c.rate_500, rate_503=c.rate_503,
                             rate_timeout=c.rate_timeout, timeout_seconds=c.timeout_seconds)

    # -- orders ---------------------------------------------------------------------------------------
    def seller_orders(self, seller_id: str) -> dict[str, dict]:
        return self.orders.setdefault(seller_id, {})

    def sorted_orders(self, seller_id: str, mode: str) -> SortedOrders:
        """searchOrders' index of the seller's orders by creation or last update (`query.SortedOrders`)."""
        key = (seller_id, mode)
        if key not in self._sorted:
            self._sorted[key] = SortedOrders("createdTime" if mode == "created" else "lastUpdatedTime")
        return self._sorted[key]

    def upsert_orders(self, seller_id: str, orders: list[dict], *, keep_last_updated: bool = False) -> int:
        now = iso(self.clock.now())
        with self.lock:
            bucket = self.seller_orders(seller_id)
            for order in orders:
                stored = copy.deepcopy(order)
                if not keep_last_updated or not stored.get("lastUpdatedTime"):
                    stored["lastUpdatedTime"] = now
                bucket[stored["orderId"]] = stored
            self.save()
        return len(orders)

    def touch(self, order: dict) -> None:
        """Record that Amazon or the seller changed the order now."""
        order["lastUpdatedTime"] = iso(self.clock.now())

    def find_order(self, seller_id: str, order_id: str) -> dict | None:
        return self.orders.get(seller_id, {}).get(order_id)

    # -- persistence ----------------------------------------------------------------------------------
    def _load(self, path: Path) -> None:
        if not path.exists():
            return
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, list):
            data = {self.config.default_seller_id: data}
        for seller_id, orders in data.items():
            self.seller_orders(seller_id).update({o["orderId"]: o for o in orders})

    def save(self) -> None:
        if not self.config.data_path:
            return
        with self.lock:
            payload = {seller: list(orders.values()) for seller, orders in self.orders.items()}
            path = Path(self.config.data_path)
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)

    def reset(self) -> None:
        with self.lock:
            self.orders.clear()
            self.documents.clear()
            self.feeds.clear()
            self.adjustments.clear()
            self.acknowledgements.clear()
            self.calls.clear()
            self.throttled.clear()
            self.faults_served.clear()
            self.throttle.reset()
            self.clock.reset()
            self.faults.configure(self.initial_faults())
            self.save()

    # -- feeds ----------------------------------------------------------------------------------------
    def next_feed_id(self) -> str:
        with self.lock:
            self._feed_seq += 1
            return str(self._feed_seq)


def order_created(order: dict) -> datetime:
    return parse_iso(order["createdTime"])


def order_updated(order: dict) -> datetime:
    return parse_iso(order["lastUpdatedTime"])
