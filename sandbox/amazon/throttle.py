"""Amazon's usage plans: one token bucket per (seller, operation), rate and burst from the models."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # tokens per second
    burst: int


# Default usage plans, from each operation's model description (sp-api.md §1.1, §2, §3.4).
USAGE_PLANS: dict[str, UsagePlan] = {
    # Orders v2026-01-01
    "searchOrders": UsagePlan(0.0056, 20),
    "getOrder": UsagePlan(0.5, 30),
    # Orders v0
    "getOrders": UsagePlan(0.0167, 20),
    "getOrderV0": UsagePlan(0.5, 30),
    "getOrderBuyerInfo": UsagePlan(0.5, 30),
    "getOrderAddress": UsagePlan(0.5, 30),
    "getOrderItems": UsagePlan(0.5, 30),
    "confirmShipment": UsagePlan(2.0, 10),
    # Tokens 2021-03-01
    "createRestrictedDataToken": UsagePlan(1.0, 10),
    # Feeds 2021-06-30
    "createFeedDocument": UsagePlan(0.5, 15),
    "createFeed": UsagePlan(0.0083, 15),
    "getFeed": UsagePlan(2.0, 15),
    "getFeeds": UsagePlan(0.0222, 10),
    "cancelFeed": UsagePlan(2.0, 15),
    "getFeedDocument": UsagePlan(0.0222, 10),
}


class TokenBucket:
    """Starts full; refills `rate` tokens per second up to `burst`; a call takes one token."""

    def __init__(self, plan: UsagePlan, now: float) -> None:
        self.plan = plan
        self.tokens = float(plan.burst)
        self.updated = now

    def take(self, now: float, rate: float) -> bool:
        if now > self.updated:
            self.tokens = min(float(self.plan.burst), self.tokens + (now - self.updated) * rate)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Throttle:
    """All buckets of a twin, on the twin's clock so that `advance_clock` refills them too."""

    def __init__(self, clock: Callable[[], float], rate_scale: float = 1.0) -> None:
        self._clock = clock
        self.rate_scale = rate_scale
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def rate(self, operation: str) -> float:
        return USAGE_PLANS[operation].rate * self.rate_scale

    def rate_header(self, operation: str) -> str:
        """The `x-amzn-RateLimit-Limit` value: the applied rate in requests per second."""
        return format(round(self.rate(operation), 6), "g")

    def allow(self, seller_id: str, operation: str) -> bool:
        plan = USAGE_PLANS[operation]
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get((seller_id, operation))
            if bucket is None:
                bucket = self._buckets[(seller_id, operation)] = TokenBucket(plan, now)
            return bucket.take(now, self.rate(operation))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
