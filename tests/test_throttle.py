"""The Redis-shared token bucket, against a real Redis (the run's private one, a key prefix per test).

No test sleeps: acquire is given a recording `sleep`, and the script reports Redis' own time, so each
grant's `allowed_at` is exact and the bucket invariant can be checked without a stopwatch.
"""

from __future__ import annotations

import itertools
import uuid

import pytest
import redis

from bridge.amazon.throttle import DEFAULT_PLANS, RedisThrottle

_REDIS_URL = ""


def _redis_url() -> str:
    """The run's private Redis (set by the `prefix` fixture every test here uses)."""
    return _REDIS_URL


@pytest.fixture
def prefix(redis_url):
    global _REDIS_URL
    _REDIS_URL = redis_url
    name = f"test:throttle:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(_redis_url())
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)


def _throttle(prefix, **kwargs):
    slept: list[float] = []
    throttle = RedisThrottle(redis.Redis.from_url(_redis_url()), prefix=prefix, sleep=slept.append, **kwargs)
    return throttle, slept


def test_two_processes_sharing_a_bucket_never_exceed_burst_plus_rate_times_t(prefix):
    rate, burst = 2.0, 5
    plans = {"op": (rate, burst)}
    a, slept_a = _throttle(prefix, plans=plans)
    b, slept_b = _throttle(prefix, plans=plans)  # its own connection: another worker process
    grants = []
    for i in range(30):
        grants.append((a if i % 2 else b).acquire("SELLER", "op"))
    assert all(g.granted for g in grants)
    start = min(g.redis_now for g in grants)
    allowed = sorted(g.allowed_at for g in grants)
    for n, at in enumerate(allowed, start=1):
        assert n <= burst + rate * (at - start) + 1e-6, (n, at - start)
    # Only the burst went through at once; the rest were spread at `rate`.
    assert sum(1 for g in grants if g.wait == 0) <= burst + 1
    assert allowed[-1] - start >= (30 - burst - 1) / rate
    assert len(slept_a) + len(slept_b) >= 30 - burst - 1


def test_a_wait_beyond_the_bound_is_refused_and_takes_no_token(prefix):
    throttle, slept = _throttle(prefix)
    rate, burst = DEFAULT_PLANS["searchOrders"]
    for _ in range(burst):
        assert throttle.acquire("S1", "searchOrders").wait == 0
    refused = throttle.acquire("S1", "searchOrders", max_wait=10)
    assert not refused.granted
    assert refused.wait == pytest.approx(1 / rate, rel=0.05)
    assert slept == []
    # The refusal reserved nothing: the next caller waits one interval, not two.
    nxt = throttle.try_acquire("S1", "searchOrders")
    assert nxt.granted
    assert nxt.wait == pytest.approx(1 / rate, rel=0.05)


def test_buckets_are_per_seller_and_per_operation(prefix):
    throttle, _ = _throttle(prefix, plans={"op": (1.0, 1), "other": (1.0, 1)})
    assert throttle.try_acquire("S1", "op").wait == 0
    assert throttle.try_acquire("S1", "op").wait > 0.5
    assert throttle.try_acquire("S2", "op").wait == 0
    assert throttle.try_acquire("S1", "other").wait == 0


def test_rate_limit_header_updates_the_rate_for_every_worker(prefix):
    a, _ = _throttle(prefix)
    b, _ = _throttle(prefix)
    _rate, burst = DEFAULT_PLANS["getOrder"]
    assert a.update_rate("S1", "getOrder", "5.0") == 5.0
    assert b.current_rate("S1", "getOrder") == 5.0
    # What the bucket decided, not the clock: once the burst is spent, each grant is allowed exactly one
    # interval of the new rate after the one before (however slowly this machine makes the calls).
    grants = [b.try_acquire("S1", "getOrder") for _ in range(burst + 10)]
    waited = [g for g in grants if g.wait > 0]
    steps = [later.allowed_at - earlier.allowed_at for earlier, later in zip(waited, waited[1:], strict=False)]
    assert len(steps) >= 5
    assert all(step == pytest.approx(1 / 5.0, abs=2e-3) for step in steps)  # not 1 / 0.5
    # Garbage or missing headers change nothing.
    assert a.update_rate("S1", "getOrder", "fast") is None
    assert a.update_rate("S1", "getOrder", None) is None
    assert a.update_rate("S1", "getOrder", "-1") is None
    assert a.current_rate("S1", "getOrder") == 5.0


def test_rate_scale_compresses_time(prefix):
    """Scaled by 100, the bucket hands out reservations 1/(rate x 100) apart (unscaled they would be 2 s
    apart): read from the grants' Redis times, not from a stopwatch, so a loaded machine can't break it."""
    throttle, _ = _throttle(prefix, rate_scale=100)
    rate, burst = DEFAULT_PLANS["getOrder"]
    for _ in range(burst):
        throttle.try_acquire("S1", "getOrder")
    assert throttle.plan("getOrder") == (rate * 100, burst)
    reserved = [throttle.try_acquire("S1", "getOrder") for _ in range(100)]
    assert all(grant.granted for grant in reserved)
    assert reserved[-1].wait > 0  # 100 tokens ahead of the refill: the last one is a reservation
    gaps = [later.allowed_at - earlier.allowed_at for earlier, later in itertools.pairwise(reserved[-50:])]
    assert gaps == pytest.approx([1 / (rate * 100)] * len(gaps), abs=5e-6)


def test_drain_after_a_429_makes_the_next_call_wait(prefix):
    throttle, _ = _throttle(prefix)
    rate, _burst = DEFAULT_PLANS["confirmShipment"]
    assert throttle.try_acquire("S1", "confirmShipment").wait == 0
    throttle.drain("S1", "confirmShipment")
    assert throttle.try_acquire("S1", "confirmShipment").wait == pytest.approx(1 / rate, rel=0.05)


def test_unknown_operation_is_a_clear_error(prefix):
    throttle, _ = _throttle(prefix)
    with pytest.raises(ValueError, match="no usage plan"):
        throttle.try_acquire("S1", "makeCoffee")
