"""Usage plans and faults on the Amazon twin: token buckets with Amazon's rate and burst, 429 bodies
without the rate header, refill over (scaled) time, per-seller buckets, and seeded, replayable faults."""

from __future__ import annotations

import time

import pytest
import requests

from sandbox.amazon.config import DEFAULT_REFRESH_TOKEN, DEFAULT_SELLER_ID
from sandbox.amazon.testing import SpClient, start_amazon_twin

QUOTA = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                     "details": ""}]}
GET_ORDER = "/orders/2026-01-01/orders/111-0000000-0000001"
SEARCH = "/orders/2026-01-01/orders"


@pytest.fixture
def twin():
    running = start_amazon_twin(refresh_tokens={DEFAULT_REFRESH_TOKEN: DEFAULT_SELLER_ID,
                                                "Atzr|second-seller": "A2SECONDSELLER"})
    yield running
    running.stop()


def test_get_order_burst_then_429_then_refill(twin):
    client = SpClient(twin)
    statuses = [client.get(GET_ORDER).status_code for _ in range(30)]
    assert statuses == [404] * 30  # burst 30 (unknown order, but served)
    throttled = client.get(GET_ORDER)
    assert throttled.status_code == 429
    assert throttled.json() == QUOTA
    assert "x-amzn-RateLimit-Limit" not in throttled.headers
    assert throttled.headers["x-amzn-RequestId"]
    twin.advance_clock(2)  # 0.5 tokens per second -> one token
    refilled = client.get(GET_ORDER)
    assert refilled.status_code == 404 and refilled.headers["x-amzn-RateLimit-Limit"] == "0.5"
    assert client.get(GET_ORDER).status_code == 429
    stats = twin.stats()
    assert stats["calls"]["getOrder"] == 33
    assert stats["throttled"]["getOrder"] == 2 and stats["throttledTotal"] == 2
    cleared = requests.delete(twin.url + "/_sandbox/stats", timeout=10).json()
    assert cleared == {"calls": {}, "throttled": {}, "throttledTotal": 0, "faults": {}}


def test_search_orders_burst_of_twenty_and_rate_header(twin):
    client = SpClient(twin)
    first = client.get(SEARCH, createdAfter="2026-01-01T00:00:00Z")
    assert first.status_code == 200 and first.headers["x-amzn-RateLimit-Limit"] == "0.0056"
    for _ in range(19):
        assert client.get(SEARCH, createdAfter="2026-01-01T00:00:00Z").status_code == 200
    assert client.get(SEARCH, createdAfter="2026-01-01T00:00:00Z").status_code == 429
    twin.advance_clock(60)  # 0.0056 × 60 = 0.34 tokens: still empty
    assert client.get(SEARCH, createdAfter="2026-01-01T00:00:00Z").status_code == 429
    twin.advance_clock(180)
    assert client.get(SEARCH, createdAfter="2026-01-01T00:00:00Z").status_code == 200


def test_buckets_are_per_seller_and_per_operation(twin):
    first, second = SpClient(twin), SpClient(twin, refresh_token="Atzr|second-seller")
    for _ in range(30):
        first.get(GET_ORDER)
    assert first.get(GET_ORDER).status_code == 429
    assert second.get(GET_ORDER).status_code == 404
    assert first.get("/orders/v0/orders/111-0000000-0000001").status_code == 404  # v0 getOrder: own bucket


def test_lwa_is_not_throttled(twin):
    for _ in range(40):
        SpClient(twin).token  # noqa: B018 - each access fetches a fresh token


def test_rate_scale_multiplies_rates():
    twin = start_amazon_twin(rate_scale=10)
    try:
        client = SpClient(twin)
        for _ in range(30):
            client.get(GET_ORDER)
        throttled = client.get(GET_ORDER)
        assert throttled.status_code == 429
        twin.advance_clock(0.2)  # 5 tokens per second at scale 10
        refilled = client.get(GET_ORDER)
        assert refilled.status_code == 404
        assert refilled.headers["x-amzn-RateLimit-Limit"] == "5"
    finally:
        twin.stop()


def _fault_run(twin, seed: int) -> list[int]:
    client = SpClient(twin)
    requests.post(twin.url + "/_sandbox/reset", timeout=10)
    twin.set_faults(seed=seed, rate_429=0.2, rate_500=0.2, rate_503=0.2)
    return [client.get("/orders/2026-01-01/orders/111-0000000-0000002").status_code for _ in range(25)]


def test_faults_are_reproducible_by_seed():
    twin = start_amazon_twin(rate_scale=1000)
    try:
        run = _fault_run(twin, 42)
        assert set(run) == {404, 429, 500, 503}
        assert _fault_run(twin, 42) == run
        other = _fault_run(twin, 43)
        assert other != run
        stats = twin.stats()  # counts since the last reset: the seed-43 run
        assert stats["faults"]["500"] == other.count(500) and stats["faults"]["503"] == other.count(503)
        assert stats["throttled"]["getOrder"] == other.count(429)
        client = SpClient(twin)
        twin.set_faults(rate_429=0, rate_500=1.0, rate_503=0)
        failed = client.get("/orders/2026-01-01/orders/111-0000000-0000002")
        assert failed.status_code == 500 and failed.json()["errors"][0]["code"] == "InternalFailure"
        assert "Traceback" not in failed.text
        assert requests.post(twin.url + "/_sandbox/faults", json={"rate_500": 2}, timeout=10).status_code == 400
        assert requests.post(twin.url + "/_sandbox/faults", json={"bogus": 1}, timeout=10).status_code == 400
        # LWA and the control API are never faulted.
        assert SpClient(twin).token
    finally:
        twin.stop()


def test_timeout_fault_delays_the_response():
    twin = start_amazon_twin(rate_timeout=1.0, timeout_seconds=0.4)
    try:
        client = SpClient(twin)
        started = time.monotonic()
        response = client.get(GET_ORDER)
        assert time.monotonic() - started >= 0.4
        assert response.status_code == 404
        with pytest.raises(requests.Timeout):
            client.http.get(twin.url + GET_ORDER, headers={"x-amz-access-token": client.token}, timeout=0.1)
    finally:
        twin.stop()


def test_unknown_route_and_method_get_json_errors(twin):
    client = SpClient(twin)
    r = client.get("/orders/2026-01-01/nothing-here")
    assert r.status_code == 404 and r.json()["errors"]
    r = client.request("PATCH", "/orders/2026-01-01/orders")
    assert r.status_code == 405 and r.json()["errors"]
