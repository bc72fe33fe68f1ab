"""`AmazonClient` against the Amazon twin over real HTTP, with the real Redis (database 15).

Nothing here waits on a stopwatch: the client's `sleep` advances the twin's clock instead of sleeping,
so Amazon's buckets (on the twin's clock) refill exactly as much as the client waited, and rate-limit
behaviour is checked through the twin's stats and the waits the client asked for.
"""

from __future__ import annotations

import json
import logging
import socket
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis

from bridge.amazon.client import AmazonClient, jsonable
from bridge.amazon.errors import (
    AmazonAuthError,
    AmazonError,
    AmazonInvalidInput,
    AmazonNotFound,
    AmazonServerError,
    AmazonThrottled,
)
from bridge.amazon.feeds import (
    ORDER_ACKNOWLEDGEMENT,
    PAYMENT_ADJUSTMENT,
    CancelRequest,
    ItemAdjustment,
    RefundRequest,
    build_cancel_feed,
    build_refund_feed,
)
from bridge.config import AmazonSettings
from bridge.domain import AmazonStatus
from bridge.retry import AMAZON_RETRY, RetryPolicy

US = "ATVPDKIKX0DER"
SCALE = 100.0


_REDIS_URL = ""


def _retry(**changes) -> RetryPolicy:
    """The Amazon client's default policy with some bounds changed."""
    return replace(AMAZON_RETRY, **changes)


def _redis_url() -> str:
    """The run's private Redis (set by the `prefix` fixture every test here uses)."""
    return _REDIS_URL


@pytest.fixture
def prefix(redis_url):
    global _REDIS_URL
    _REDIS_URL = redis_url
    name = f"test:amazon-client:{uuid.uuid4().hex}"
    yield name
    conn = redis.Redis.from_url(_redis_url())
    keys = list(conn.scan_iter(f"{name}:*"))
    if keys:
        conn.delete(*keys)
    conn.close()


@pytest.fixture
def twin():
    from sandbox.amazon.testing import start_amazon_twin

    running = start_amazon_twin(rate_scale=SCALE, seed=7)
    yield running
    running.stop()


class Sleeper:
    """The client's `sleep`: records every wait and moves the twin's clock by it."""

    def __init__(self, twin) -> None:
        self.twin = twin
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if seconds > 0:
            self.twin.advance_clock(seconds)

    @property
    def total(self) -> float:
        return sum(self.waits)


def _settings(twin, **overrides) -> AmazonSettings:
    settings = AmazonSettings(
        region="NA",
        endpoint=twin.url,
        oauth_endpoint=twin.lwa_url,
        client_id=twin.config.client_id,
        client_secret=twin.config.client_secret,
        timeout_seconds=10.0,
    )
    return replace(settings, **overrides)


def _client(twin, prefix, *, settings=None, refresh_token=None, rate_scale=SCALE, sleep=None, retry=None):
    return AmazonClient(
        settings or _settings(twin),
        refresh_token=refresh_token or twin.refresh_token,
        seller_id=twin.seller_id,
        marketplace_ids=[US],
        redis=redis.Redis.from_url(_redis_url()),  # its own connection, as in another worker process
        rate_scale=rate_scale,
        sleep=sleep or Sleeper(twin),
        retry=retry,
        key_prefix=prefix,
    )


def _seed(twin, count=7, **kwargs):
    from sandbox.amazon.generator import generate_catalog, generate_orders

    orders = generate_orders(count, 3, generate_catalog(3, 12), marketplaces=("US",), **kwargs)
    twin.seed_orders(orders)
    twin.advance_clock(180)  # searchOrders only sees orders updated more than two minutes ago
    return orders


def _since() -> datetime:
    return datetime.now(UTC) - timedelta(days=5)


# ------------------------------------------------------------------------------------------------ LWA


def test_token_is_fetched_once_and_shared_through_redis(twin, prefix):
    seeded = _seed(twin, 2)
    first = _client(twin, prefix)
    second = _client(twin, prefix)  # a fresh work-horse: no in-process cache
    first.search_orders(last_updated_after=_since())
    second.search_orders(last_updated_after=_since())
    second.get_order(seeded[0]["orderId"])
    assert first.token_cache.requests_made == 1
    assert second.token_cache.requests_made == 0
    conn = redis.Redis.from_url(_redis_url())
    ttl = conn.ttl(first.token_cache.key)
    assert 3400 < ttl <= 3540  # expires_in (3600) - 60
    assert twin.refresh_token not in first.token_cache.key  # keyed by a hash, never the token itself


def test_a_token_amazon_no_longer_accepts_is_refreshed_once(twin, prefix):
    client = _client(twin, prefix)
    client.search_orders(last_updated_after=_since())
    twin.advance_clock(3700)  # the twin now says 403 "expired"; Redis still holds the token (real time)
    client.search_orders(last_updated_after=_since())
    assert client.token_cache.requests_made == 2


def test_bad_refresh_token_is_an_auth_error_at_once(twin, prefix):
    sleeper = Sleeper(twin)
    client = _client(twin, prefix, refresh_token="Atzr|not-a-real-token", sleep=sleeper)
    with pytest.raises(AmazonAuthError) as info:
        client.search_orders(last_updated_after=_since())
    assert "invalid_grant" in str(info.value)
    assert "Atzr|not-a-real-token" not in str(info.value)
    assert sleeper.waits == []  # no retries, no back-off on a wrong credential
    assert twin.stats()["calls"] == {}  # SP-API never reached


def test_bad_client_secret_is_an_auth_error(twin, prefix):
    client = _client(twin, prefix, settings=_settings(twin, client_secret="wrong"))
    with pytest.raises(AmazonAuthError, match="invalid_client"):
        client.get_order("111-0000000-0000000")


def test_missing_credentials_fail_before_any_call(twin, prefix):
    with pytest.raises(AmazonAuthError, match="AMAZON_LWA_CLIENT_ID"):
        _client(twin, prefix, settings=_settings(twin, client_id=""))


# ------------------------------------------------------------------------------------------- Orders API


def test_search_orders_pages_through_every_order(twin, prefix):
    seeded = {o["orderId"]: o for o in _seed(twin, 7)}
    client = _client(twin, prefix)
    seen, token, pages = [], None, 0
    since = _since()  # one query: Amazon refuses a next token with other criteria than its first page's
    while True:
        page = client.search_orders(last_updated_after=since, pagination_token=token, page_size=3)
        pages += 1
        assert len(page.orders) == len(page.raw) and page.rejected == []
        for order, raw in zip(page.orders, page.raw, strict=True):
            assert order.amazon_order_id == raw["orderId"]
            assert order.order_total == Decimal(str(raw["proceeds"]["grandTotal"]["amount"]))
            assert order.items_total == order.order_total
            assert isinstance(raw["proceeds"]["grandTotal"]["amount"], str)
        seen.extend(o.amazon_order_id for o in page.orders)
        json.dumps(page.raw)  # storable as is
        assert page.last_updated_before is not None
        token = page.next_token
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted(seeded)
    assert twin.stats()["calls"]["searchOrders"] == 3


def test_search_orders_with_an_upper_bound_and_naive_dates_refused(twin, prefix):
    _seed(twin, 3)
    client = _client(twin, prefix)
    page = client.search_orders(last_updated_after=_since(), last_updated_before=_since() + timedelta(seconds=1))
    assert page.orders == []
    with pytest.raises(ValueError, match="timezone-aware"):
        client.search_orders(last_updated_after=datetime(2026, 1, 1))


def test_get_order_and_its_errors(twin, prefix):
    seeded = _seed(twin, 2)
    client = _client(twin, prefix)
    order, raw = client.get_order_with_raw(seeded[0]["orderId"])
    assert order.amazon_order_id == raw["orderId"] == seeded[0]["orderId"]
    assert client.get_order(seeded[1]["orderId"]).amazon_order_id == seeded[1]["orderId"]
    with pytest.raises(AmazonNotFound):
        client.get_order("111-9999999-9999999")
    with pytest.raises(AmazonInvalidInput) as info:
        client.get_order("TEST_CASE_400")  # Amazon's sandbox example
    assert info.value.errors and info.value.errors[0]["code"] == "InvalidInput"
    assert info.value.status == 400


def test_rate_limit_header_is_learned(twin, prefix):
    seeded = _seed(twin, 1)
    client = _client(twin, prefix, rate_scale=1.0)  # defaults unscaled, the twin runs 100x
    assert client.throttle.current_rate(twin.seller_id, "getOrder") == 0.5
    client.get_order(seeded[0]["orderId"])
    assert client.throttle.current_rate(twin.seller_id, "getOrder") == pytest.approx(0.5 * SCALE)


def test_sandbox_example_order_maps(twin, prefix):
    client = _client(twin, prefix)
    # Matches a static x-amzn-api-sandbox example (its exact includedData, as Amazon's sandbox requires).
    order = client.get_order("114-9876543-1234567", included_data=("RECIPIENT", "PROCEEDS", "FULFILLMENT"))
    assert order.order_total == Decimal("49.99") and order.status is AmazonStatus.UNSHIPPED


def test_confirm_shipment_ships_the_order(twin, prefix):
    seeded = _seed(twin, 12)
    unshipped = next(
        o
        for o in seeded
        if o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED" and o["fulfillment"]["fulfilledBy"] == "MERCHANT"
    )
    client = _client(twin, prefix)
    client.confirm_shipment(
        unshipped["orderId"],
        marketplace_id=US,
        package_reference_id="1",
        carrier_code="UPS",
        carrier_name="UPS",
        shipping_method="UPS Ground",
        tracking_number="1Z999AA10123456784",
        ship_date=datetime.now(UTC) - timedelta(hours=1),
        items=[(i["orderItemId"], i["quantityOrdered"]) for i in unshipped["orderItems"]],
    )
    order = client.get_order(unshipped["orderId"])
    assert order.status is AmazonStatus.SHIPPED
    assert order.items_unshipped == 0
    assert any(p.tracking_number == "1Z999AA10123456784" for p in order.packages)
    with pytest.raises(AmazonError) as info:
        client.confirm_shipment(
            "111-9999999-9999999",
            marketplace_id=US,
            package_reference_id="1",
            carrier_code="UPS",
            tracking_number="1Z",
            ship_date=datetime.now(UTC),
            items=[("1", 1)],
        )
    assert isinstance(info.value, AmazonNotFound | AmazonInvalidInput)


# ------------------------------------------------------------------------------------------------ feeds


def test_cancel_feed_round_trip_with_processing_report(twin, prefix):
    seeded = _seed(twin, 15)
    mfn = [o for o in seeded if o["fulfillment"]["fulfilledBy"] == "MERCHANT"]
    unshipped = next(o for o in mfn if o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED")
    shipped = next(o for o in mfn if o["fulfillment"]["fulfillmentStatus"] == "SHIPPED")
    client = _client(twin, prefix)
    feed = build_cancel_feed(
        twin.seller_id,
        [
            CancelRequest(unshipped["orderId"], [i["orderItemId"] for i in unshipped["orderItems"]], "NoInventory"),
            CancelRequest(shipped["orderId"], [i["orderItemId"] for i in shipped["orderItems"]], "BuyerCanceled"),
        ],
    )
    feed_id = client.submit_feed(ORDER_ACKNOWLEDGEMENT, feed)
    status = client.get_feed(feed_id)
    assert status.feed_type == ORDER_ACKNOWLEDGEMENT and status.processing_status in ("IN_QUEUE", "IN_PROGRESS")
    status = client.wait_for_feed(feed_id)
    assert status.processing_status == "DONE" and status.result_feed_document_id
    report = client.get_processing_report(status.result_feed_document_id)
    assert (report.processed, report.successful, report.with_error) == (2, 1, 1)
    (error,) = report.results
    assert error.message_id == 2 and error.result_code == "Error"
    assert client.get_order(unshipped["orderId"]).status is AmazonStatus.CANCELED
    assert client.get_order(shipped["orderId"]).status is AmazonStatus.SHIPPED


def test_refund_feed_is_recorded(twin, prefix):
    seeded = _seed(twin, 15)
    shipped = next(
        o
        for o in seeded
        if o["fulfillment"]["fulfillmentStatus"] == "SHIPPED" and o["fulfillment"]["fulfilledBy"] == "MERCHANT"
    )
    item = shipped["orderItems"][0]
    client = _client(twin, prefix)
    feed = build_refund_feed(
        twin.seller_id,
        [
            RefundRequest(
                shipped["orderId"],
                "USD",
                [
                    ItemAdjustment(item["orderItemId"], "CustomerReturn", {"Principal": Decimal("1.00")}),
                ],
            )
        ],
    )
    status = client.wait_for_feed(client.submit_feed(PAYMENT_ADJUSTMENT, feed))
    report = client.get_processing_report(status.result_feed_document_id)
    assert report.successful == 1 and report.with_error == 0
    (adjustment,) = twin.adjustments()
    assert shipped["orderId"] in str(adjustment) and item["orderItemId"] in str(adjustment)


def test_feed_upload_must_use_the_same_content_type(twin, prefix):
    client = _client(twin, prefix)
    feed = build_cancel_feed(twin.seller_id, [CancelRequest("111-0000000-0000001", ["1"], "NoInventory")])
    feed_id = client.submit_feed(ORDER_ACKNOWLEDGEMENT, feed, content_type="text/xml; charset=UTF-8")
    assert client.get_feed(feed_id).feed_id == feed_id


# -------------------------------------------------------------------------------- throttling and retry


def test_the_shared_bucket_keeps_two_workers_under_amazons_limit(twin, prefix):
    """At the twin's real rate (scale 1): 20 searches spend the burst; the 21st, from another worker,
    waits ~1/0.0056 s for the shared bucket instead of drawing a 429."""
    from sandbox.amazon.testing import start_amazon_twin

    slow = start_amazon_twin(rate_scale=1.0)
    try:
        a_sleep, b_sleep = Sleeper(slow), Sleeper(slow)
        a = _client(slow, prefix, rate_scale=1.0, sleep=a_sleep)
        b = _client(slow, prefix, rate_scale=1.0, sleep=b_sleep)
        for _ in range(20):
            a.search_orders(last_updated_after=_since())
        assert a_sleep.waits == []
        b.search_orders(last_updated_after=_since())
        assert b_sleep.total == pytest.approx(1 / 0.0056, rel=0.05)
        stats = slow.stats()
        assert stats["calls"]["searchOrders"] == 21 and stats["throttledTotal"] == 0
    finally:
        slow.stop()


def test_a_429_storm_slows_down_but_succeeds(twin, prefix):
    seeded = _seed(twin, 3)
    calm = Sleeper(twin)
    client = _client(twin, prefix, sleep=calm)
    for order in seeded:
        client.get_order(order["orderId"])
    assert calm.total == 0
    twin.set_faults(seed=3, rate_429=0.6)
    stormy = Sleeper(twin)
    client = _client(twin, prefix, sleep=stormy, retry=_retry(max_attempts=12))
    for _ in range(4):
        for order in seeded:
            assert client.get_order(order["orderId"]).amazon_order_id == order["orderId"]
    stats = twin.stats()
    assert stats["faults"].get("429", 0) > 0
    assert stormy.total > 0 and len(stormy.waits) >= stats["faults"]["429"]


def test_retries_exhausted_is_amazon_throttled(twin, prefix):
    twin.set_faults(rate_429=1.0)
    sleeper = Sleeper(twin)
    client = _client(twin, prefix, sleep=sleeper, retry=_retry(max_attempts=4))
    with pytest.raises(AmazonThrottled) as info:
        client.get_order("111-0000000-0000001")
    assert info.value.transient and info.value.status == 429
    assert twin.stats()["calls"]["getOrder"] == 4
    assert client.calls["getOrder"] == 4
    backoffs = sleeper.waits
    assert len(backoffs) >= 3  # back-off between attempts (plus waits for the drained bucket)


def test_total_wait_is_bounded(twin, prefix):
    twin.set_faults(rate_429=1.0)
    sleeper = Sleeper(twin)
    client = _client(twin, prefix, rate_scale=1.0, sleep=sleeper, retry=_retry(max_attempts=50, max_total_wait=30))
    with pytest.raises(AmazonThrottled):
        client.get_order("111-0000000-0000001")
    assert sleeper.total <= 30


def test_server_errors_are_retried_then_reported(twin, prefix):
    seeded = _seed(twin, 1)
    twin.set_faults(seed=5, rate_500=0.5, rate_503=0.3)
    client = _client(twin, prefix, retry=_retry(max_attempts=15, max_outage_wait=600))  # ride out 80 % 5xx
    for _ in range(5):
        client.get_order(seeded[0]["orderId"])
    assert sum(twin.stats()["faults"].values()) > 0
    twin.set_faults(rate_503=1.0)
    with pytest.raises(AmazonServerError) as info:
        _client(twin, prefix, retry=_retry(max_attempts=3)).get_order(seeded[0]["orderId"])
    assert info.value.status == 503 and info.value.transient


def test_connection_refused_is_a_bounded_server_error(twin, prefix):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = f"http://127.0.0.1:{port}"
    sleeper = Sleeper(twin)
    client = _client(
        twin, prefix, settings=_settings(twin, endpoint=dead), sleep=sleeper, retry=_retry(max_attempts=3)
    )
    with pytest.raises(AmazonServerError):
        client.get_order("111-0000000-0000001")
    assert len(sleeper.waits) == 2


def test_read_timeouts_are_retried_for_reads(twin, prefix):
    seeded = _seed(twin, 1)
    twin.set_faults(rate_timeout=1.0, timeout_seconds=1.5)
    client = _client(twin, prefix, settings=_settings(twin, timeout_seconds=0.3), retry=_retry(max_attempts=2))
    client.token_cache.get_lwa_access_token()  # LWA is never faulted; make sure only SP-API times out
    with pytest.raises(AmazonServerError, match="ReadTimeout|connection"):
        client.get_order(seeded[0]["orderId"])
    assert client.calls["getOrder"] == 2


# ------------------------------------------------------------------------------------------------ logs


def test_no_secrets_or_buyer_data_in_logs(twin, prefix, caplog):
    seeded = _seed(twin, 3)
    caplog.set_level(logging.DEBUG)
    client = _client(twin, prefix)
    client.search_orders(last_updated_after=_since())
    client.get_order(seeded[0]["orderId"])
    token = redis.Redis.from_url(_redis_url()).get(client.token_cache.key).decode()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert token not in text
    assert twin.refresh_token not in text and twin.config.client_secret not in text
    for order in seeded:
        email = (order.get("buyer") or {}).get("buyerEmail")
        if email:
            assert email not in text
    assert logging.getLogger("spapi").getEffectiveLevel() >= logging.WARNING
    assert twin.refresh_token not in repr(client) + repr(client.token_cache)


# ------------------------------------------------------------------------------------- more edge cases


def test_workers_starting_together_ask_lwa_once(twin, prefix):
    import threading

    clients = [_client(twin, prefix) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    tokens: list[str] = []

    def fetch(client):
        barrier.wait()
        tokens.append(client.token_cache.get_lwa_access_token())

    threads = [threading.Thread(target=fetch, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(tokens) == 4 and len(set(tokens)) == 1
    assert sum(c.token_cache.requests_made for c in clients) == 1


def test_a_non_idempotent_call_is_not_repeated_after_the_request_went_out(twin, prefix):
    import urllib3

    client = _client(twin, prefix, retry=_retry(max_attempts=5, max_outage_wait=600))  # count attempts only
    attempts = []

    def lost_response(_api):
        attempts.append(1)
        raise urllib3.exceptions.ReadTimeoutError(None, "/feeds/2021-06-30/feeds", "read timed out")

    with pytest.raises(AmazonServerError, match="not retried"):
        client._call("createFeed", lost_response, idempotent=False)
    assert len(attempts) == 1
    with pytest.raises(AmazonServerError):
        client._call("getFeed", lost_response)
    assert len(attempts) == 1 + 5


def test_raw_json_is_storable_and_maps_the_same():
    from bridge.amazon.mapping import order_from_v2026

    text = (
        '{"orderId": "111-0000001-0000001", "createdTime": "2026-03-01T10:00:00Z",'
        ' "lastUpdatedTime": "2026-03-01T10:00:00Z", "salesChannel": {"channelName": "AMAZON"},'
        ' "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},'
        ' "proceeds": {"grandTotal": {"amount": 12345678901234567.99, "currencyCode": "USD"}},'
        ' "orderItems": [{"orderItemId": "1", "quantityOrdered": 1, "measurement": {"unit": "KILOGRAMS", "value": 1.5},'
        ' "product": {"sellerSku": "S", "price": {"unitPrice": {"amount": 12345678901234567.99,'
        ' "currencyCode": "USD"}}}}]}'
    )
    parsed = json.loads(text, parse_float=Decimal)
    raw = jsonable(parsed)
    assert json.loads(json.dumps(raw)) == raw
    assert raw["proceeds"]["grandTotal"]["amount"] == "12345678901234567.99"
    assert order_from_v2026(raw) == order_from_v2026(parsed)
    assert order_from_v2026(raw).order_total == Decimal("12345678901234567.99")


def test_gzip_processing_report_is_unpacked(twin, prefix, monkeypatch):
    """Amazon often serves processing reports GZIP-compressed (`compressionAlgorithm: GZIP`); the twin does
    not, so getFeedDocument's answer is substituted and the document is served by a local HTTP server."""
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bridge.amazon import client as client_module
    from tests.test_amazon_mapping_feeds import REPORT

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            body = gzip.compress(REPORT) if self.path == "/report.gz" else b"not gzip"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    client = _client(twin, prefix)
    answers = {
        "doc-gz": {"feedDocumentId": "doc-gz", "url": f"{base}/report.gz", "compressionAlgorithm": "GZIP"},
        "doc-bad": {"feedDocumentId": "doc-bad", "url": f"{base}/bad", "compressionAlgorithm": "GZIP"},
    }
    monkeypatch.setattr(
        client, "_call", lambda operation, invoke, context="", **kw: client_module._Response(200, {}, answers[context])
    )
    try:
        report = client.get_processing_report("doc-gz")
        assert (report.processed, report.with_error) == (3, 1)
        with pytest.raises(client_module.AmazonDataError, match="GZIP"):
            client.get_feed_document("doc-bad")
    finally:
        server.shutdown()
        server.server_close()
